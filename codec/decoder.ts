// Copyright 2026 the netkit authors. MIT license.

/**
 * The codec contract: a {@linkcode Decoder} parses frames from the bytes
 * buffered so far, an {@linkcode Encoder} appends a message's bytes to a
 * {@linkcode ByteBuffer}, and a {@linkcode Codec} makes both. Built-in
 * framings and your own decoders use the same contract; the buffer, its
 * bound, end of stream and borrowing belong to netkit, once.
 *
 * ```text
 * socket ──read──► ReadBuffer (one per connection, bounded in bytes)
 *                     │  the application asks for the next message
 *                     ▼
 *                  decoder.decode(input)
 *                     ├─ consumes a frame's bytes, returns the frame
 *                     ├─ returns input.needMore(n?) → read again
 *                     └─ throws a typed error → after every message before it
 * ```
 *
 * @module
 */

import { DecodeError, NetError, UnexpectedEofError } from "../errors.ts";
import { ByteBuffer } from "./byte_buffer.ts";
import {
  type DecodeInput,
  NEED_MORE,
  type NeedMore,
  ReadBuffer,
} from "./read_buffer.ts";

/**
 * The decoding half of a codec: a small state machine that parses one
 * frame at a time from the front of the bytes buffered so far.
 *
 * `decode()` either consumes the bytes of one frame (with
 * {@linkcode DecodeInput.take}, {@linkcode DecodeInput.skip} or
 * {@linkcode DecodeInput.copy}) and returns it, or returns
 * `input.needMore(n)` — {@linkcode NEED_MORE} — when the bytes hold no
 * whole frame (consuming what it is done with, such as an oversize
 * frame's bytes it discards), or throws a typed error
 * ({@linkcode DecodeError}, {@linkcode FrameTooLargeError}). It is called
 * again with the same bytes plus more once more arrive, so a decoder that
 * has scanned part of a frame may remember where it got to.
 *
 * A frame may be a view from `take()`: netkit copies a byte frame that is
 * a view of its buffer before handing it to a consumer that keeps it (or
 * gives the consumer the buffer's memory with a large frame, and starts a
 * new buffer). A message that holds views inside (an array of byte
 * strings) must `copy()` them instead; a decoder keeps no view between
 * calls.
 *
 * @example A decoder of lines ending in CR LF, in a dozen lines
 * ```ts
 * import { createCodec, decodeAll, type DecodeInput, NEED_MORE } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const CRLF = new TextEncoder().encode("\r\n");
 * const crlfLines = createCodec<string, string>({
 *   name: "crlfLines",
 *   decoder: () => ({
 *     decode(input: DecodeInput) {
 *       const at = input.indexOf(CRLF);
 *       if (at === -1) return input.needMore();
 *       const line = new TextDecoder().decode(input.take(at));
 *       input.skip(2);
 *       return line;
 *     },
 *   }),
 *   encoder: () => ({
 *     encodeInto(line, out) { out.append(new TextEncoder().encode(line + "\r\n")); },
 *     encode(line) { return new TextEncoder().encode(line + "\r\n"); },
 *   }),
 * });
 * const wire = new TextEncoder().encode("PING\r\nECHO hi\r\n");
 * assertEquals(decodeAll(crlfLines, [wire.subarray(0, 3), wire.subarray(3)]), ["PING", "ECHO hi"]);
 * assertEquals(NEED_MORE.description, "netkit.needMore");
 * ```
 *
 * @typeParam T The frames or messages it yields.
 */
export interface Decoder<T> {
  /**
   * Decodes the next frame from the front of `input`.
   *
   * @param input The unread bytes.
   * @returns The frame, after consuming its bytes; or
   * {@linkcode NEED_MORE} (from `input.needMore()`).
   * @throws {FrameTooLargeError} A frame exceeds the decoder's limit.
   * @throws {DecodeError} The bytes cannot be decoded.
   */
  decode(input: DecodeInput): T | NeedMore;
  /**
   * Decodes at the end of the stream (`input.eof` is true); called until
   * it returns {@linkcode NEED_MORE}. Bytes still unread then end the
   * stream with an {@linkcode UnexpectedEofError} that says how many.
   * Without it, `decode()` is called.
   *
   * @param input The unread bytes.
   * @returns A last frame, or {@linkcode NEED_MORE} when there is none.
   * @throws {UnexpectedEofError | DecodeError} The stream ended badly.
   */
  decodeEof?(input: DecodeInput): T | NeedMore;
  /**
   * The most bytes one frame needs buffered, header included: the read
   * buffer is bounded by it.
   *
   * @default {8454144 (8 MiB + 64 KiB)}
   */
  readonly maxBuffered?: number;
  /** How many frames over the limit were dropped (`oversize: "skip"`). */
  readonly dropped?: number;
}

/**
 * What a decoder does with a frame over its limit: `"error"` throws a
 * {@linkcode FrameTooLargeError} once and skips the frame's bytes as they
 * arrive (a connection then closes); `"skip"` drops the frame silently and
 * counts it in {@linkcode Decoder.dropped}.
 */
export type OversizePolicy = "error" | "skip";

/** The encoding half of a codec. */
export interface Encoder<T> {
  /**
   * Appends the bytes of one message to `out`. It checks the message
   * before it appends anything, so a message it refuses leaves `out` as
   * it was.
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
  /** Returns a new decoder; each stream needs its own. */
  decoder(): Decoder<In>;
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

/** The parts of a codec that {@linkcode createCodec} builds on. */
export interface CodecParts<In, Out> {
  /** A short name for messages and logs. */
  name: string;
  /** Returns a new decoder. */
  decoder: () => Decoder<In>;
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
 * Builds a {@linkcode Codec} from a decoder and an encoder factory, adding
 * the web stream wrappers.
 *
 * @example A codec of single bytes
 * ```ts
 * import { ByteBuffer, createCodec, decodeAll, type DecodeInput } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const bytesCodec = createCodec<number, number>({
 *   name: "bytes",
 *   decoder: () => ({
 *     decode(input: DecodeInput) {
 *       if (input.length === 0) return input.needMore(1);
 *       const b = input.at(0)!;
 *       input.skip(1);
 *       return b;
 *     },
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
  const codec: Codec<In, Out> = Object.freeze({
    name,
    unframed,
    decoder,
    encoder,
    decodeStream(): TransformStream<Uint8Array, In> {
      const d = new StreamDecoder<In>(codec);
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
  return codec;
}

/**
 * A factory that makes its value on the first call and returns the same one
 * from then on: the encoders of the built-in framings hold no state, so
 * every connection can share one.
 */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => value ??= make();
}

/**
 * Decodes the next frame from a read buffer: the one step that both a
 * connection and a {@linkcode StreamDecoder} take. At the end of the stream
 * the decoder's `decodeEof` runs, and bytes it leaves unread throw
 * {@linkcode UnexpectedEofError}. A byte frame that is a view of the
 * buffer is copied unless `borrow` ({@linkcode ReadBuffer.own}: the frames
 * of one read share one copy) — or, when it fills most of the buffer,
 * the buffer hands its memory over with it
 * ({@linkcode ReadBuffer.handOver}) and starts a new array: a large frame
 * costs no copy.
 *
 * @typeParam T What the decoder yields.
 * @param decoder The decoder.
 * @param input The read buffer.
 * @param borrow Whether the consumer may be given views of the buffer.
 * @returns The frame, or {@linkcode NEED_MORE}.
 * @throws What the decoder throws; {@linkcode UnexpectedEofError}.
 */
export function nextFrame<T>(
  decoder: Decoder<T>,
  input: ReadBuffer,
  borrow: boolean,
): T | NeedMore {
  let frame: T | NeedMore;
  const from = input.start;
  if (input.eof) {
    frame = decoder.decodeEof === undefined
      ? (input.length === 0 ? NEED_MORE : decoder.decode(input))
      : decoder.decodeEof(input);
    if (frame === NEED_MORE) {
      const left = input.length;
      if (left > 0) {
        input.skip(left);
        throw new UnexpectedEofError(left);
      }
      return NEED_MORE;
    }
  } else {
    frame = decoder.decode(input);
    if (frame === NEED_MORE) return NEED_MORE;
  }
  if (frame === undefined) {
    throw new TypeError(
      "Cannot decode frame: a decoder returned undefined, which is not a frame (return NEED_MORE through input.needMore())",
    );
  }
  if (borrow) {
    input.borrowed(from, frame);
  } else if (
    frame instanceof Uint8Array && frame.buffer === input.data.buffer &&
    !input.handOver(frame)
  ) {
    return input.own(frame) as T;
  }
  return frame;
}

/** Options for {@linkcode StreamDecoder}. */
export interface StreamDecoderOptions {
  /**
   * Lets byte frames be views of the decoder's buffer instead of copies:
   * each is valid only until the next call to `decode()` or `finish()`.
   *
   * @default {false}
   */
  borrow?: boolean;
  /**
   * The most bytes buffered for one frame.
   *
   * @default {the decoder's maxBuffered, or 8 MiB + 64 KiB}
   */
  limit?: number;
}

/**
 * A codec's decoder fed chunks of bytes: the push face of the contract,
 * for web streams, {@linkcode decodeAll} and tests. It owns the read
 * buffer; `decode()` appends a chunk and emits every whole frame in the
 * bytes so far.
 *
 * An error is thrown after every frame before the bad bytes was emitted.
 * The decoder can go on after it: the built-in framings consume what they
 * refuse, and a frame over the buffer's bound is dropped, so what it holds
 * stays bounded.
 *
 * @example Usage
 * ```ts
 * import { lines, StreamDecoder } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const d = new StreamDecoder(lines());
 * const got: string[] = [];
 * const emit = (f: Uint8Array) => got.push(new TextDecoder().decode(f));
 * d.decode(new TextEncoder().encode("a\nb"), emit);
 * assertEquals(got, ["a"]);
 * assertEquals(d.buffered, 1);
 * d.decode(new TextEncoder().encode("\n"), emit);
 * d.finish(emit);
 * assertEquals(got, ["a", "b"]);
 * ```
 *
 * @typeParam T What the codec's decoder yields.
 */
export class StreamDecoder<T> {
  readonly #codec: Pick<Codec<T, unknown>, "decoder">;
  readonly #borrow: boolean;
  readonly #limit: number | undefined;
  #decoder: Decoder<T>;
  #buf: ReadBuffer;
  #dropped = 0;
  /** Frames emitted by the current call to `decode()`. */
  #emitted = 0;

  /**
   * Constructs a new instance.
   *
   * @param codec The codec whose decoder to run.
   * @param options Borrowing and the bound.
   */
  constructor(
    codec: Pick<Codec<T, unknown>, "decoder">,
    options: StreamDecoderOptions = {},
  ) {
    this.#codec = codec;
    this.#borrow = options.borrow ?? false;
    this.#limit = options.limit;
    this.#decoder = codec.decoder();
    this.#buf = this.#newBuffer();
  }

  #newBuffer(): ReadBuffer {
    return new ReadBuffer({
      limit: this.#limit ?? this.#decoder.maxBuffered,
    });
  }

  /** How many bytes are held for the frame in progress. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** How many frames over a limit were dropped. */
  get dropped(): number {
    return this.#dropped + (this.#decoder.dropped ?? 0);
  }

  /**
   * Consumes a chunk of bytes and calls `emit` for each whole frame in the
   * bytes so far.
   *
   * @param chunk The next bytes of the stream; not kept after the call.
   * @param emit Receives each frame, in order.
   * @throws {FrameTooLargeError | DecodeError} As the decoder does, after
   * every frame before the bad bytes.
   */
  decode(chunk: Uint8Array, emit: (frame: T) => void): void {
    const buf = this.#buf;
    const n = chunk.length;
    this.#emitted = 0;
    if (n === 0 && buf.length > 0) this.#drain(emit);
    let off = 0;
    while (off < n) {
      // With borrow, the frames emitted in this call stay valid until the
      // next: bytes then never move under them.
      const keepViews = this.#borrow && this.#emitted > 0;
      if (buf.length === 0) {
        // Nothing held: decode straight from the chunk, and keep a copy
        // of only what is left of it.
        buf.lend(chunk, off);
        try {
          this.#drain(emit);
        } finally {
          buf.keep(keepViews);
        }
        break;
      }
      // A frame is under way: add what it still needs (or, when its size
      // is unknown, a step as large as what is held), so that the rest of
      // the chunk can again be decoded where it lies.
      const want = buf.wanted - buf.length;
      const step = Math.min(
        n - off,
        want > 0 ? want : Math.max(buf.length, 4096),
      );
      buf.append(chunk.subarray(off, off + step), keepViews);
      off += step;
      try {
        this.#drain(emit);
      } catch (err) {
        buf.append(chunk.subarray(off), this.#borrow && this.#emitted > 0);
        throw err;
      }
    }
    try {
      buf.checkLimit();
    } catch (err) {
      // The frame is over the bound: drop it, stay bounded.
      buf.skip(buf.length);
      throw err;
    }
  }

  /**
   * Ends the stream: emits the frames left, or throws when a frame is
   * incomplete. The decoder is ready for a new stream afterwards.
   *
   * @param emit Receives each remaining frame.
   * @throws {UnexpectedEofError} The stream ended inside a frame.
   */
  finish(emit: (frame: T) => void): void {
    this.#buf.eof = true;
    try {
      this.#drain(emit);
    } finally {
      this.#dropped += this.#decoder.dropped ?? 0;
      this.#decoder = this.#codec.decoder();
      this.#buf = this.#newBuffer();
    }
  }

  #drain(emit: (frame: T) => void): void {
    const d = this.#decoder;
    const buf = this.#buf;
    const borrow = this.#borrow;
    for (;;) {
      const frame = nextFrame(d, buf, borrow);
      if (frame === NEED_MORE) return;
      this.#emitted++;
      emit(frame);
    }
  }
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
  const d = new StreamDecoder(codec);
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

/**
 * Wraps what a message layer's function threw: a netkit error or a
 * `RangeError` as it is, anything else in a {@linkcode DecodeError}.
 *
 * @param name The codec's name.
 * @param err What was thrown.
 * @returns The error to throw.
 */
export function layerError(name: string, err: unknown): Error {
  if (
    err instanceof NetError || err instanceof DecodeError ||
    err instanceof RangeError
  ) {
    return err;
  }
  return new DecodeError(
    `Cannot decode ${name} message: ${
      err instanceof Error ? err.message : String(err)
    }`,
    { cause: err },
  );
}
