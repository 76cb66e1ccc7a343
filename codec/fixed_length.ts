// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode fixedLength}: frames that all have the same length.
 *
 * ## The wire format
 *
 * ```text
 * fixedLength(3)
 * ┌──────────┬──────────┐
 * │ 01 02 03 │ 04 05 06 │  → [01 02 03], [04 05 06]
 * └──────────┴──────────┘
 * ```
 *
 * ## Decoder states
 *
 * One state, `FRAME`: it waits until `length` bytes are buffered (asking
 * for exactly that many), then emits them. Nothing is consumed before, so
 * end of stream inside a frame reports the bytes that came as
 * `remaining`.
 *
 * @module
 */

import { copyBytes } from "../_bytes.ts";
import { checkBytes, isNonNegInt } from "./_common.ts";
import type { ByteBuffer } from "./byte_buffer.ts";
import { type Codec, createCodec, type Decoder, once } from "./decoder.ts";
import type { DecodeInput, NeedMore } from "./read_buffer.ts";

class FixedLengthDecoder implements Decoder<Uint8Array> {
  readonly maxBuffered: number;

  constructor(length: number) {
    this.maxBuffered = length;
  }

  decode(input: DecodeInput): Uint8Array | NeedMore {
    const n = this.maxBuffered;
    if (input.end - input.start < n) return input.needMore(n);
    return input.take(n);
  }
}

/**
 * A framing of frames that all have the same length.
 *
 * ```text
 * fixedLength(3): 01 02 03 04 05 06 → [01 02 03] [04 05 06]
 * ```
 *
 * The encoder refuses a message of another length with a `RangeError`,
 * and anything but a `Uint8Array` with a `TypeError`, before it writes a
 * byte.
 *
 * @example Usage
 * ```ts
 * import { decodeAll, fixedLength } from "@netkit/net/codec";
 * import { UnexpectedEofError } from "@netkit/net/errors";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const codec = fixedLength(2);
 * assertEquals(decodeAll(codec, [new Uint8Array([1, 2, 3]), new Uint8Array([4])]), [
 *   new Uint8Array([1, 2]),
 *   new Uint8Array([3, 4]),
 * ]);
 * assertThrows(() => decodeAll(codec, [new Uint8Array([1])]), UnexpectedEofError, "1 bytes");
 * ```
 *
 * @param length The length of every frame, in bytes.
 * @returns The codec.
 * @throws {RangeError} `length` is not a positive integer.
 */
export function fixedLength(length: number): Codec<Uint8Array> {
  if (!isNonNegInt(length) || length === 0) {
    throw new RangeError(
      `Cannot build fixedLength codec: length must be a positive integer, received ${length}`,
    );
  }
  const check = (message: Uint8Array): void => {
    checkBytes(message, "fixedLength");
    if (message.length !== length) {
      throw new RangeError(
        `Cannot encode frame: length ${message.length} is not the fixed length ${length}`,
      );
    }
  };
  return createCodec({
    name: "fixedLength",
    decoder: () => new FixedLengthDecoder(length),
    encoder: once(() => ({
      encodeInto(message: Uint8Array, out: ByteBuffer): void {
        check(message);
        out.append(message);
      },
      encode(message: Uint8Array): Uint8Array {
        check(message);
        return copyBytes(message);
      },
    })),
  });
}
