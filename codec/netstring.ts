// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode netstring}: D. J. Bernstein's netstrings, `len:payload,`.
 *
 * ## The wire format
 *
 * ```text
 * "hello"
 * ┌────┬────┬────────────────┬────┐
 * │ 35 │ 3a │ 68 65 6c 6c 6f │ 2c │   "5:hello,"
 * └────┴────┴────────────────┴────┘
 *  len   :    payload          ,
 *
 * ""  → 30 3a 2c                      "0:,"
 * ```
 *
 * The length is ASCII decimal without leading zeros (`0` alone is the
 * empty payload).
 *
 * ## Decoder states
 *
 * ```text
 *   LENGTH ──► ':' after digits, length ≤ maxFrameLength ──► BODY ──► emit ──► LENGTH
 *     │  (a digit at a time;                                  │ (waits for the payload
 *     │   a bad byte throws DecodeError)                      │  and ',', asking for
 *     │                                                       │  exactly as many)
 *     └──► length > maxFrameLength ──► DISCARD ─────────────────────────────► LENGTH
 *          (FrameTooLargeError once,    (skips the payload and ',' as they arrive)
 *           or counted with "skip")
 * ```
 *
 * - `LENGTH`: reads digits (remembering how many it has read), then ':'.
 * - `BODY`: the length is known; waits for the payload and its comma.
 *   Nothing is consumed until the whole netstring is buffered, so end of
 *   stream here reports its header and payload bytes as `remaining`.
 * - `DISCARD`: the netstring is over the limit; its bytes are skipped as
 *   they arrive, none kept.
 *
 * A bad byte throws {@linkcode DecodeError} with its stream offset, after
 * consuming it (and, for a missing comma, the whole netstring), so the
 * decoder makes progress.
 *
 * @module
 */

import { DecodeError, FrameTooLargeError } from "../errors.ts";
import {
  checkBytes,
  checkOversize,
  DEFAULT_MAX_FRAME_LENGTH,
  hex,
  isNonNegInt,
} from "./_common.ts";
import type { ByteBuffer } from "./byte_buffer.ts";
import {
  type Codec,
  createCodec,
  type Decoder,
  once,
  type OversizePolicy,
} from "./decoder.ts";
import type { DecodeInput, NeedMore } from "./read_buffer.ts";

/** Options for {@linkcode netstring}. */
export interface NetstringOptions {
  /**
   * The largest payload accepted, in bytes.
   *
   * @default {8388608}
   */
  maxFrameLength?: number;
  /**
   * What to do with a frame over `maxFrameLength`.
   *
   * @default {"error"}
   */
  oversize?: OversizePolicy;
}

/** The most digits of a length (below 2^53). */
const MAX_DIGITS = String(Number.MAX_SAFE_INTEGER).length - 1;

const LENGTH = 0;
const BODY = 1;
const DISCARD = 2;

class NetstringDecoder implements Decoder<Uint8Array> {
  readonly #max: number;
  readonly #policy: OversizePolicy;
  readonly maxBuffered: number;
  dropped = 0;
  #state: typeof LENGTH | typeof BODY | typeof DISCARD = LENGTH;
  /** LENGTH: digits read so far, and their value. */
  #digits = 0;
  #value = 0;
  /** BODY: the header's size (digits and ':'), and the payload's. */
  #head = 0;
  #len = 0;
  /** DISCARD: bytes still to skip. */
  #skip = 0;

  constructor(max: number, oversize: OversizePolicy) {
    this.#max = max;
    this.#policy = oversize;
    this.maxBuffered = MAX_DIGITS + 1 + max + 1;
  }

  /** Consumes `n` bytes and returns the error for the byte at `at`. */
  #bad(input: DecodeInput, what: string, at: number, n: number): DecodeError {
    const offset = input.consumed + at;
    input.skip(n);
    this.#digits = 0;
    this.#value = 0;
    return new DecodeError(
      `Cannot decode netstring: ${what} at offset ${offset}`,
      { offset },
    );
  }

  decode(input: DecodeInput): Uint8Array | NeedMore {
    for (;;) {
      if (this.#state === BODY) {
        const total = this.#head + this.#len + 1;
        if (input.end - input.start < total) return input.needMore(total);
        this.#state = LENGTH;
        return this.#frame(input, this.#head, this.#len);
      }
      if (this.#state === DISCARD) {
        const n = Math.min(this.#skip, input.end - input.start);
        input.skip(n);
        this.#skip -= n;
        if (this.#skip > 0) return input.needMore();
        this.#state = LENGTH;
      }
      // LENGTH
      const data = input.data;
      const start = input.start;
      const end = input.end;
      let i = start + this.#digits;
      for (; i < end; i++) {
        const c = data[i]!;
        if (c < 0x30 || c > 0x39) break;
        if (this.#digits > 0 && this.#value === 0) {
          throw this.#bad(
            input,
            "leading zero in length",
            i - start,
            i + 1 - start,
          );
        }
        if (this.#digits >= MAX_DIGITS) {
          input.skip(i + 1 - start);
          this.#digits = 0;
          this.#value = 0;
          throw new FrameTooLargeError(Infinity, this.#max, {
            message:
              `Cannot decode netstring: length has more than ${MAX_DIGITS} digits, exceeds maxFrameLength ${this.#max}`,
          });
        }
        this.#value = this.#value * 10 + (c - 0x30);
        this.#digits++;
      }
      if (i === end) return input.needMore();
      const c = data[i]!;
      if (c !== 0x3a || this.#digits === 0) {
        throw this.#bad(
          input,
          this.#digits === 0
            ? `expected a digit, found byte 0x${hex(c)}`
            : `expected a digit or ':', found byte 0x${hex(c)}`,
          i - start,
          i + 1 - start,
        );
      }
      const head = this.#digits + 1;
      const len = this.#value;
      this.#digits = 0;
      this.#value = 0;
      if (len > this.#max) {
        input.skip(head);
        const n = Math.min(len + 1, input.end - input.start);
        input.skip(n);
        this.#skip = len + 1 - n;
        if (this.#skip > 0) this.#state = DISCARD;
        if (this.#policy === "skip") {
          this.dropped++;
          continue;
        }
        throw new FrameTooLargeError(len, this.#max);
      }
      const total = head + len + 1;
      if (end - start < total) {
        this.#state = BODY;
        this.#head = head;
        this.#len = len;
        return input.needMore(total);
      }
      return this.#frame(input, head, len);
    }
  }

  /** Consumes a whole netstring and returns its payload. */
  #frame(input: DecodeInput, head: number, len: number): Uint8Array {
    const comma = input.data[input.start + head + len]!;
    if (comma !== 0x2c) {
      throw this.#bad(
        input,
        `expected ',' after ${len} bytes, found byte 0x${hex(comma)}`,
        head + len,
        head + len + 1,
      );
    }
    input.skip(head);
    const frame = input.take(len);
    input.skip(1);
    return frame;
  }
}

const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * A framing of netstrings (D. J. Bernstein): the length in ASCII decimal,
 * `:`, the payload, `,`.
 *
 * ```text
 * "hello" → 35 3a 68 65 6c 6c 6f 2c      ("5:hello,")
 * ""      → 30 3a 2c                     ("0:,")
 * ```
 *
 * A length with a leading zero, a byte that is not a digit, or a missing
 * comma throws {@linkcode DecodeError} with the stream offset of the bad
 * byte. A length over `maxFrameLength` throws {@linkcode FrameTooLargeError}
 * before any payload is buffered. The encoder refuses anything but a
 * `Uint8Array` with a `TypeError`, before it writes a byte.
 *
 * @example Usage
 * ```ts
 * import { decodeAll, encodeAll, netstring, text } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const codec = text(netstring());
 * const wire = encodeAll(codec, ["hello", ""]);
 * assertEquals(new TextDecoder().decode(wire), "5:hello,0:,");
 * assertEquals(decodeAll(codec, [wire]), ["hello", ""]);
 * ```
 *
 * @param options The limit and the policy.
 * @returns The codec.
 * @throws {RangeError} `maxFrameLength` is not a non-negative integer.
 * @throws {TypeError} `oversize` is not a policy.
 */
export function netstring(options: NetstringOptions = {}): Codec<Uint8Array> {
  const { maxFrameLength = DEFAULT_MAX_FRAME_LENGTH, oversize = "error" } =
    options;
  if (!isNonNegInt(maxFrameLength)) {
    throw new RangeError(
      `Cannot build netstring codec: maxFrameLength must be a non-negative integer, received ${maxFrameLength}`,
    );
  }
  checkOversize(oversize, "netstring");
  const check = (message: Uint8Array): void => {
    checkBytes(message, "netstring");
    if (message.length > maxFrameLength) {
      throw new FrameTooLargeError(message.length, maxFrameLength, {
        message:
          `Cannot encode frame: length ${message.length} exceeds maxFrameLength ${maxFrameLength}`,
      });
    }
  };
  /** Writes the netstring of `message` at the start of `view`. */
  const write = (message: Uint8Array, view: Uint8Array, digits: string) => {
    let k = 0;
    for (; k < digits.length; k++) view[k] = digits.charCodeAt(k);
    view[k++] = COLON;
    view.set(message, k);
    view[k + message.length] = COMMA;
  };
  return createCodec({
    name: "netstring",
    decoder: () => new NetstringDecoder(maxFrameLength, oversize),
    encoder: once(() => ({
      encodeInto(message: Uint8Array, out: ByteBuffer): void {
        check(message);
        const digits = String(message.length);
        const n = digits.length + message.length + 2;
        write(message, out.reserve(n), digits);
        out.commit(n);
      },
      encode(message: Uint8Array): Uint8Array {
        check(message);
        const digits = String(message.length);
        const view = new Uint8Array(digits.length + message.length + 2);
        write(message, view, digits);
        return view;
      },
    })),
  });
}
