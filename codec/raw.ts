// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode raw}: no framing at all, the bytes as they arrive.
 *
 * ## Decoder states
 *
 * One state: whatever is buffered, if anything, is the next frame. Over a
 * connection, a frame is what one read delivered.
 *
 * @module
 */

import { copyBytes } from "../_bytes.ts";
import { checkBytes } from "./_common.ts";
import type { ByteBuffer } from "./byte_buffer.ts";
import { type Codec, createCodec, once } from "./decoder.ts";
import type { DecodeInput, NeedMore } from "./read_buffer.ts";

/**
 * No framing: each chunk of bytes as it arrives is a message, and a message
 * goes out as it is. This is what the classic socket tutorial speaks
 * (`send(b"Hello, World!")` / `recv(1024)`): TCP keeps no message
 * boundaries, so a peer may see one send as several chunks or several as
 * one.
 *
 * The encoder takes only a `Uint8Array`: a string (or anything else)
 * throws `TypeError` before a byte is written — encode text with
 * `text(raw())`, which writes UTF-8.
 *
 * @example Usage
 * ```ts
 * import { decodeAll, raw } from "@netkit/net/codec";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const chunk = new Uint8Array([1, 2, 3]);
 * assertEquals(decodeAll(raw(), [chunk, new Uint8Array(0)]), [chunk]);
 * assertThrows(
 *   // @ts-expect-error: a string is not bytes
 *   () => raw().encoder().encode("Hello"),
 *   TypeError,
 *   "raw takes a Uint8Array, received string",
 * );
 * ```
 *
 * @returns The codec.
 */
export function raw(): Codec<Uint8Array> {
  return RAW;
}

const RAW_DECODER = {
  decode(input: DecodeInput): Uint8Array | NeedMore {
    const n = input.end - input.start;
    return n === 0 ? input.needMore() : input.take(n);
  },
};

const RAW: Codec<Uint8Array> = createCodec({
  name: "raw",
  unframed: true,
  // It holds no state: every stream can share it.
  decoder: () => RAW_DECODER,
  encoder: once(() => ({
    encodeInto(message: Uint8Array, out: ByteBuffer): void {
      checkBytes(message, "raw");
      out.append(message);
    },
    encode(message: Uint8Array): Uint8Array {
      checkBytes(message, "raw");
      return copyBytes(message);
    },
  })),
});
