// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode lengthPrefixed}: frames that announce their length in a
 * header, with the options of Netty's `LengthFieldBasedFrameDecoder` and
 * tokio's `LengthDelimitedCodec`.
 *
 * ## The wire format
 *
 * A frame is a header, then a payload. The header is `lengthOffset` bytes
 * of anything, then the length field; the field gives the payload's length
 * (the bytes after the field), counting the header with
 * `lengthIncludesHeader`, or off by `lengthAdjustment`. The decoder yields
 * the frame less its first `strip` bytes: by default the whole header, so
 * a frame is its payload.
 *
 * ```text
 * ┌──────────────────┬──────────────┬─────────────────────────────┐
 * │ lengthOffset     │ length field │ payload                     │
 * │ bytes (prefix)   │ lengthBytes  │ field + lengthAdjustment    │
 * └──────────────────┴──────────────┴─────────────────────────────┘
 * ◄──────── strip (default: the whole header) ──────►
 * ```
 *
 * ### 1. The default: 4 bytes, big-endian, the header stripped
 *
 * ```text
 * lengthPrefixed()
 *
 *  wire (9 bytes)                        frame (5 bytes)
 * ┌─────────────┬────────────────┐      ┌────────────────┐
 * │ 00 00 00 05 │ 68 65 6c 6c 6f │ ───► │ 68 65 6c 6c 6f │
 * └─────────────┴────────────────┘      └────────────────┘
 * ```
 *
 * ### 2. A 2-byte field kept in the frame (Netty's first example)
 *
 * ```text
 * lengthPrefixed({ lengthBytes: 2, strip: 0 })
 *
 *  wire (14 bytes)                       frame (14 bytes)
 * ┌───────┬────────────────┐            ┌───────┬────────────────┐
 * │ 00 0c │ "HELLO, WORLD" │ ─────────► │ 00 0c │ "HELLO, WORLD" │
 * └───────┴────────────────┘            └───────┴────────────────┘
 * ```
 *
 * ### 3. A field that counts the whole frame
 *
 * ```text
 * lengthPrefixed({ lengthBytes: 2, lengthIncludesHeader: true })
 * (the same as lengthAdjustment: -2)
 *
 *  wire (14 bytes)                       frame (12 bytes)
 * ┌───────┬────────────────┐            ┌────────────────┐
 * │ 00 0e │ "HELLO, WORLD" │ ─────────► │ "HELLO, WORLD" │
 * └───────┴────────────────┘            └────────────────┘
 * ```
 *
 * ### 4. A type byte before the field, kept (PostgreSQL's messages)
 *
 * ```text
 * lengthPrefixed({ lengthOffset: 1, lengthAdjustment: -4, strip: 0 })
 *
 *  wire = frame (14 bytes): 'Q', a length that counts itself, the query
 * ┌────┬─────────────┬─────────────────────────────┐
 * │ 51 │ 00 00 00 0d │ 53 45 4c 45 43 54 20 31 00  │   Q "SELECT 1\0"
 * └────┴─────────────┴─────────────────────────────┘
 * ```
 *
 * ### 5. A varint field after a type byte (MQTT's fixed header)
 *
 * ```text
 * lengthPrefixed({ lengthOffset: 1, lengthBytes: "varint", strip: 0 })
 *
 *  wire = frame: PUBLISH (0x30), remaining length 300 as a varint
 * ┌────┬───────┬──────────────────┐
 * │ 30 │ ac 02 │ 300 bytes …      │
 * └────┴───────┴──────────────────┘
 * ```
 *
 * The encoder is the decoder's mirror: `decode(encode(m))` is `m`. It
 * takes a frame as the decoder yields it; it writes the stripped bytes
 * itself (`prefix`, then the length field), and where the frame keeps the
 * length field, it writes the field's value over what the message holds
 * there.
 *
 * ## Decoder states
 *
 * ```text
 *            header whole, frame whole ─────────► emit ──► HEAD
 *   HEAD ──► header whole, frame not ──► BODY ──► emit ──► HEAD
 *     │                                   │ (waits for the frame's bytes,
 *     │                                   │  asking for exactly as many)
 *     └──► length > maxFrameLength ──► DISCARD ──────────► HEAD
 *          (FrameTooLargeError once,    (skips the payload's bytes as
 *           or counted with "skip")      they arrive)
 * ```
 *
 * - `HEAD`: waits for a whole header, reads the length field.
 * - `BODY`: the header is read and held; waits for the payload. Nothing is
 *   consumed until the whole frame is buffered, so end of stream here
 *   reports the header and the payload bytes that came as `remaining`.
 * - `DISCARD`: the frame is over the limit; its bytes are skipped as they
 *   arrive, none kept. End of stream here is no further error.
 *
 * @module
 */

import { DecodeError, FrameTooLargeError } from "../errors.ts";
import {
  checkBytes,
  checkOversize,
  DEFAULT_MAX_FRAME_LENGTH,
  isNonNegInt,
} from "./_common.ts";
import { ByteBuffer } from "./byte_buffer.ts";
import {
  type Codec,
  createCodec,
  type Decoder,
  type Encoder,
  once,
  type OversizePolicy,
} from "./decoder.ts";
import type { DecodeInput, NeedMore } from "./read_buffer.ts";

/** The width of a length field: a number of bytes, or a varint. */
export type LengthFieldWidth = 1 | 2 | 3 | 4 | 8 | "varint";

/** Options for {@linkcode lengthPrefixed}. */
export interface LengthPrefixedOptions {
  /**
   * The width of the length field, in bytes, or `"varint"` for an unsigned
   * LEB128 varint (7 bits a byte, low bits first, high bit set on every
   * byte but the last; protobuf's and MQTT's).
   *
   * @default {4}
   */
  lengthBytes?: LengthFieldWidth;
  /**
   * Whether a fixed-width length field is little-endian.
   *
   * @default {false}
   */
  littleEndian?: boolean;
  /**
   * The largest payload accepted (the bytes after the length field), on
   * decode and on encode. A spec whose length field cannot express it is
   * rejected when built.
   *
   * @default {8388608 (8 MiB), or the field's largest value if smaller}
   */
  maxFrameLength?: number;
  /**
   * How many bytes of other header come before the length field (Netty's
   * `lengthFieldOffset`).
   *
   * @default {0}
   */
  lengthOffset?: number;
  /**
   * The bytes the encoder writes before the length field where the frame
   * does not keep them (see `strip`); must be `lengthOffset` long.
   *
   * @default {lengthOffset zero bytes}
   */
  prefix?: Uint8Array;
  /**
   * Added to the value of the length field to get the payload length
   * (the field counts `payload − lengthAdjustment`; Netty's
   * `lengthAdjustment`).
   *
   * @default {0}
   */
  lengthAdjustment?: number;
  /**
   * Whether the length field counts the header (the offset bytes and the
   * field itself) as well as the payload. Not with `"varint"`.
   *
   * @default {false}
   */
  lengthIncludesHeader?: boolean;
  /**
   * How many bytes at the start of a frame the decoder drops (Netty's
   * `initialBytesToStrip`): `0` keeps the whole header in the frame, and
   * any count up to `lengthOffset` keeps the length field and the header
   * bytes after the count. A count inside the length field or past the
   * header is refused, since the encoder could not write back what it
   * drops. With a varint field, the default drops the whole header
   * whatever its width.
   *
   * @default {the whole header: lengthOffset + the field}
   */
  strip?: number;
  /**
   * What to do with a frame over `maxFrameLength`.
   *
   * @default {"error"}
   */
  oversize?: OversizePolicy;
}

const MAX_FIELD_VALUE = {
  1: 0xff,
  2: 0xffff,
  3: 0xff_ffff,
  4: 0xffff_ffff,
  8: Number.MAX_SAFE_INTEGER,
} as const;

/** The most bytes of a varint length field (enough for 2^53). */
const VARINT_MAX_BYTES = 8;

type FixedWidth = 1 | 2 | 3 | 4 | 8;

interface LengthSpec {
  /** The width of a fixed field, or 0 for a varint. */
  fixed: FixedWidth | 0;
  littleEndian: boolean;
  max: number;
  offset: number;
  prefix: Uint8Array;
  /** payload = field + delta */
  delta: number;
  /** The header's size for a fixed field; offset + 1 for a varint. */
  headerFixed: number;
  /** The header's largest size. */
  headerMax: number;
  /** Strip the whole header (whatever the varint's width). */
  stripHeader: boolean;
  /** Bytes to strip when not the whole header (≤ offset). */
  strip: number;
  oversize: OversizePolicy;
}

/** How many bytes the varint of `n` takes. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function buildLengthSpec(options: LengthPrefixedOptions): LengthSpec {
  const {
    lengthBytes = 4,
    littleEndian = false,
    lengthOffset = 0,
    lengthAdjustment = 0,
    lengthIncludesHeader = false,
    oversize = "error",
  } = options;
  const what = "Cannot build lengthPrefixed codec";
  if (
    lengthBytes !== 1 && lengthBytes !== 2 && lengthBytes !== 3 &&
    lengthBytes !== 4 && lengthBytes !== 8 && lengthBytes !== "varint"
  ) {
    throw new TypeError(
      `${what}: lengthBytes must be 1, 2, 3, 4, 8 or "varint", received ${
        JSON.stringify(lengthBytes)
      }`,
    );
  }
  if (!isNonNegInt(lengthOffset)) {
    throw new RangeError(
      `${what}: lengthOffset must be a non-negative integer, received ${lengthOffset}`,
    );
  }
  if (!Number.isSafeInteger(lengthAdjustment)) {
    throw new RangeError(
      `${what}: lengthAdjustment must be an integer, received ${lengthAdjustment}`,
    );
  }
  if (lengthIncludesHeader && lengthBytes === "varint") {
    throw new TypeError(
      `${what}: lengthIncludesHeader does not work with a varint length field`,
    );
  }
  checkOversize(oversize, "lengthPrefixed");
  const prefix = options.prefix ?? new Uint8Array(lengthOffset);
  if (!(prefix instanceof Uint8Array)) {
    throw new TypeError(`${what}: prefix must be a Uint8Array`);
  }
  if (prefix.length !== lengthOffset) {
    throw new RangeError(
      `${what}: prefix has ${prefix.length} bytes, expected lengthOffset ${lengthOffset}`,
    );
  }
  const fixed = lengthBytes === "varint" ? 0 : lengthBytes;
  const headerFixed = lengthOffset + (fixed === 0 ? 1 : fixed);
  const headerMax = fixed === 0 ? lengthOffset + VARINT_MAX_BYTES : headerFixed;
  const strip = options.strip ?? headerFixed;
  if (!isNonNegInt(strip)) {
    throw new RangeError(
      `${what}: strip must be a non-negative integer, received ${strip}`,
    );
  }
  const stripHeader = options.strip === undefined ||
    (fixed !== 0 && strip === headerFixed);
  if (!stripHeader && strip > lengthOffset) {
    throw new RangeError(
      fixed === 0
        ? `${what}: strip ${strip} ends inside the varint length field at offset ${lengthOffset}; strip at most lengthOffset bytes, or the whole header`
        : strip < headerFixed
        ? `${what}: strip ${strip} ends inside the length field (bytes ${lengthOffset} to ${
          headerFixed - 1
        })`
        : `${what}: strip ${strip} exceeds the ${headerFixed}-byte header, so the encoder could not write the stripped bytes back`,
    );
  }
  const delta = lengthAdjustment - (lengthIncludesHeader ? headerFixed : 0);
  const fieldMax = fixed === 0
    ? Number.MAX_SAFE_INTEGER
    : MAX_FIELD_VALUE[fixed];
  // The largest payload the field can express.
  const expressible = fieldMax + delta;
  const max = options.maxFrameLength ??
    Math.max(0, Math.min(DEFAULT_MAX_FRAME_LENGTH, expressible));
  if (!isNonNegInt(max)) {
    throw new RangeError(
      `${what}: maxFrameLength must be a non-negative integer, received ${max}`,
    );
  }
  if (max > expressible) {
    throw new RangeError(
      `${what}: maxFrameLength ${max} does not fit a ${lengthBytes}-byte length field (largest payload ${expressible})`,
    );
  }
  if (delta > 0 && max < delta) {
    throw new RangeError(
      `${what}: maxFrameLength ${max} is below the smallest payload ${delta} the header allows`,
    );
  }
  return {
    fixed,
    littleEndian,
    max,
    offset: lengthOffset,
    prefix,
    delta,
    headerFixed,
    headerMax,
    stripHeader,
    strip,
    oversize,
  };
}

/**
 * Reads a fixed-width length field at `at`; for 8 bytes, values past 2^53
 * come back rounded, and are over any limit.
 */
function readField(
  b: Uint8Array,
  at: number,
  width: FixedWidth,
  le: boolean,
): number {
  switch (width) {
    case 1:
      return b[at]!;
    case 2:
      return le ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!;
    case 3:
      return le
        ? b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)
        : (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
    case 4:
      return le
        ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) |
          (b[at + 3]! << 24)) >>> 0
        : ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) |
          b[at + 3]!) >>> 0;
    case 8: {
      const hi = readField(b, le ? at + 4 : at, 4, le);
      const lo = readField(b, le ? at : at + 4, 4, le);
      return hi * 0x1_0000_0000 + lo;
    }
  }
}

/** Writes a fixed-width length field at `at`. */
function writeField(
  b: Uint8Array,
  at: number,
  width: FixedWidth,
  le: boolean,
  value: number,
): void {
  if (width === 8) {
    const hi = Math.floor(value / 0x1_0000_0000);
    const lo = value >>> 0;
    writeField(b, le ? at + 4 : at, 4, le, hi);
    writeField(b, le ? at : at + 4, 4, le, lo);
    return;
  }
  // Widths up to 4: value < 2^32, so 32-bit shifts are exact.
  for (let k = 0; k < width; k++) {
    b[at + (le ? k : width - 1 - k)] = (value >>> (8 * k)) & 0xff;
  }
}

/** Writes `value` as a varint at `at`; returns the index after it. */
function writeVarint(b: Uint8Array, at: number, value: number): number {
  while (value >= 128) {
    b[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  b[at++] = value;
  return at;
}

/** The decoder's states (see the module doc). */
const HEAD = 0;
const BODY = 1;
const DISCARD = 2;

class LengthPrefixedDecoder implements Decoder<Uint8Array> {
  readonly #s: LengthSpec;
  readonly maxBuffered: number;
  dropped = 0;
  #state: typeof HEAD | typeof BODY | typeof DISCARD = HEAD;
  /** BODY: the header's size and the whole frame's, header included. */
  #head = 0;
  #total = 0;
  /** DISCARD: bytes of the oversize frame still to skip. */
  #skip = 0;

  constructor(spec: LengthSpec) {
    this.#s = spec;
    this.maxBuffered = spec.headerMax + spec.max;
  }

  decode(input: DecodeInput): Uint8Array | NeedMore {
    for (;;) {
      if (this.#state === BODY) {
        const total = this.#total;
        if (input.end - input.start < total) return input.needMore(total);
        this.#state = HEAD;
        return this.#frame(input, this.#head, total);
      }
      if (this.#state === DISCARD) {
        const n = Math.min(this.#skip, input.end - input.start);
        input.skip(n);
        this.#skip -= n;
        if (this.#skip > 0) return input.needMore();
        this.#state = HEAD;
      }
      // HEAD
      const s = this.#s;
      const data = input.data;
      const at = input.start;
      const unread = input.end - at;
      let head: number;
      let payload: number;
      if (s.fixed !== 0) {
        head = s.headerFixed;
        if (unread < head) return input.needMore(head);
        payload = readField(data, at + s.offset, s.fixed, s.littleEndian) +
          s.delta;
      } else {
        let value = 0;
        let scale = 1;
        head = 0;
        const limit = at + Math.min(unread, s.headerMax);
        for (let i = at + s.offset; i < limit; i++) {
          const byte = data[i]!;
          value += (byte & 0x7f) * scale;
          scale *= 128;
          if (byte < 0x80) {
            head = i + 1 - at;
            break;
          }
        }
        if (head === 0) {
          if (unread < s.headerMax) return input.needMore();
          // More continuation bytes than any length needs: too long to
          // skip, so the stream cannot be resynchronised.
          input.skip(s.headerMax);
          throw new FrameTooLargeError(Infinity, s.max, {
            message:
              `Cannot decode frame: varint length field longer than ${VARINT_MAX_BYTES} bytes exceeds maxFrameLength ${s.max}`,
          });
        }
        payload = value + s.delta;
      }
      if (payload < 0) {
        input.skip(head);
        throw new DecodeError(
          `Cannot decode frame: length field gives a negative payload length ${payload}`,
          { offset: input.consumed },
        );
      }
      if (payload > s.max) {
        this.#oversize(input, head, payload);
        continue;
      }
      const total = head + payload;
      if (unread < total) {
        this.#state = BODY;
        this.#head = head;
        this.#total = total;
        return input.needMore(total);
      }
      return this.#frame(input, head, total);
    }
  }

  /** Consumes a whole frame of `total` bytes and returns it, stripped. */
  #frame(input: DecodeInput, head: number, total: number): Uint8Array {
    const strip = this.#s.stripHeader ? head : this.#s.strip;
    if (strip > 0) input.skip(strip);
    return input.take(total - strip);
  }

  /**
   * Enters DISCARD for a frame over the limit: skips its header and what
   * of its payload is here, then throws (or counts the frame).
   */
  #oversize(input: DecodeInput, head: number, payload: number): void {
    const s = this.#s;
    input.skip(head);
    if (payload > Number.MAX_SAFE_INTEGER) {
      // Too long to skip: the stream cannot be resynchronised.
      throw new FrameTooLargeError(payload, s.max);
    }
    const n = Math.min(payload, input.end - input.start);
    input.skip(n);
    this.#skip = payload - n;
    this.#state = this.#skip > 0 ? DISCARD : HEAD;
    if (s.oversize === "skip") {
      this.dropped++;
      return;
    }
    throw new FrameTooLargeError(payload, s.max);
  }
}

class LengthPrefixedEncoder implements Encoder<Uint8Array> {
  readonly #s: LengthSpec;

  constructor(spec: LengthSpec) {
    this.#s = spec;
  }

  /** Checks a payload length; returns the length field's value. */
  #field(len: number): number {
    const s = this.#s;
    if (len > s.max) {
      throw new FrameTooLargeError(len, s.max, {
        message:
          `Cannot encode frame: length ${len} exceeds maxFrameLength ${s.max}`,
      });
    }
    const field = len - s.delta;
    if (field < 0) {
      throw new RangeError(
        `Cannot encode frame: length ${len} is below the smallest payload ${s.delta} the header allows`,
      );
    }
    return field;
  }

  encodeInto(message: Uint8Array, out: ByteBuffer): void {
    checkBytes(message, "lengthPrefixed");
    const s = this.#s;
    const len = message.length;
    if (s.stripHeader) {
      // The frame is the payload: write the whole header.
      // The header, then the payload appended (which a connection may send
      // from where it is instead of copying it).
      const field = this.#field(len);
      if (s.fixed !== 0) {
        if (s.offset > 0) out.append(s.prefix);
        out.appendUint(field, s.fixed, s.littleEndian);
      } else {
        const view = out.reserve(s.offset + varintSize(field));
        if (s.offset > 0) view.set(s.prefix, 0);
        out.commit(writeVarint(view, s.offset, field));
      }
      out.append(message);
      return;
    }
    // The frame keeps the header from byte `strip` on: write the bytes
    // before it, then the message with the length field written over.
    const strip = s.strip;
    const inFrame = s.offset - strip;
    if (s.fixed !== 0) {
      const kept = s.headerFixed - strip;
      if (len < kept) {
        throw new TypeError(
          `Cannot encode message: lengthPrefixed frames keep ${kept} header bytes, received ${len} bytes`,
        );
      }
      const field = this.#field(len - kept);
      const view = out.reserve(strip + len);
      if (strip > 0) view.set(s.prefix.subarray(0, strip), 0);
      view.set(message, strip);
      writeField(view, s.offset, s.fixed, s.littleEndian, field);
      out.commit(strip + len);
      return;
    }
    let width = 0;
    const limit = Math.min(len, inFrame + VARINT_MAX_BYTES);
    for (let i = inFrame; i < limit; i++) {
      if (message[i]! < 0x80) {
        width = i + 1 - inFrame;
        break;
      }
    }
    if (width === 0) {
      throw new TypeError(
        `Cannot encode message: lengthPrefixed frames keep a varint length field at offset ${inFrame}, and the message holds none there`,
      );
    }
    const body = message.subarray(inFrame + width);
    const field = this.#field(body.length);
    const view = out.reserve(
      strip + inFrame + varintSize(field) + body.length,
    );
    if (strip > 0) view.set(s.prefix.subarray(0, strip), 0);
    view.set(message.subarray(0, inFrame), strip);
    const at = writeVarint(view, s.offset, field);
    view.set(body, at);
    out.commit(at + body.length);
  }

  encode(message: Uint8Array): Uint8Array {
    checkBytes(message, "lengthPrefixed");
    const buf = new ByteBuffer(this.#s.headerMax + message.length);
    this.encodeInto(message, buf);
    return buf.bytes();
  }
}

/**
 * A framing where each frame announces its length in a header. With the
 * defaults, a 4-byte big-endian length, then the payload: the same bytes
 * as tokio's `LengthDelimitedCodec::new()` and Netty's
 * `LengthFieldPrepender(4)` / `LengthFieldBasedFrameDecoder(max, 0, 4, 0,
 * 4)`. The options cover Netty's `LengthFieldBasedFrameDecoder` (see the
 * module doc for diagrams):
 *
 * ```text
 * lengthPrefixed()                          "hello" → 00 00 00 05 68 65 6c 6c 6f
 * lengthPrefixed({ lengthBytes: 2, littleEndian: true })
 *                                           "hello" → 05 00 68 65 6c 6c 6f
 * lengthPrefixed({ lengthBytes: 3 })        "hello" → 00 00 05 68 65 6c 6c 6f
 * lengthPrefixed({ lengthBytes: "varint" }) 300 bytes → ac 02 <300 bytes>
 * lengthPrefixed({ lengthIncludesHeader: true })
 *                                           "hello" → 00 00 00 09 68 65 6c 6c 6f
 * lengthPrefixed({ lengthOffset: 1, prefix: new Uint8Array([0xca]) })
 *                                           "hello" → ca 00 00 00 05 68 65 6c 6c 6f
 * lengthPrefixed({ lengthAdjustment: 2 })   "hello" → 00 00 00 03 68 65 6c 6c 6f
 * lengthPrefixed({ lengthBytes: 1, strip: 0 })
 *                          05 68 65 6c 6c 6f ↔ 05 68 65 6c 6c 6f (header kept)
 * ```
 *
 * A length over `maxFrameLength` throws {@linkcode FrameTooLargeError}
 * when the header arrives, before any payload is buffered; the payload's
 * bytes are then skipped as they arrive. A field that gives a negative
 * payload length throws {@linkcode DecodeError}. End of stream inside a
 * header or payload throws {@linkcode UnexpectedEofError}. The encoder
 * refuses anything but a `Uint8Array` with a `TypeError`, before it
 * writes a byte.
 *
 * @example Usage
 * ```ts
 * import { decodeAll, lengthPrefixed } from "@netkit/net/codec";
 * import { FrameTooLargeError } from "@netkit/net/errors";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const codec = lengthPrefixed({ lengthBytes: 2, maxFrameLength: 4 });
 * assertEquals(codec.encoder().encode(new Uint8Array([1, 2])), new Uint8Array([0, 2, 1, 2]));
 * assertThrows(
 *   () => decodeAll(codec, [new Uint8Array([0, 9])]),
 *   FrameTooLargeError,
 *   "length 9 exceeds maxFrameLength 4",
 * );
 * ```
 *
 * @example Keep a type byte: PostgreSQL's backend messages
 * ```ts
 * import { decodeAll, encodeAll, lengthPrefixed } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * // A type byte, then an int32 length that counts itself but not the type.
 * const pg = lengthPrefixed({ lengthOffset: 1, lengthAdjustment: -4, strip: 0 });
 * const wire = new Uint8Array([0x5a, 0, 0, 0, 5, 0x49]); // ReadyForQuery, idle
 * const [frame] = decodeAll(pg, [wire]);
 * assertEquals(String.fromCharCode(frame![0]!), "Z");
 * assertEquals(encodeAll(pg, [frame!]), wire);
 * ```
 *
 * @param options The layout of the header, the limit and the policy.
 * @returns The codec.
 * @throws {RangeError} The limit does not fit the field, or an option is out of range.
 * @throws {TypeError} An option has the wrong type.
 */
export function lengthPrefixed(
  options: LengthPrefixedOptions = {},
): Codec<Uint8Array> {
  const spec = buildLengthSpec(options);
  return createCodec({
    name: "lengthPrefixed",
    decoder: () => new LengthPrefixedDecoder(spec),
    encoder: once(() => new LengthPrefixedEncoder(spec)),
  });
}
