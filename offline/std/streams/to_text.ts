// Offline stand-in for part of @std/streams 1.1.2.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.

/**
 * Reads a stream to its end and returns its contents as one string. Byte
 * chunks are decoded as UTF-8 (a character split across chunks is joined).
 *
 * @param stream The stream to read.
 * @returns The text of the whole stream.
 */
export async function toText(
  stream: ReadableStream<string> | ReadableStream<Uint8Array>,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream as ReadableStream<string | Uint8Array>) {
    text += typeof chunk === "string"
      ? chunk
      : decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}
