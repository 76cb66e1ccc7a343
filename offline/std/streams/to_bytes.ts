// Offline stand-in for part of @std/streams 1.1.2.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.

async function readAll(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    length += chunk.length;
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * Reads a byte stream to its end and returns its chunks joined into one
 * `Uint8Array`.
 *
 * @param stream The stream to read.
 * @returns All bytes of the stream.
 */
export function toBytes(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  return readAll(stream);
}

/**
 * Reads a byte stream to its end and returns its chunks joined into one
 * `ArrayBuffer`.
 *
 * @param readableStream The stream to read.
 * @returns All bytes of the stream.
 */
export async function toArrayBuffer(
  readableStream: ReadableStream<Uint8Array>,
): Promise<ArrayBuffer> {
  return (await readAll(readableStream)).buffer;
}
