// Copyright 2026 the netkit authors. MIT license.

/**
 * Packet assembly and parsing: a codec turns messages into bytes for the
 * wire (`D = E(M)`) and bytes from the wire back into messages
 * (`M = E⁻¹(D)`), whatever way TCP happens to cut the byte stream.
 *
 * Each codec has a synchronous core — a {@linkcode Decoder} that is pushed
 * byte chunks and emits whole frames, and an {@linkcode Encoder} that
 * appends a message's bytes to a {@linkcode ByteBuffer} — and wraps it as
 * `TransformStream`s. The core is what connections and tests call directly.
 *
 * Framings (bytes ↔ byte frames):
 *
 * | framing | wire | default limit |
 * | --- | --- | --- |
 * | {@linkcode lengthPrefixed} | length field, then payload | `maxFrameLength` 8 MiB |
 * | {@linkcode delimited} | payload, then delimiter | `maxLength` 64 KiB |
 * | {@linkcode lines} | payload, then LF (CR LF accepted) | `maxLength` 64 KiB |
 * | {@linkcode fixedLength} | exactly `n` bytes | `n` |
 * | {@linkcode netstring} | `len:payload,` | `maxFrameLength` 8 MiB |
 * | {@linkcode raw} | bytes as they arrive | the read size |
 *
 * Message layers over any framing: {@linkcode text} (UTF-8, fatal on
 * invalid bytes), {@linkcode json} (with a validation hook), and
 * {@linkcode mapCodec} for your own.
 *
 * ## Length-prefixed, the default
 *
 * A 4-byte big-endian length, then that many bytes. `"hello"`:
 *
 * ```text
 * +---- len: u32 ----+---- payload ----+
 * | 00 00 00 05      | 68 65 6c 6c 6f  |
 * +------------------+-----------------+
 * ```
 *
 * This is byte for byte what tokio's `LengthDelimitedCodec::new()` and
 * Netty's `LengthFieldPrepender(4)` write. The field can be 1, 2, 4 or 8
 * bytes, either byte order, or an unsigned LEB128 varint (protobuf's
 * framing); it can sit after `lengthOffset` bytes of other header, count
 * itself (`lengthIncludesHeader`), or be off by a constant
 * (`lengthAdjustment`). See {@linkcode LengthPrefixedOptions}.
 *
 * ## Decoder states
 *
 * Every decoder moves through the same states, per frame:
 *
 * ```text
 *            bytes                 header complete
 *   HEAD ────────────► HEAD ──────────────────────► BODY ──► emit ──► HEAD
 *     │                  │ length > limit             │ EOF
 *     │                  ▼                            ▼
 *     │               DISCARD (throws FrameTooLargeError once, then skips
 *     │                  the frame's bytes and resumes at the next one)
 *     ▼ EOF with bytes held
 *   UnexpectedEofError { remaining }
 * ```
 *
 * Errors are thrown by `decode()` after every frame before the bad one has
 * been emitted; the bytes after it are kept, so the decoder can go on (a
 * connection closes by default). With `oversize: "skip"` a frame over the
 * limit is dropped and counted in {@linkcode Decoder.dropped} instead.
 * Memory stays bounded: a decoder never holds more than the limit plus one
 * header, and it never allocates a claimed length before the bytes arrive
 * (beyond {@linkcode EAGER_FRAME_BYTES}).
 *
 * @example Encode and decode length-prefixed frames
 * ```ts
 * import { decodeAll, encodeAll, lengthPrefixed } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const codec = lengthPrefixed();
 * const wire = encodeAll(codec, [new TextEncoder().encode("hello")]);
 * assertEquals(wire, new Uint8Array([0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
 * // Any chunking of the bytes gives the same frames.
 * const frames = decodeAll(codec, [wire.subarray(0, 2), wire.subarray(2)]);
 * assertEquals(frames, [new TextEncoder().encode("hello")]);
 * ```
 *
 * @example JSON lines through web streams
 * ```ts
 * import { json, lines } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const codec = json<{ id: number }>(lines());
 * const out = ReadableStream.from([{ id: 1 }, { id: 2 }])
 *   .pipeThrough(codec.encodeStream())
 *   .pipeThrough(codec.decodeStream());
 * assertEquals(await Array.fromAsync(out), [{ id: 1 }, { id: 2 }]);
 * ```
 *
 * @module
 */

import { concat2, EMPTY, indexOfSequence, rangeEquals } from "./_bytes.ts";
import {
  DecodeError,
  FrameTooLargeError,
  NetError,
  UnexpectedEofError,
} from "./errors.ts";

/**
 * A frame up to this many bytes gets its whole buffer at once when its
 * header arrives; a larger one grows its buffer as its bytes arrive, so a
 * header that claims a large length costs no memory until the bytes come.
 */
export const EAGER_FRAME_BYTES = 65_536;

/**
 * A growable byte buffer that encoders append to. Connections keep one per
 * socket and reuse it, so small messages queued together go out in one
 * write.
 *
 * @example Usage
 * ```ts
 * import { ByteBuffer } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const buf = new ByteBuffer();
 * buf.append(new Uint8Array([1, 2]));
 * buf.reserve(1)[0] = 3;
 * buf.commit(1);
 * assertEquals(buf.bytes(), new Uint8Array([1, 2, 3]));
 * ```
 */
export class ByteBuffer {
  #buf: Uint8Array;
  #len = 0;

  /**
   * Constructs a new instance.
   *
   * @param capacity The initial capacity in bytes.
   */
  constructor(capacity = 1024) {
    this.#buf = new Uint8Array(capacity);
  }

  /** The number of bytes written. */
  get length(): number {
    return this.#len;
  }

  /** The number of bytes the buffer holds before it must grow. */
  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * Returns a view of the bytes written. The view is valid until the next
   * call that writes or clears.
   *
   * @returns The bytes written so far.
   */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /**
   * Returns a view of `n` writable bytes at the end; call
   * {@linkcode ByteBuffer.commit} with how many were written.
   *
   * @param n How many bytes to make room for.
   * @returns A view of `n` bytes after the written ones.
   */
  reserve(n: number): Uint8Array {
    const need = this.#len + n;
    if (need > this.#buf.length) this.#grow(need);
    return this.#buf.subarray(this.#len, need);
  }

  /**
   * Makes room for `n` more bytes and returns the whole underlying array:
   * write at `length` onwards, then {@linkcode ByteBuffer.commit}. Unlike
   * {@linkcode ByteBuffer.reserve} it creates no view (the fast path of
   * encoders).
   *
   * @param n How many bytes to make room for.
   * @returns The underlying array, valid until the next call that grows it.
   */
  ensure(n: number): Uint8Array {
    const need = this.#len + n;
    if (need > this.#buf.length) this.#grow(need);
    return this.#buf;
  }

  /**
   * Adds `n` bytes written into the last {@linkcode ByteBuffer.reserve}d
   * view to the length.
   *
   * @param n How many bytes were written.
   */
  commit(n: number): void {
    this.#len += n;
  }

  /**
   * Appends bytes.
   *
   * @param bytes The bytes to append.
   */
  append(bytes: Uint8Array): void {
    const need = this.#len + bytes.length;
    if (need > this.#buf.length) this.#grow(need);
    this.#buf.set(bytes, this.#len);
    this.#len = need;
  }

  /**
   * Forgets the bytes written; keeps the memory unless it grew past
   * `keep` bytes.
   *
   * @param keep The largest capacity worth keeping.
   */
  clear(keep = 1 << 20): void {
    this.#len = 0;
    if (this.#buf.length > keep) this.#buf = new Uint8Array(keep);
  }

  #grow(need: number): void {
    let cap = Math.max(64, this.#buf.length * 2);
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
}

/**
 * The synchronous decoding core of a codec: push bytes, get whole frames.
 *
 * A decoder never keeps a reference to a chunk it is given: the caller may
 * reuse the chunk's memory as soon as `decode()` returns. Emitted frames
 * are the caller's to keep.
 */
export interface Decoder<T> {
  /**
   * Consumes a chunk of bytes and calls `emit` for each whole frame in the
   * bytes so far.
   *
   * @param chunk The next bytes of the stream.
   * @param emit Receives each decoded frame, in order.
   * @throws {FrameTooLargeError} A frame exceeds the limit (once per frame).
   * @throws {DecodeError} The bytes cannot be decoded.
   */
  decode(chunk: Uint8Array, emit: (frame: T) => void): void;
  /**
   * Ends the stream: emits what is left, or throws when a frame is
   * incomplete. The decoder is ready for a new stream afterwards.
   *
   * @param emit Receives each remaining frame.
   * @throws {UnexpectedEofError} The stream ended inside a frame.
   */
  finish(emit: (frame: T) => void): void;
  /** How many bytes the decoder holds for the frame in progress. */
  readonly buffered: number;
  /** How many frames over the limit were dropped (`oversize: "skip"`). */
  readonly dropped: number;
}

/** The synchronous encoding core of a codec. */
export interface Encoder<T> {
  /**
   * Appends the bytes of one message to `out`.
   *
   * @param message The message.
   * @param out The buffer to append to.
   * @throws {FrameTooLargeError} The message exceeds the codec's limit.
   * @throws {TypeError} The message cannot be encoded by this codec.
   */
  encodeInto(message: T, out: ByteBuffer): void;
  /**
   * Returns the bytes of one message.
   *
   * @param message The message.
   * @returns A new array holding the encoded message.
   * @throws {FrameTooLargeError} The message exceeds the codec's limit.
   * @throws {TypeError} The message cannot be encoded by this codec.
   */
  encode(message: T): Uint8Array;
}

/**
 * A codec: a factory of decoders and encoders, and of the web streams over
 * them. `In` is what the decoder yields, `Out` what the encoder takes.
 */
export interface Codec<In, Out = In> {
  /** A short name for messages and logs, such as `"lengthPrefixed"`. */
  readonly name: string;
  /** Whether frame boundaries are the wire's chunk boundaries (`raw`). */
  readonly unframed: boolean;
  /**
   * Returns a new decoder; each stream needs its own.
   *
   * @param options Whether frames may be borrowed views.
   */
  decoder(options?: DecoderOptions): Decoder<In>;
  /**
   * Returns an encoder. One that holds no state between messages (those of
   * the built-in framings) may be the same for every stream.
   */
  encoder(): Encoder<Out>;
  /** Returns a stream that turns bytes into messages. */
  decodeStream(): TransformStream<Uint8Array, In>;
  /** Returns a stream that turns messages into bytes, one chunk each. */
  encodeStream(): TransformStream<Out, Uint8Array>;
}

/**
 * What a decoder does with a frame over its limit: `"error"` throws a
 * {@linkcode FrameTooLargeError} once and skips the frame's bytes (a
 * connection then closes); `"skip"` drops the frame silently and counts it
 * in {@linkcode Decoder.dropped}.
 */
export type OversizePolicy = "error" | "skip";

/** Options for {@linkcode Codec.decoder}. */
export interface DecoderOptions {
  /**
   * Lets the decoder emit byte frames that are views into the chunk it
   * was given, or into its own reused buffer: no copy and no allocation,
   * but a frame is valid only until the next call to `decode()` or
   * `finish()` (and, for chunk views, until the caller reuses the chunk's
   * memory). Message layers (`text`, `json`) borrow from the framing under
   * them, since they turn each frame into a string at once. Without it,
   * every frame is the caller's to keep.
   *
   * @default {false}
   */
  borrow?: boolean;
}

/** The parts of a codec that {@linkcode createCodec} builds on. */
export interface CodecParts<In, Out> {
  /** A short name for messages and logs. */
  name: string;
  /** Returns a new decoder; it may ignore `borrow` and always copy. */
  decoder: (options?: DecoderOptions) => Decoder<In>;
  /**
   * Returns an encoder; one that holds no state between messages may be
   * returned every time.
   */
  encoder: () => Encoder<Out>;
  /**
   * Whether frame boundaries are the wire's chunk boundaries.
   *
   * @default {false}
   */
  unframed?: boolean;
}

/**
 * A factory that makes its value on the first call and returns the same one
 * from then on: the encoders of the built-in framings hold no state, so
 * every connection can share one.
 */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => value ??= make();
}

/**
 * Builds a {@linkcode Codec} from a decoder and an encoder factory, adding
 * the web stream wrappers.
 *
 * @example A codec of single bytes
 * ```ts
 * import { ByteBuffer, createCodec, decodeAll } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const bytesCodec = createCodec<number, number>({
 *   name: "bytes",
 *   decoder: () => ({
 *     buffered: 0,
 *     dropped: 0,
 *     decode(chunk, emit) { for (const b of chunk) emit(b); },
 *     finish() {},
 *   }),
 *   encoder: () => ({
 *     encodeInto(n: number, out: ByteBuffer) { out.append(new Uint8Array([n])); },
 *     encode(n: number) { return new Uint8Array([n]); },
 *   }),
 * });
 * assertEquals(decodeAll(bytesCodec, [new Uint8Array([7, 8])]), [7, 8]);
 * ```
 *
 * @typeParam In What the decoder yields.
 * @typeParam Out What the encoder takes.
 * @param parts The name and the factories.
 * @returns The codec.
 */
export function createCodec<In, Out = In>(
  parts: CodecParts<In, Out>,
): Codec<In, Out> {
  const { name, decoder, encoder, unframed = false } = parts;
  return Object.freeze({
    name,
    unframed,
    decoder,
    encoder,
    decodeStream(): TransformStream<Uint8Array, In> {
      const d = decoder();
      return new TransformStream<Uint8Array, In>({
        transform(chunk, controller) {
          d.decode(chunk, (frame) => controller.enqueue(frame));
        },
        flush(controller) {
          d.finish((frame) => controller.enqueue(frame));
        },
      });
    },
    encodeStream(): TransformStream<Out, Uint8Array> {
      const e = encoder();
      return new TransformStream<Out, Uint8Array>({
        transform(message, controller) {
          controller.enqueue(e.encode(message));
        },
      });
    },
  });
}

/**
 * Decodes a whole sequence of chunks and returns every message, ending the
 * stream after the last chunk.
 *
 * @example Usage
 * ```ts
 * import { decodeAll, lines, text } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const enc = new TextEncoder();
 * assertEquals(decodeAll(text(lines()), [enc.encode("a\nb"), enc.encode("\r\n")]), ["a", "b"]);
 * ```
 *
 * @typeParam T What the codec's decoder yields.
 * @param codec The codec.
 * @param chunks The bytes, cut any way.
 * @returns The messages.
 * @throws {FrameTooLargeError | DecodeError | UnexpectedEofError} As the decoder does.
 */
export function decodeAll<T>(
  codec: Pick<Codec<T, unknown>, "decoder">,
  chunks: Iterable<Uint8Array>,
): T[] {
  const out: T[] = [];
  const emit = (m: T) => void out.push(m);
  const d = codec.decoder();
  for (const chunk of chunks) d.decode(chunk, emit);
  d.finish(emit);
  return out;
}

/**
 * Encodes messages into one byte array.
 *
 * @example Usage
 * ```ts
 * import { encodeAll, lines, text } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(encodeAll(text(lines()), ["a", "b"]), new TextEncoder().encode("a\nb\n"));
 * ```
 *
 * @typeParam T What the codec's encoder takes.
 * @param codec The codec.
 * @param messages The messages.
 * @returns Their bytes, one after another.
 * @throws {FrameTooLargeError | TypeError} As the encoder does.
 */
export function encodeAll<T>(
  codec: Pick<Codec<unknown, T>, "encoder">,
  messages: Iterable<T>,
): Uint8Array {
  const e = codec.encoder();
  const buf = new ByteBuffer();
  for (const m of messages) e.encodeInto(m, buf);
  return buf.bytes().slice();
}

// ---------------------------------------------------------------------------
// The shared decoder skeleton

/**
 * Runs a decoder's scan over the bytes held from an earlier error plus the
 * new chunk, and on a throw keeps the bytes not yet consumed, so that the
 * decoder resumes exactly after the frame that failed.
 */
abstract class ResumableDecoder<T> implements Decoder<T> {
  /** Whether frames may be views (see {@linkcode DecoderOptions.borrow}). */
  protected borrow = false;
  /** Bytes not yet scanned when the last scan threw. */
  #held: Uint8Array | null = null;
  /** Index in the data of the current scan up to which bytes are consumed. */
  protected pos = 0;
  /** Bytes consumed over the whole stream, for error offsets. */
  protected total = 0;
  dropped = 0;

  decode(chunk: Uint8Array, emit: (frame: T) => void): void {
    let data = chunk;
    if (this.#held !== null) {
      data = concat2(this.#held, chunk);
      this.#held = null;
    }
    this.pos = 0;
    try {
      this.scan(data, emit);
    } catch (err) {
      if (this.pos < data.length) this.#held = data.slice(this.pos);
      this.total += this.pos;
      throw err;
    }
    this.total += data.length;
  }

  finish(emit: (frame: T) => void): void {
    if (this.#held !== null) {
      const held = this.#held;
      this.#held = null;
      try {
        this.decode(held, emit);
      } catch (err) {
        this.#held = null;
        this.end(() => {});
        this.total = 0;
        throw err;
      }
    }
    const err = this.end(emit);
    this.total = 0;
    if (err !== undefined) throw err;
  }

  get buffered(): number {
    return (this.#held?.length ?? 0) + this.held();
  }

  /** Consumes `data`, keeping `this.pos` at the consumed mark before every emit or throw. */
  protected abstract scan(data: Uint8Array, emit: (frame: T) => void): void;
  /** Bytes the subclass holds for a partial frame. */
  protected abstract held(): number;
  /** Ends the stream; resets state; returns the error to throw, if any. */
  protected abstract end(emit: (frame: T) => void): Error | undefined;
}

// ---------------------------------------------------------------------------
// lengthPrefixed

/** The width of a length field: a fixed number of bytes, or a varint. */
export type LengthFieldWidth = 1 | 2 | 4 | 8 | "varint";

/** Options for {@linkcode lengthPrefixed}. */
export interface LengthPrefixedOptions {
  /**
   * The width of the length field, in bytes, or `"varint"` for an unsigned
   * LEB128 varint (7 bits a byte, low bits first, high bit set on every
   * byte but the last).
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
   * The largest payload accepted, in bytes, on decode and on encode. A
   * spec whose length field cannot express it is rejected when built.
   *
   * @default {8388608 (8 MiB), or the field's largest value if smaller}
   */
  maxFrameLength?: number;
  /**
   * How many bytes of other header come before the length field. The
   * decoder skips them; the encoder writes {@linkcode LengthPrefixedOptions.prefix}.
   *
   * @default {0}
   */
  lengthOffset?: number;
  /**
   * The bytes the encoder writes before the length field; must be
   * `lengthOffset` long.
   *
   * @default {lengthOffset zero bytes}
   */
  prefix?: Uint8Array;
  /**
   * Added to the value of the length field to get the payload length
   * (the field counts `payload − lengthAdjustment`).
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
   * What to do with a frame over `maxFrameLength`.
   *
   * @default {"error"}
   */
  oversize?: OversizePolicy;
}

const MAX_FIELD_VALUE: Record<Exclude<LengthFieldWidth, "varint">, number> = {
  1: 0xff,
  2: 0xffff,
  4: 0xffff_ffff,
  8: Number.MAX_SAFE_INTEGER,
};

const DEFAULT_MAX_FRAME_LENGTH = 8 * 1024 * 1024;

interface LengthSpec {
  width: LengthFieldWidth;
  littleEndian: boolean;
  max: number;
  offset: number;
  prefix: Uint8Array;
  /** payload = fieldValue + delta */
  delta: number;
  /** Bytes of header for a fixed field; for varint, offset + 1 at least. */
  headerFixed: number;
  /** Bytes of header at the most. */
  headerMax: number;
  oversize: OversizePolicy;
}

function isNonNegInt(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

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
  if (
    lengthBytes !== 1 && lengthBytes !== 2 && lengthBytes !== 4 &&
    lengthBytes !== 8 && lengthBytes !== "varint"
  ) {
    throw new TypeError(
      `Cannot build lengthPrefixed codec: lengthBytes must be 1, 2, 4, 8 or "varint", received ${
        JSON.stringify(lengthBytes)
      }`,
    );
  }
  if (!isNonNegInt(lengthOffset)) {
    throw new RangeError(
      `Cannot build lengthPrefixed codec: lengthOffset must be a non-negative integer, received ${lengthOffset}`,
    );
  }
  if (!Number.isSafeInteger(lengthAdjustment)) {
    throw new RangeError(
      `Cannot build lengthPrefixed codec: lengthAdjustment must be an integer, received ${lengthAdjustment}`,
    );
  }
  if (lengthIncludesHeader && lengthBytes === "varint") {
    throw new TypeError(
      "Cannot build lengthPrefixed codec: lengthIncludesHeader does not work with a varint length field",
    );
  }
  if (oversize !== "error" && oversize !== "skip") {
    throw new TypeError(
      `Cannot build lengthPrefixed codec: oversize must be "error" or "skip", received ${
        JSON.stringify(oversize)
      }`,
    );
  }
  const prefix = options.prefix ?? new Uint8Array(lengthOffset);
  if (prefix.length !== lengthOffset) {
    throw new RangeError(
      `Cannot build lengthPrefixed codec: prefix has ${prefix.length} bytes, expected lengthOffset ${lengthOffset}`,
    );
  }
  const headerFixed = lengthOffset +
    (lengthBytes === "varint" ? 1 : lengthBytes);
  const delta = lengthAdjustment - (lengthIncludesHeader ? headerFixed : 0);
  const fieldMax = lengthBytes === "varint"
    ? Number.MAX_SAFE_INTEGER
    : MAX_FIELD_VALUE[lengthBytes];
  // The largest payload the field can express.
  const expressible = fieldMax + delta;
  const max = options.maxFrameLength ??
    Math.max(0, Math.min(DEFAULT_MAX_FRAME_LENGTH, expressible));
  if (!isNonNegInt(max)) {
    throw new RangeError(
      `Cannot build lengthPrefixed codec: maxFrameLength must be a non-negative integer, received ${max}`,
    );
  }
  if (max > expressible) {
    throw new RangeError(
      `Cannot build lengthPrefixed codec: maxFrameLength ${max} does not fit a ${lengthBytes}-byte length field (largest payload ${expressible})`,
    );
  }
  if (delta > 0 && max < delta) {
    throw new RangeError(
      `Cannot build lengthPrefixed codec: maxFrameLength ${max} is below the smallest payload ${delta} the header allows`,
    );
  }
  const headerMax = lengthBytes === "varint"
    ? lengthOffset + varintSize(Number.MAX_SAFE_INTEGER)
    : headerFixed;
  return {
    width: lengthBytes,
    littleEndian,
    max,
    offset: lengthOffset,
    prefix,
    delta,
    headerFixed,
    headerMax,
    oversize,
  };
}

/**
 * Reads a fixed-width length field at `at`; returns the field value (for
 * 8 bytes, values past 2^53 come back rounded, and are over any limit).
 */
function readField(
  b: Uint8Array,
  at: number,
  width: 1 | 2 | 4 | 8,
  le: boolean,
): number {
  switch (width) {
    case 1:
      return b[at]!;
    case 2:
      return le ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!;
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

function writeField(
  b: Uint8Array,
  at: number,
  width: 1 | 2 | 4 | 8,
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
  // width 1, 2 or 4: value < 2^32, so 32-bit shifts are exact.
  if (le) {
    for (let k = 0; k < width; k++) b[at + k] = (value >>> (8 * k)) & 0xff;
  } else {
    for (let k = 0; k < width; k++) {
      b[at + k] = (value >>> (8 * (width - 1 - k))) & 0xff;
    }
  }
}

/** The largest scratch buffer a borrowing decoder keeps for reuse. */
const MAX_SCRATCH = 1 << 20;

/** A header parse that needs more bytes. */
const NEED_MORE = Number.MIN_SAFE_INTEGER;

class LengthPrefixedDecoder extends ResumableDecoder<Uint8Array> {
  readonly #s: LengthSpec;
  /** Partial header bytes; made when a header first straddles reads. */
  #headBuf: Uint8Array | null = null;
  #headFill = 0;
  /** The frame being filled, once its header is read. */
  #frame: Uint8Array | null = null;
  #frameLen = 0;
  #frameFill = 0;
  /** Payload bytes still to skip of a frame over the limit. */
  #discard = 0;
  /** Set by #parseHeader: the header's size. */
  #headerSize = 0;
  /** The header size of the frame being filled. */
  #frameHead = 0;

  constructor(spec: LengthSpec, borrow: boolean) {
    super();
    this.borrow = borrow;
    this.#s = spec;
  }

  protected held(): number {
    return this.#headFill + this.#frameFill;
  }

  #head(): Uint8Array {
    return this.#headBuf ??= new Uint8Array(this.#s.headerMax);
  }

  /**
   * Parses a header at `b[at..end)`. Returns the payload length (negative
   * when the header is bad), or `NEED_MORE`; sets `#headerSize`.
   */
  #parseHeader(b: Uint8Array, at: number, end: number): number {
    const s = this.#s;
    if (s.width !== "varint") {
      if (end - at < s.headerFixed) return NEED_MORE;
      this.#headerSize = s.headerFixed;
      return readField(b, at + s.offset, s.width, s.littleEndian) + s.delta;
    }
    let value = 0;
    let scale = 1;
    const limit = Math.min(end, at + s.headerMax);
    for (let i = at + s.offset; i < limit; i++) {
      const byte = b[i]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) {
        this.#headerSize = i + 1 - at;
        return value + s.delta;
      }
    }
    if (end - at >= s.headerMax) {
      // More continuation bytes than the limit can need: the length is
      // over the limit. Report it without reading further.
      this.#headerSize = s.headerMax;
      return Infinity;
    }
    return NEED_MORE;
  }

  protected scan(b: Uint8Array, emit: (frame: Uint8Array) => void): void {
    const s = this.#s;
    const n = b.length;
    let i = 0;
    if (this.#discard > 0) {
      const k = Math.min(this.#discard, n);
      this.#discard -= k;
      i = this.pos = k;
    }
    if (this.#frame !== null) {
      const k = Math.min(this.#frameLen - this.#frameFill, n - i);
      this.#fill(b.subarray(i, i + k));
      i = this.pos = i + k;
      if (this.#frameFill === this.#frameLen) {
        emit(this.#takeFrame());
      }
    }
    if (this.#headFill > 0 && i < n) {
      // Complete the header from the held bytes plus the new ones.
      const k = Math.min(s.headerMax - this.#headFill, n - i);
      this.#head().set(b.subarray(i, i + k), this.#headFill);
      const fill = this.#headFill + k;
      const len = this.#parseHeader(this.#head(), 0, fill);
      if (len === NEED_MORE) {
        this.#headFill = fill;
        i = this.pos = i + k;
        return;
      }
      // Header bytes from this chunk actually used:
      const used = this.#headerSize - this.#headFill;
      this.#headFill = 0;
      i = this.pos = i + used;
      if (len < 0) {
        throw this.#negative(len);
      } else if (len > s.max) {
        i = this.#skipOversize(len, b, i);
      } else if (n - i >= len) {
        i = this.pos = i + len;
        emit(b.slice(i - len, i));
      } else {
        this.#startFrame(len, b.subarray(i));
        i = this.pos = n;
        return;
      }
    }
    // The fast path: the whole frames inside the chunk share one copy of
    // their bytes (one allocation per run of frames, not one per frame).
    while (i < n) {
      if (this.borrow) {
        // Borrowing: one pass, each frame a view of the chunk.
        if (s.width === 4 && !s.littleEndian && s.offset === 0) {
          // The default header, read inline.
          const max = s.max;
          const delta = s.delta;
          const buffer = b.buffer;
          const base = b.byteOffset;
          while (n - i >= 4) {
            const len = (((b[i]! << 24) | (b[i + 1]! << 16) |
              (b[i + 2]! << 8) | b[i + 3]!) >>> 0) + delta;
            if (len < 0 || len > max) break;
            const end = i + 4 + len;
            if (end > n) break;
            const start = i + 4;
            i = this.pos = end;
            emit(new Uint8Array(buffer, base + start, len));
          }
          if (i >= n) return;
        }
        for (;;) {
          const len = this.#parseHeader(b, i, n);
          if (len < 0 || len > s.max) break;
          const start = i + this.#headerSize;
          const end = start + len;
          if (end > n) break;
          i = this.pos = end;
          emit(b.subarray(start, end));
        }
        if (i >= n) return;
      }
      let j = i;
      for (;;) {
        const len = this.#parseHeader(b, j, n);
        if (len < 0 || len > s.max) break;
        const end = j + this.#headerSize + len;
        if (end > n) break;
        j = end;
      }
      if (j > i) {
        const run = b.slice(i, j);
        const base = i;
        let k = 0;
        while (k < run.length) {
          const len = this.#parseHeader(run, k, run.length);
          const start = k + this.#headerSize;
          k = start + len;
          i = this.pos = base + k;
          emit(run.subarray(start, k));
        }
        continue;
      }
      const len = this.#parseHeader(b, i, n);
      if (len === NEED_MORE) {
        this.#head().set(b.subarray(i), 0);
        this.#headFill = n - i;
        this.pos = n;
        return;
      }
      const start = i + this.#headerSize;
      if (len < 0) {
        this.pos = start;
        throw this.#negative(len);
      }
      if (len > s.max) {
        i = this.#skipOversize(len, b, start);
        continue;
      }
      this.#startFrame(len, b.subarray(start));
      this.pos = n;
      return;
    }
  }

  #negative(len: number): DecodeError {
    return new DecodeError(
      `Cannot decode frame: length field gives a negative payload length ${len}`,
      { offset: this.total + this.pos },
    );
  }

  /**
   * Handles a frame over the limit whose payload starts at `b[i]`: skips
   * what of it is here and discards the rest as it comes; throws or counts.
   * Returns the index after the skipped bytes.
   */
  #skipOversize(len: number, b: Uint8Array, i: number): number {
    const max = this.#s.max;
    if (len > Number.MAX_SAFE_INTEGER) {
      // Too long to skip: the stream cannot be resynchronised.
      this.pos = i;
      throw new FrameTooLargeError(len, max, {
        message: this.#s.width === "varint"
          ? `Cannot decode frame: varint length field longer than ${
            this.#s.headerMax - this.#s.offset
          } bytes exceeds maxFrameLength ${max}`
          : undefined,
      });
    }
    const k = Math.min(len, b.length - i);
    this.#discard = len - k;
    this.pos = i + k;
    if (this.#s.oversize === "skip") {
      this.dropped++;
    } else {
      throw new FrameTooLargeError(len, max);
    }
    return i + k;
  }

  #startFrame(len: number, first: Uint8Array): void {
    this.#frameHead = this.#headerSize;
    this.#frameLen = len;
    const size = Math.min(len, Math.max(EAGER_FRAME_BYTES, first.length * 2));
    let frame: Uint8Array | undefined;
    if (this.borrow) {
      // Two scratch buffers take turns: the frame emitted from one stays
      // intact while the next frame fills the other.
      this.#flip ^= 1;
      frame = (this.#scratch ??= [undefined, undefined])[this.#flip];
      if (frame !== undefined && frame.length < size) frame = undefined;
    }
    frame ??= new Uint8Array(size);
    frame.set(first);
    this.#frame = frame;
    this.#frameFill = first.length;
  }

  /** Scratch buffers of borrowed frames that straddle reads. */
  #scratch: [Uint8Array | undefined, Uint8Array | undefined] | null = null;
  #flip = 0;

  #fill(part: Uint8Array): void {
    let frame = this.#frame!;
    const need = this.#frameFill + part.length;
    if (need > frame.length) {
      const next = new Uint8Array(
        Math.min(this.#frameLen, Math.max(need, frame.length * 2)),
      );
      next.set(frame.subarray(0, this.#frameFill));
      frame = this.#frame = next;
    }
    frame.set(part, this.#frameFill);
    this.#frameFill = need;
    if (this.borrow && need === this.#frameLen && need <= MAX_SCRATCH) {
      (this.#scratch ??= [undefined, undefined])[this.#flip] = frame;
    }
  }

  #takeFrame(): Uint8Array {
    const frame = this.borrow
      ? this.#frame!.subarray(0, this.#frameLen)
      : this.#frame!;
    this.#frame = null;
    this.#frameFill = 0;
    this.#frameLen = 0;
    return frame;
  }

  protected end(): Error | undefined {
    const remaining = this.#headFill +
      (this.#frame !== null ? this.#frameHead + this.#frameFill : 0);
    this.#frame = null;
    this.#frameFill = 0;
    this.#frameLen = 0;
    this.#headFill = 0;
    this.#discard = 0;
    return remaining > 0 ? new UnexpectedEofError(remaining) : undefined;
  }
}

class LengthPrefixedEncoder implements Encoder<Uint8Array> {
  readonly #s: LengthSpec;

  constructor(spec: LengthSpec) {
    this.#s = spec;
  }

  encodeInto(message: Uint8Array, out: ByteBuffer): void {
    const s = this.#s;
    const len = message.length;
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
    if (s.width === "varint") {
      const size = varintSize(field);
      const head = out.reserve(s.offset + size + len);
      head.set(s.prefix, 0);
      let v = field;
      let k = s.offset;
      while (v >= 128) {
        head[k++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      head[k++] = v;
      head.set(message, k);
      out.commit(k + len);
      return;
    }
    const h = s.headerFixed;
    const buf = out.ensure(h + len);
    const at = out.length;
    if (s.offset > 0) buf.set(s.prefix, at);
    if (s.width === 4 && !s.littleEndian) {
      const f = at + s.offset;
      buf[f] = field >>> 24;
      buf[f + 1] = (field >>> 16) & 0xff;
      buf[f + 2] = (field >>> 8) & 0xff;
      buf[f + 3] = field & 0xff;
    } else {
      writeField(buf, at + s.offset, s.width, s.littleEndian, field);
    }
    if (len > 0) buf.set(message, at + h);
    out.commit(h + len);
  }

  encode(message: Uint8Array): Uint8Array {
    const buf = new ByteBuffer(this.#s.headerMax + message.length);
    this.encodeInto(message, buf);
    return buf.bytes();
  }
}

/**
 * A framing where each frame starts with its length. With the defaults,
 * a 4-byte big-endian length, then the payload; the same bytes as tokio's
 * `LengthDelimitedCodec::new()` and Netty's `LengthFieldPrepender(4)` /
 * `LengthFieldBasedFrameDecoder(max, 0, 4, 0, 4)`.
 *
 * ```text
 * lengthPrefixed()                          "hello" → 00 00 00 05 68 65 6c 6c 6f
 * lengthPrefixed({ lengthBytes: 2, littleEndian: true })
 *                                           "hello" → 05 00 68 65 6c 6c 6f
 * lengthPrefixed({ lengthBytes: "varint" }) 300 bytes → ac 02 <300 bytes>
 * lengthPrefixed({ lengthIncludesHeader: true })
 *                                           "hello" → 00 00 00 09 68 65 6c 6c 6f
 * lengthPrefixed({ lengthOffset: 1, prefix: new Uint8Array([0xca]) })
 *                                           "hello" → ca 00 00 00 05 68 65 6c 6c 6f
 * lengthPrefixed({ lengthAdjustment: 2 })   "hello" → 00 00 00 03 68 65 6c 6c 6f
 * ```
 *
 * A length over `maxFrameLength` throws {@linkcode FrameTooLargeError}
 * when the header arrives, before any payload is buffered; the payload's
 * bytes are then skipped. A field that gives a negative payload length
 * throws {@linkcode DecodeError}. EOF inside a header or payload throws
 * {@linkcode UnexpectedEofError}.
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
 * @param options The layout of the header and the limit.
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
    decoder: (options) => new LengthPrefixedDecoder(spec, !!options?.borrow),
    encoder: once(() => new LengthPrefixedEncoder(spec)),
  });
}

// ---------------------------------------------------------------------------
// delimited, lines

/** What a delimiter-based decoder does with a partial frame at EOF. */
export type EofPolicy = "error" | "emit";

/** Options for {@linkcode delimited}. */
export interface DelimitedOptions {
  /** The delimiter: bytes, or a string taken as UTF-8. Not empty. */
  delimiter: Uint8Array | string;
  /**
   * The longest frame accepted, in bytes, delimiter excluded. Checked as
   * bytes arrive, so a peer that never sends the delimiter cannot grow the
   * buffer past it.
   *
   * @default {65536}
   */
  maxLength?: number;
  /**
   * What to do with a frame over `maxLength`: `"error"` throws
   * {@linkcode FrameTooLargeError} once and discards up to the next
   * delimiter; `"skip"` discards it silently, counted in
   * {@linkcode Decoder.dropped}.
   *
   * @default {"error"}
   */
  oversize?: OversizePolicy;
  /**
   * What to do with bytes after the last delimiter at EOF: throw
   * {@linkcode UnexpectedEofError}, or emit them as a last frame.
   *
   * @default {"error"}
   */
  eof?: EofPolicy;
}

/** No delimiter found (`-1` is a valid straddling position). */
const NOT_FOUND = Number.MIN_SAFE_INTEGER;

class DelimitedDecoder extends ResumableDecoder<Uint8Array> {
  readonly #delim: Uint8Array;
  readonly #max: number;
  readonly #oversizePolicy: OversizePolicy;
  readonly #eof: EofPolicy;
  readonly #stripCR: boolean;
  /** The partial frame (may end with a partial delimiter). */
  #buf = new Uint8Array(0);
  #fill = 0;
  /** Skipping to the next delimiter after an oversize frame. */
  #discarding = false;
  /** Bytes seen of the frame being discarded (for the error). */
  #discarded = 0;

  constructor(
    delim: Uint8Array,
    max: number,
    oversize: OversizePolicy,
    eof: EofPolicy,
    stripCR: boolean,
    borrow: boolean,
  ) {
    super();
    this.borrow = borrow;
    this.#delim = delim;
    this.#max = max;
    this.#oversizePolicy = oversize;
    this.#eof = eof;
    this.#stripCR = stripCR;
  }

  protected held(): number {
    return this.#fill;
  }

  /** A copy of the frame `b[start..end)`, without a CR before the LF for lines. */
  #frame(b: Uint8Array, start: number, end: number): Uint8Array {
    if (this.#stripCR && end > start && b[end - 1] === 0x0d) end--;
    return b.slice(start, end);
  }

  /** A view of the frame `b[start..end)`, as {@linkcode #frame}. */
  #view(b: Uint8Array, start: number, end: number): Uint8Array {
    if (this.#stripCR && end > start && b[end - 1] === 0x0d) end--;
    return b.subarray(start, end);
  }

  /** Where the delimiter starts in `b` at or after `from`, or -1. */
  #find(b: Uint8Array, from: number): number {
    const d = this.#delim;
    return d.length === 1
      ? b.indexOf(d[0]!, from)
      : indexOfSequence(b, d, from);
  }

  /** Appends to the held partial frame, growing within the bound. */
  #hold(part: Uint8Array): void {
    const need = this.#fill + part.length;
    if (need > this.#buf.length) {
      const next = new Uint8Array(
        Math.min(
          this.#max + this.#delim.length,
          Math.max(need, 256, this.#buf.length * 2),
        ),
      );
      next.set(this.#buf.subarray(0, this.#fill));
      this.#buf = next;
    }
    this.#buf.set(part, this.#fill);
    this.#fill = need;
  }

  protected scan(b: Uint8Array, emit: (frame: Uint8Array) => void): void {
    const d = this.#delim;
    const dl = d.length;
    const max = this.#max;
    const n = b.length;
    let i = 0;
    while (i < n) {
      if (this.#fill === 0 && !this.#discarding) {
        // Fast path: the frames wholly inside the chunk share one copy of
        // their bytes.
        let j = i;
        for (;;) {
          const at = this.#find(b, j);
          if (at === -1 || at - j > max) break;
          j = at + dl;
        }
        if (j > i) {
          const run = this.borrow ? b.subarray(i, j) : b.slice(i, j);
          const base = i;
          let k = 0;
          while (k < run.length) {
            const at = this.#find(run, k);
            const start = k;
            k = at + dl;
            i = this.pos = base + k;
            emit(this.#view(run, start, at));
          }
          continue;
        }
        const at = this.#find(b, i);
        if (at === -1 && n - i <= max + dl - 1) {
          this.#hold(b.subarray(i));
          this.pos = n;
          return;
        }
        // Over the limit with no delimiter in reach: start discarding.
        this.#startDiscard(b, i, at);
        i = this.pos;
        continue;
      }
      if (this.#discarding) {
        // Look for the delimiter, also where it straddles the chunks.
        const at = this.#findAcross(b, i);
        if (at === NOT_FOUND) {
          this.#keepTail(b, i);
          this.#discarded += n - i;
          this.pos = n;
          return;
        }
        this.#discarded += at + dl - i;
        this.#discarding = false;
        this.#fill = 0;
        i = this.pos = at + dl;
        continue;
      }
      // A partial frame is held: find the end, possibly straddling.
      const at = this.#findAcross(b, i);
      if (at === NOT_FOUND) {
        if (this.#fill + (n - i) > max + dl - 1) {
          this.#startDiscard(b, i, -1);
          i = this.pos;
          continue;
        }
        this.#hold(b.subarray(i));
        this.pos = n;
        return;
      }
      // `at` may be before `i`: the delimiter began in the held bytes.
      const frameLen = this.#fill + at - i;
      if (frameLen > max) {
        this.#fill = 0;
        i = this.pos = at + dl;
        this.#oversize(frameLen);
        continue;
      }
      let frame: Uint8Array;
      if (at <= i) {
        frame = this.#frame(this.#buf, 0, frameLen);
      } else {
        this.#hold(b.subarray(i, at));
        frame = this.#frame(this.#buf, 0, this.#fill);
      }
      this.#fill = 0;
      i = this.pos = at + dl;
      emit(frame);
    }
  }

  /**
   * Finds the delimiter in the held bytes' tail plus `b[i..)`. Returns its
   * start relative to `b` (before `i` when it starts in the held bytes),
   * or `NOT_FOUND`.
   */
  #findAcross(b: Uint8Array, i: number): number {
    const d = this.#delim;
    const dl = d.length;
    const held = this.#buf;
    const fill = this.#fill;
    for (let k = Math.min(dl - 1, fill); k >= 1; k--) {
      // k bytes of the delimiter at the end of the held bytes?
      if (
        rangeEquals(held, fill - k, d, 0, k) && b.length - i >= dl - k &&
        rangeEquals(b, i, d, k, dl - k)
      ) {
        return i - k;
      }
    }
    const at = this.#find(b, i);
    return at === -1 ? NOT_FOUND : at;
  }

  /** Keeps only the last `dl − 1` bytes while discarding, to spot a straddling delimiter. */
  #keepTail(b: Uint8Array, i: number): void {
    const keep = this.#delim.length - 1;
    const fromB = Math.min(keep, b.length - i);
    const fromHeld = Math.min(keep - fromB, this.#fill);
    this.#buf.copyWithin(0, this.#fill - fromHeld, this.#fill);
    this.#fill = fromHeld;
    this.#hold(b.subarray(b.length - fromB));
  }

  /** Enters the discarding state for the frame at `b[i..)`, reporting it. */
  #startDiscard(b: Uint8Array, i: number, at: number): void {
    const seen = this.#fill + (at === -1 ? b.length - i : at - i);
    this.#discarding = true;
    this.#discarded = seen;
    if (at !== -1) {
      // The delimiter is here: the whole bad frame is in reach.
      this.#discarding = false;
      this.#fill = 0;
      this.pos = at + this.#delim.length;
    } else {
      this.#keepTail(b, i);
      this.pos = b.length;
    }
    this.#oversize(seen);
  }

  #oversize(seen: number): void {
    if (this.#oversizePolicy === "skip") {
      this.dropped++;
      return;
    }
    throw new FrameTooLargeError(seen, this.#max, {
      limitName: "maxLength",
      message:
        `Cannot decode frame: ${seen} bytes without a delimiter exceed maxLength ${this.#max}`,
    });
  }

  protected end(emit: (frame: Uint8Array) => void): Error | undefined {
    const remaining = this.#discarding ? 0 : this.#fill;
    const frame = this.#frame(this.#buf, 0, this.#fill);
    this.#fill = 0;
    this.#discarding = false;
    if (remaining === 0) return undefined;
    if (this.#eof === "emit") {
      emit(frame);
      return undefined;
    }
    return new UnexpectedEofError(remaining);
  }
}

function checkDelimited(options: {
  maxLength?: number;
  oversize?: OversizePolicy;
  eof?: EofPolicy;
}, what: string): void {
  const { maxLength = 65536, oversize = "error", eof = "error" } = options;
  if (!isNonNegInt(maxLength) || maxLength === 0) {
    throw new RangeError(
      `Cannot build ${what} codec: maxLength must be a positive integer, received ${maxLength}`,
    );
  }
  if (oversize !== "error" && oversize !== "skip") {
    throw new TypeError(
      `Cannot build ${what} codec: oversize must be "error" or "skip", received ${
        JSON.stringify(oversize)
      }`,
    );
  }
  if (eof !== "error" && eof !== "emit") {
    throw new TypeError(
      `Cannot build ${what} codec: eof must be "error" or "emit", received ${
        JSON.stringify(eof)
      }`,
    );
  }
}

class DelimitedEncoder implements Encoder<Uint8Array> {
  readonly #delim: Uint8Array;
  readonly #max: number;

  constructor(delim: Uint8Array, max: number) {
    this.#delim = delim;
    this.#max = max;
  }

  encodeInto(message: Uint8Array, out: ByteBuffer): void {
    const d = this.#delim;
    if (message.length > this.#max) {
      throw new FrameTooLargeError(message.length, this.#max, {
        message:
          `Cannot encode frame: length ${message.length} exceeds maxLength ${this.#max}`,
      });
    }
    const view = out.reserve(message.length + d.length);
    view.set(message, 0);
    view.set(d, message.length);
    // The first delimiter in message + delimiter must be the appended one;
    // one that starts inside the message would end the frame early.
    const at = d.length === 1
      ? message.indexOf(d[0]!)
      : indexOfSequence(view, d, 0);
    if (at !== -1 && at < message.length) {
      throw new TypeError(
        `Cannot encode frame: message contains the delimiter at offset ${at}`,
      );
    }
    out.commit(message.length + d.length);
  }

  encode(message: Uint8Array): Uint8Array {
    const buf = new ByteBuffer(message.length + this.#delim.length);
    this.encodeInto(message, buf);
    return buf.bytes();
  }
}

/**
 * A framing where each frame ends with a delimiter; frames exclude it.
 *
 * ```text
 * delimited({ delimiter: "\0" })   "ab", "c" → 61 62 00 63 00
 * delimited({ delimiter: "\r\n" }) "ab"      → 61 62 0d 0a
 * ```
 *
 * The buffer of a partial frame never grows past `maxLength`: at that point
 * the decoder throws {@linkcode FrameTooLargeError} once, then discards up
 * to the next delimiter and resumes. A message that contains the delimiter
 * cannot be encoded (it would not decode to itself).
 *
 * @example Usage
 * ```ts
 * import { decodeAll, delimited } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const codec = delimited({ delimiter: "||" });
 * const enc = new TextEncoder();
 * assertEquals(
 *   decodeAll(codec, [enc.encode("a|"), enc.encode("|b||")]),
 *   [enc.encode("a"), enc.encode("b")],
 * );
 * ```
 *
 * @param options The delimiter, the limit and the policies.
 * @returns The codec.
 * @throws {TypeError} The delimiter is empty or an option has the wrong type.
 * @throws {RangeError} `maxLength` is not a positive integer.
 */
export function delimited(options: DelimitedOptions): Codec<Uint8Array> {
  const delim = typeof options.delimiter === "string"
    ? new TextEncoder().encode(options.delimiter)
    : options.delimiter?.slice();
  if (!(delim instanceof Uint8Array) || delim.length === 0) {
    throw new TypeError(
      "Cannot build delimited codec: delimiter must be a non-empty Uint8Array or string",
    );
  }
  checkDelimited(options, "delimited");
  const { maxLength = 65536, oversize = "error", eof = "error" } = options;
  return createCodec({
    name: "delimited",
    decoder: (options) =>
      new DelimitedDecoder(
        delim,
        maxLength,
        oversize,
        eof,
        false,
        !!options?.borrow,
      ),
    encoder: once(() => new DelimitedEncoder(delim, maxLength)),
  });
}

/** Options for {@linkcode lines}. */
export interface LinesOptions {
  /**
   * The longest line accepted, in bytes, counting a CR before the LF.
   *
   * @default {65536}
   */
  maxLength?: number;
  /**
   * What to do with a line over `maxLength`.
   *
   * @default {"error"}
   */
  oversize?: OversizePolicy;
  /**
   * What to do with a last line that has no LF at EOF.
   *
   * @default {"error"}
   */
  eof?: EofPolicy;
  /**
   * Whether the encoder ends lines with CR LF instead of LF.
   *
   * @default {false}
   */
  crlf?: boolean;
}

/**
 * A framing of lines: each frame ends with LF, and a CR before the LF is
 * dropped, so both `\n` and `\r\n` endings decode. The encoder writes LF
 * (or CR LF with `crlf: true`).
 *
 * ```text
 * "hi", "yo" → 68 69 0a 79 6f 0a          (crlf: false)
 *            → 68 69 0d 0a 79 6f 0d 0a    (crlf: true)
 * ```
 *
 * @example Usage
 * ```ts
 * import { decodeAll, lines, text } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const bytes = new TextEncoder().encode("GET / HTTP/1.0\r\nHost: x\r\n\r\n");
 * assertEquals(decodeAll(text(lines()), [bytes]), ["GET / HTTP/1.0", "Host: x", ""]);
 * ```
 *
 * @param options The limit and the policies.
 * @returns The codec.
 * @throws {RangeError} `maxLength` is not a positive integer.
 */
export function lines(options: LinesOptions = {}): Codec<Uint8Array> {
  checkDelimited(options, "lines");
  const {
    maxLength = 65536,
    oversize = "error",
    eof = "error",
    crlf = false,
  } = options;
  const lf = new Uint8Array([0x0a]);
  const encodeDelim = crlf ? new Uint8Array([0x0d, 0x0a]) : lf;
  return createCodec({
    name: "lines",
    decoder: (options) =>
      new DelimitedDecoder(
        lf,
        maxLength,
        oversize,
        eof,
        true,
        !!options?.borrow,
      ),
    encoder: once(() => new LinesEncoder(encodeDelim, maxLength, crlf)),
  });
}

class LinesEncoder implements Encoder<Uint8Array> {
  readonly #inner: DelimitedEncoder;
  readonly #max: number;
  readonly #crlf: boolean;

  constructor(delim: Uint8Array, max: number, crlf: boolean) {
    this.#inner = new DelimitedEncoder(delim, max);
    this.#max = max;
    this.#crlf = crlf;
  }

  encodeInto(message: Uint8Array, out: ByteBuffer): void {
    const lf = message.indexOf(0x0a);
    if (lf !== -1) {
      throw new TypeError(
        `Cannot encode line: message contains LF at offset ${lf}`,
      );
    }
    if (this.#crlf) {
      if (message.length + 1 > this.#max) {
        throw new FrameTooLargeError(message.length + 1, this.#max, {
          message:
            `Cannot encode line: length ${message.length} plus CR exceeds maxLength ${this.#max}`,
        });
      }
    } else if (message[message.length - 1] === 0x0d) {
      throw new TypeError(
        "Cannot encode line: message ends with CR, which the decoder strips",
      );
    }
    this.#inner.encodeInto(message, out);
  }

  encode(message: Uint8Array): Uint8Array {
    const buf = new ByteBuffer(message.length + 2);
    this.encodeInto(message, buf);
    return buf.bytes();
  }
}

// ---------------------------------------------------------------------------
// fixedLength

class FixedLengthDecoder extends ResumableDecoder<Uint8Array> {
  readonly #n: number;
  #frame: Uint8Array | null = null;
  #fill = 0;

  constructor(n: number) {
    super();
    this.#n = n;
  }

  protected held(): number {
    return this.#fill;
  }

  protected scan(b: Uint8Array, emit: (frame: Uint8Array) => void): void {
    const size = this.#n;
    const n = b.length;
    let i = 0;
    if (this.#frame !== null) {
      const k = Math.min(size - this.#fill, n);
      this.#frame.set(b.subarray(0, k), this.#fill);
      this.#fill += k;
      i = this.pos = k;
      if (this.#fill < size) return;
      const frame = this.#frame;
      this.#frame = null;
      this.#fill = 0;
      emit(frame);
    }
    if (n - i >= size) {
      // The whole frames share one copy of their bytes.
      const count = Math.floor((n - i) / size);
      const run = b.slice(i, i + count * size);
      const base = i;
      for (let k = 0; k < run.length; k += size) {
        i = this.pos = base + k + size;
        emit(run.subarray(k, k + size));
      }
    }
    if (i < n) {
      this.#frame = new Uint8Array(size);
      this.#frame.set(b.subarray(i));
      this.#fill = n - i;
      this.pos = n;
    }
  }

  protected end(): Error | undefined {
    const remaining = this.#fill;
    this.#frame = null;
    this.#fill = 0;
    return remaining > 0 ? new UnexpectedEofError(remaining) : undefined;
  }
}

/**
 * A framing of frames that all have the same length.
 *
 * ```text
 * fixedLength(3): 01 02 03 04 05 06 → [01 02 03] [04 05 06]
 * ```
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
  return createCodec({
    name: "fixedLength",
    decoder: () => new FixedLengthDecoder(length),
    encoder: once(() => ({
      encodeInto(message: Uint8Array, out: ByteBuffer): void {
        if (message.length !== length) {
          throw new RangeError(
            `Cannot encode frame: length ${message.length} is not the fixed length ${length}`,
          );
        }
        out.append(message);
      },
      encode(message: Uint8Array): Uint8Array {
        const buf = new ByteBuffer(length);
        this.encodeInto(message, buf);
        return buf.bytes();
      },
    })),
  });
}

// ---------------------------------------------------------------------------
// netstring

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

class NetstringDecoder extends ResumableDecoder<Uint8Array> {
  readonly #max: number;
  readonly #maxDigits: number;
  readonly #oversizePolicy: OversizePolicy;
  /** Length digits read so far (-1: none yet). */
  #len = -1;
  #digits = 0;
  /** The payload being filled, plus its trailing comma. */
  #frame: Uint8Array | null = null;
  #need = 0;
  #fill = 0;
  /** Bytes (payload and comma) still to skip after an oversize length. */
  #discard = 0;
  /** Bytes of the length and colon of the frame being filled. */
  #frameHead = 0;

  constructor(max: number, oversize: OversizePolicy) {
    super();
    this.#max = max;
    this.#maxDigits = String(Number.MAX_SAFE_INTEGER).length - 1;
    this.#oversizePolicy = oversize;
  }

  protected held(): number {
    return this.#digits + this.#fill;
  }

  #bad(what: string, at: number): DecodeError {
    return new DecodeError(
      `Cannot decode netstring: ${what} at offset ${this.total + at}`,
      { offset: this.total + at },
    );
  }

  protected scan(b: Uint8Array, emit: (frame: Uint8Array) => void): void {
    const n = b.length;
    let i = 0;
    while (i < n) {
      if (this.#discard > 0) {
        const k = Math.min(this.#discard, n - i);
        this.#discard -= k;
        i = this.pos = i + k;
        continue;
      }
      if (this.#frame === null) {
        // Reading the length digits, then ':'.
        const c = b[i]!;
        if (c >= 0x30 && c <= 0x39) {
          if (this.#len === 0) {
            this.#len = -1;
            this.#digits = 0;
            this.pos = i + 1;
            throw this.#bad("leading zero in length", i);
          }
          if (this.#digits >= this.#maxDigits) {
            this.#len = -1;
            this.#digits = 0;
            i = this.pos = i + 1;
            this.#oversizeDigits();
            continue;
          }
          this.#len = (this.#len === -1 ? 0 : this.#len * 10) + (c - 0x30);
          this.#digits++;
          i = this.pos = i + 1;
          continue;
        }
        if (c !== 0x3a || this.#len === -1) {
          const what = this.#digits === 0
            ? `expected a digit, found byte 0x${hex(c)}`
            : `expected a digit or ':', found byte 0x${hex(c)}`;
          this.#len = -1;
          this.#digits = 0;
          this.pos = i + 1;
          throw this.#bad(what, i);
        }
        const len = this.#len;
        this.#frameHead = this.#digits + 1;
        this.#len = -1;
        this.#digits = 0;
        i = this.pos = i + 1;
        if (len > this.#max) {
          this.#discard = len + 1;
          this.#report(len);
          continue;
        }
        // Fast path: the payload and its comma are in the chunk.
        if (n - i >= len + 1) {
          if (b[i + len] !== 0x2c) {
            i = this.pos = i + len + 1;
            throw this.#bad(
              `expected ',' after ${len} bytes, found byte 0x${hex(b[i - 1]!)}`,
              i - 1,
            );
          }
          i = this.pos = i + len + 1;
          emit(b.slice(i - len - 1, i - 1));
          continue;
        }
        this.#need = len + 1;
        this.#frame = new Uint8Array(
          Math.min(len + 1, Math.max(EAGER_FRAME_BYTES, (n - i) * 2)),
        );
        this.#fill = 0;
      }
      // Filling a payload.
      const k = Math.min(this.#need - this.#fill, n - i);
      this.#grow(this.#fill + k);
      this.#frame!.set(b.subarray(i, i + k), this.#fill);
      this.#fill += k;
      i = this.pos = i + k;
      if (this.#fill === this.#need) {
        const frame = this.#frame!;
        this.#frame = null;
        this.#fill = 0;
        if (frame[this.#need - 1] !== 0x2c) {
          throw this.#bad(
            `expected ',' after ${this.#need - 1} bytes, found byte 0x${
              hex(frame[this.#need - 1]!)
            }`,
            i - 1,
          );
        }
        emit(frame.subarray(0, this.#need - 1));
      }
    }
  }

  #grow(need: number): void {
    const frame = this.#frame!;
    if (need <= frame.length) return;
    const next = new Uint8Array(
      Math.min(this.#need, Math.max(need, frame.length * 2)),
    );
    next.set(frame.subarray(0, this.#fill));
    this.#frame = next;
  }

  #oversizeDigits(): void {
    // The length has more digits than the limit: skip to ':' is not
    // possible without reading the rest, so fail the stream's framing.
    throw new FrameTooLargeError(Infinity, this.#max, {
      message:
        `Cannot decode netstring: length has more than ${this.#maxDigits} digits, exceeds maxFrameLength ${this.#max}`,
    });
  }

  #report(len: number): void {
    if (this.#oversizePolicy === "skip") {
      this.dropped++;
      return;
    }
    throw new FrameTooLargeError(len, this.#max);
  }

  protected end(): Error | undefined {
    const remaining = this.#digits +
      (this.#frame !== null ? this.#frameHead + this.#fill : 0);
    this.#len = -1;
    this.#digits = 0;
    this.#frame = null;
    this.#fill = 0;
    this.#discard = 0;
    return remaining > 0 ? new UnexpectedEofError(remaining) : undefined;
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

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
 * before any payload is buffered.
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
 * @param options The limit.
 * @returns The codec.
 * @throws {RangeError} `maxFrameLength` is not a non-negative integer.
 */
export function netstring(options: NetstringOptions = {}): Codec<Uint8Array> {
  const { maxFrameLength = DEFAULT_MAX_FRAME_LENGTH, oversize = "error" } =
    options;
  if (!isNonNegInt(maxFrameLength)) {
    throw new RangeError(
      `Cannot build netstring codec: maxFrameLength must be a non-negative integer, received ${maxFrameLength}`,
    );
  }
  if (oversize !== "error" && oversize !== "skip") {
    throw new TypeError(
      `Cannot build netstring codec: oversize must be "error" or "skip", received ${
        JSON.stringify(oversize)
      }`,
    );
  }
  const encoder = new TextEncoder();
  return createCodec({
    name: "netstring",
    decoder: () => new NetstringDecoder(maxFrameLength, oversize),
    encoder: once(() => ({
      encodeInto(message: Uint8Array, out: ByteBuffer): void {
        if (message.length > maxFrameLength) {
          throw new FrameTooLargeError(message.length, maxFrameLength, {
            message:
              `Cannot encode frame: length ${message.length} exceeds maxFrameLength ${maxFrameLength}`,
          });
        }
        out.append(encoder.encode(`${message.length}:`));
        out.append(message);
        out.append(COMMA);
      },
      encode(message: Uint8Array): Uint8Array {
        const buf = new ByteBuffer(message.length + 12);
        this.encodeInto(message, buf);
        return buf.bytes();
      },
    })),
  });
}

const COMMA = new Uint8Array([0x2c]);

// ---------------------------------------------------------------------------
// raw

/**
 * No framing: each chunk of bytes as it arrives is a message, and a message
 * goes out as it is. This is what the classic socket tutorial speaks
 * (`send(b"Hello, World!")` / `recv(1024)`): TCP keeps no message
 * boundaries, so a peer may see one send as several chunks or several as
 * one.
 *
 * @example Usage
 * ```ts
 * import { decodeAll, raw } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const chunk = new Uint8Array([1, 2, 3]);
 * assertEquals(decodeAll(raw(), [chunk, new Uint8Array(0)]), [chunk]);
 * ```
 *
 * @returns The codec.
 */
export function raw(): Codec<Uint8Array> {
  return RAW;
}

const RAW: Codec<Uint8Array> = createCodec({
  name: "raw",
  unframed: true,
  decoder: (options) => ({
    buffered: 0,
    dropped: 0,
    decode(chunk: Uint8Array, emit: (frame: Uint8Array) => void): void {
      if (chunk.length > 0) emit(options?.borrow ? chunk : chunk.slice());
    },
    finish(): void {},
  }),
  encoder: once(() => ({
    encodeInto(message: Uint8Array, out: ByteBuffer): void {
      out.append(message);
    },
    encode(message: Uint8Array): Uint8Array {
      return message.slice();
    },
  })),
});

// ---------------------------------------------------------------------------
// Message layers

/** The two directions of a message layer, for {@linkcode mapCodec}. */
export interface MapCodecParts<In, Out, InnerIn, InnerOut> {
  /** A name for the layered codec, such as `"json(lines)"`. */
  name: string;
  /**
   * Turns an inner frame into a message; throw to reject the frame. A
   * thrown error that is not a netkit error is wrapped in a
   * {@linkcode DecodeError} with it as `cause`.
   */
  decode: (frame: InnerIn) => In;
  /** Turns a message into an inner frame. */
  encode: (message: Out) => InnerOut;
}

/**
 * Layers a message type over a codec: `decode` maps each inner frame,
 * `encode` maps each message before the inner encoder. The inner framing's
 * limits and policies apply unchanged.
 *
 * @example A codec of numbers over lines
 * ```ts
 * import { decodeAll, lines, mapCodec } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const numbers = mapCodec(lines(), {
 *   name: "numbers",
 *   decode: (frame: Uint8Array) => Number(new TextDecoder().decode(frame)),
 *   encode: (n: number) => new TextEncoder().encode(String(n)),
 * });
 * assertEquals(decodeAll(numbers, [new TextEncoder().encode("1\n22\n")]), [1, 22]);
 * ```
 *
 * @typeParam In What the layered decoder yields.
 * @typeParam Out What the layered encoder takes.
 * @typeParam InnerIn What the inner decoder yields.
 * @typeParam InnerOut What the inner encoder takes.
 * @param inner The codec underneath.
 * @param parts The name and the two mappings.
 * @returns The layered codec.
 */
export function mapCodec<In, Out, InnerIn, InnerOut>(
  inner: Codec<InnerIn, InnerOut>,
  parts: MapCodecParts<In, Out, InnerIn, InnerOut>,
): Codec<In, Out> {
  const { name, decode, encode } = parts;
  const wrap = (frame: InnerIn): In => {
    try {
      return decode(frame);
    } catch (err) {
      if (err instanceof NetError) throw err;
      throw new DecodeError(
        `Cannot decode ${name} message: ${
          err instanceof Error ? err.message : String(err)
        }`,
        { cause: err },
      );
    }
  };
  return createCodec({
    name,
    unframed: inner.unframed,
    decoder: () => {
      // Each frame becomes a message at once: it can be borrowed.
      const d = inner.decoder({ borrow: true });
      return {
        get buffered() {
          return d.buffered;
        },
        get dropped() {
          return d.dropped;
        },
        decode(chunk: Uint8Array, emit: (message: In) => void): void {
          d.decode(chunk, (frame) => emit(wrap(frame)));
        },
        finish(emit: (message: In) => void): void {
          d.finish((frame) => emit(wrap(frame)));
        },
      };
    },
    encoder: () => {
      const e = inner.encoder();
      return {
        encodeInto(message: Out, out: ByteBuffer): void {
          e.encodeInto(encode(message), out);
        },
        encode(message: Out): Uint8Array {
          return e.encode(encode(message));
        },
      };
    },
  });
}

/**
 * Streams UTF-8 across chunk boundaries for an unframed inner codec (a
 * character may be cut between two reads).
 */
function streamingText(inner: Codec<Uint8Array>): Codec<string> {
  const utf8 = new TextEncoder();
  return createCodec({
    name: `text(${inner.name})`,
    unframed: true,
    decoder: () => {
      // Each frame becomes a message at once: it can be borrowed.
      const d = inner.decoder({ borrow: true });
      let td = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
      let offset = 0;
      const decodeText = (bytes: Uint8Array, stream: boolean): string => {
        try {
          const s = td.decode(bytes, { stream });
          offset += bytes.length;
          return s;
        } catch (err) {
          td = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
          throw new DecodeError(
            `Cannot decode text: invalid UTF-8 in the ${bytes.length} bytes after offset ${offset}`,
            { offset, cause: err },
          );
        }
      };
      return {
        get buffered() {
          return d.buffered;
        },
        get dropped() {
          return d.dropped;
        },
        decode(chunk: Uint8Array, emit: (message: string) => void): void {
          d.decode(chunk, (bytes) => {
            const s = decodeText(bytes, true);
            if (s.length > 0) emit(s);
          });
        },
        finish(emit: (message: string) => void): void {
          d.finish((bytes) => {
            const s = decodeText(bytes, true);
            if (s.length > 0) emit(s);
          });
          const s = decodeText(EMPTY, false);
          offset = 0;
          if (s.length > 0) emit(s);
        },
      };
    },
    encoder: () => {
      const e = inner.encoder();
      return {
        encodeInto(message: string, out: ByteBuffer): void {
          e.encodeInto(utf8.encode(message), out);
        },
        encode(message: string): Uint8Array {
          return e.encode(utf8.encode(message));
        },
      };
    },
  });
}

/**
 * Layers UTF-8 text over a framing: each frame decodes to a string, fatal
 * on invalid UTF-8 ({@linkcode DecodeError}). Over {@linkcode raw}, the
 * text is decoded as a stream, so a character cut between two reads is
 * kept whole.
 *
 * @example Usage
 * ```ts
 * import { decodeAll, lengthPrefixed, text } from "@netkit/net/codec";
 * import { DecodeError } from "@netkit/net/errors";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const codec = text(lengthPrefixed());
 * assertEquals(decodeAll(codec, [codec.encoder().encode("héllo")]), ["héllo"]);
 * assertThrows(() => decodeAll(codec, [new Uint8Array([0, 0, 0, 1, 0xff])]), DecodeError);
 * ```
 *
 * @param framing The framing underneath.
 * @returns The text codec.
 */
export function text(
  framing: Codec<Uint8Array> = lines(),
): Codec<string> {
  if (framing.unframed) return streamingText(framing);
  const utf8Out = new TextEncoder();
  const utf8In = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  return mapCodec(framing, {
    name: `text(${framing.name})`,
    decode: (frame: Uint8Array) => {
      try {
        return utf8In.decode(frame);
      } catch (err) {
        throw new DecodeError(
          `Cannot decode text: invalid UTF-8 in a frame of ${frame.length} bytes`,
          { cause: err },
        );
      }
    },
    encode: (message: string) => utf8Out.encode(message),
  });
}

/** Options for {@linkcode json}. */
export interface JsonOptions<T> {
  /**
   * A type guard each decoded value must pass; a value it refuses throws
   * {@linkcode DecodeError}.
   *
   * @default {undefined (every value is accepted)}
   */
  validate?: (value: unknown) => value is T;
  /**
   * The `reviver` passed to `JSON.parse`.
   *
   * @default {undefined}
   */
  reviver?: (this: unknown, key: string, value: unknown) => unknown;
  /**
   * The `replacer` passed to `JSON.stringify`.
   *
   * @default {undefined}
   */
  replacer?: (this: unknown, key: string, value: unknown) => unknown;
}

/**
 * Layers JSON over a framing: each frame is one UTF-8 JSON document. The
 * default framing is {@linkcode lengthPrefixed}; over {@linkcode lines}
 * it speaks JSON Lines. A frame that is not valid UTF-8 or JSON, or that
 * `validate` refuses, throws {@linkcode DecodeError}; a message that
 * `JSON.stringify` cannot represent throws `TypeError`.
 *
 * @example Usage
 * ```ts
 * import { decodeAll, json, lines } from "@netkit/net/codec";
 * import { DecodeError } from "@netkit/net/errors";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * interface Ping { ping: number }
 * const isPing = (v: unknown): v is Ping =>
 *   typeof v === "object" && v !== null && typeof (v as Ping).ping === "number";
 * const codec = json(lines(), { validate: isPing });
 * const enc = new TextEncoder();
 * assertEquals(decodeAll(codec, [enc.encode('{"ping":1}\n')]), [{ ping: 1 }]);
 * assertThrows(() => decodeAll(codec, [enc.encode('{"pong":1}\n')]), DecodeError, "validate");
 * ```
 *
 * @typeParam T The message type.
 * @param framing The framing underneath.
 * @param options The validation hook and the JSON hooks.
 * @returns The JSON codec.
 * @throws {TypeError} The framing is {@linkcode raw}, which has no frame boundaries.
 */
export function json<T = unknown>(
  framing: Codec<Uint8Array> = lengthPrefixed(),
  options: JsonOptions<T> = {},
): Codec<T> {
  if (framing.unframed) {
    throw new TypeError(
      `Cannot build json codec: ${framing.name} has no frame boundaries, use lengthPrefixed() or lines()`,
    );
  }
  const { validate, reviver, replacer } = options;
  const utf8Out = new TextEncoder();
  const utf8In = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const name = `json(${framing.name})`;
  return mapCodec(framing, {
    name,
    decode: (frame: Uint8Array): T => {
      let value: unknown;
      try {
        value = JSON.parse(utf8In.decode(frame), reviver);
      } catch (err) {
        throw new DecodeError(
          `Cannot decode JSON: ${
            err instanceof Error ? err.message : String(err)
          }`,
          { cause: err },
        );
      }
      if (validate && !validate(value)) {
        throw new DecodeError(
          "Cannot decode JSON: the value did not pass validate",
        );
      }
      return value as T;
    },
    encode: (message: T): Uint8Array => {
      const s = JSON.stringify(message, replacer);
      if (s === undefined) {
        throw new TypeError(
          `Cannot encode JSON: ${typeof message} has no JSON representation`,
        );
      }
      return utf8Out.encode(s);
    },
  });
}
