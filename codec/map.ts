// Copyright 2026 the netkit authors. MIT license.

/**
 * Message layers over a framing: {@linkcode mapCodec} for your own,
 * {@linkcode text} (UTF-8) and {@linkcode json}.
 *
 * A layer's decoder runs the framing's decoder on the same read buffer and
 * turns each frame into messages at once, so the frame can stay a view of
 * the buffer (no copy). The framing's limits and policies apply
 * unchanged.
 *
 * ## Decoder states
 *
 * ```text
 *   FRAME ──► the framing yields a frame ──► map it ──┬─► one message: emit ──► FRAME
 *     ▲                                               ├─► none: next frame ───► FRAME
 *     │                                               └─► several: QUEUED
 *     └────── the queue is empty ◄── QUEUED (emits them one by one)
 * ```
 *
 * A mapping that throws after emitting some messages of a frame has those
 * emitted first, then the error.
 *
 * @module
 */

import { DecodeError } from "../errors.ts";
import { describe } from "./_common.ts";
import type { ByteBuffer } from "./byte_buffer.ts";
import {
  type Codec,
  createCodec,
  type Decoder,
  type Encoder,
  layerError,
  once,
} from "./decoder.ts";
import { lengthPrefixed } from "./length_prefixed.ts";
import { lines } from "./delimited.ts";
import {
  type DecodeInput,
  DEFAULT_READ_LIMIT,
  NEED_MORE,
  type NeedMore,
} from "./read_buffer.ts";

/**
 * The per-stream state of a message layer that turns each frame into zero
 * or more messages (see {@linkcode MapCodecParts.decoder}).
 *
 * @typeParam F The frames of the framing underneath.
 * @typeParam M The messages.
 */
export interface FrameMapper<F, M> {
  /**
   * Turns one frame into messages. The frame may be a view of the read
   * buffer, valid during the call only: copy what you keep.
   *
   * @param frame The frame.
   * @param emit Call once per message, in order.
   */
  frame(frame: F, emit: (message: M) => void): void;
  /**
   * Called once at the end of the stream, after the last frame.
   *
   * @param emit Call once per last message.
   */
  end?(emit: (message: M) => void): void;
}

/** The two directions of a message layer, for {@linkcode mapCodec}. */
export interface MapCodecParts<In, Out, InnerIn, InnerOut> {
  /** A name for the layered codec, such as `"json(lines)"`. */
  name: string;
  /**
   * Turns an inner frame into one message: the stateless form. Throw to
   * reject the frame: an error that is not a netkit error or a
   * `RangeError` is wrapped in a {@linkcode DecodeError} with it as
   * `cause`. Give this or `decoder`.
   *
   * @default {undefined}
   */
  decode?: (frame: InnerIn) => In;
  /**
   * Makes the state of one stream's decoding: a function `(frame, emit)`
   * or a {@linkcode FrameMapper}, which may emit zero or several messages
   * per frame and keep state from frame to frame (a partial message, a
   * counter). Give this or `decode`.
   *
   * @default {undefined}
   */
  decoder?: () =>
    | ((frame: InnerIn, emit: (message: In) => void) => void)
    | FrameMapper<InnerIn, In>;
  /**
   * The most messages one frame may give (`decoder` only): a frame that
   * gives more throws `RangeError`, so one frame cannot fill memory.
   *
   * @default {1024}
   */
  maxMessagesPerFrame?: number;
  /**
   * Turns a message into an inner frame; it runs before anything is
   * written, so a message it refuses (throw `TypeError`) leaves nothing
   * behind.
   */
  encode: (message: Out) => InnerOut;
}

/** One end-of-stream step of an inner decoder, as `nextFrame` takes it. */
function innerEof<F>(inner: Decoder<F>, input: DecodeInput): F | NeedMore {
  if (inner.decodeEof !== undefined) return inner.decodeEof(input);
  return input.length === 0 ? NEED_MORE : inner.decode(input);
}

/** A layer that maps each frame to one message. */
class MapDecoder<F, M> implements Decoder<M> {
  readonly #inner: Decoder<F>;
  readonly #map: (frame: F) => M;
  readonly #name: string;
  readonly maxBuffered: number;

  constructor(inner: Decoder<F>, map: (frame: F) => M, name: string) {
    this.#inner = inner;
    this.#map = map;
    this.#name = name;
    this.maxBuffered = inner.maxBuffered ?? DEFAULT_READ_LIMIT;
  }

  get dropped(): number {
    return this.#inner.dropped ?? 0;
  }

  decode(input: DecodeInput): M | NeedMore {
    const frame = this.#inner.decode(input);
    if (frame === NEED_MORE) return NEED_MORE;
    try {
      return this.#map(frame);
    } catch (err) {
      throw layerError(this.#name, err);
    }
  }

  decodeEof(input: DecodeInput): M | NeedMore {
    const frame = innerEof(this.#inner, input);
    if (frame === NEED_MORE) return NEED_MORE;
    try {
      return this.#map(frame);
    } catch (err) {
      throw layerError(this.#name, err);
    }
  }
}

/** A layer that maps each frame to zero or more messages, with state. */
class FlatMapDecoder<F, M> implements Decoder<M> {
  readonly #inner: Decoder<F>;
  readonly #mapper: FrameMapper<F, M>;
  readonly #name: string;
  readonly #most: number;
  readonly maxBuffered: number;
  /** QUEUED: the messages of one frame not yet emitted, from `#head`. */
  #queue: M[] = [];
  #head = 0;
  /** An error thrown after the queued messages; `#failed` says one is. */
  #error: unknown = undefined;
  #failed = false;
  #ended = false;
  readonly #emit = (message: M): void => {
    if (this.#queue.length - this.#head >= this.#most) {
      throw new RangeError(
        `Cannot decode ${this.#name} frame: it gives more than maxMessagesPerFrame ${this.#most} messages`,
      );
    }
    this.#queue.push(message);
  };

  constructor(
    inner: Decoder<F>,
    mapper: FrameMapper<F, M>,
    name: string,
    most: number,
  ) {
    this.#inner = inner;
    this.#mapper = mapper;
    this.#name = name;
    this.#most = most;
    this.maxBuffered = inner.maxBuffered ?? DEFAULT_READ_LIMIT;
  }

  get dropped(): number {
    return this.#inner.dropped ?? 0;
  }

  decode(input: DecodeInput): M | NeedMore {
    return this.#next(input, false);
  }

  decodeEof(input: DecodeInput): M | NeedMore {
    return this.#next(input, true);
  }

  #next(input: DecodeInput, eof: boolean): M | NeedMore {
    const queue = this.#queue;
    for (;;) {
      if (this.#head < queue.length) {
        const message = queue[this.#head]!;
        if (++this.#head === queue.length) {
          queue.length = 0;
          this.#head = 0;
        }
        return message;
      }
      if (this.#failed) {
        const err = this.#error;
        this.#failed = false;
        this.#error = undefined;
        throw err;
      }
      const frame = eof
        ? innerEof(this.#inner, input)
        : this.#inner.decode(input);
      try {
        if (frame !== NEED_MORE) {
          this.#mapper.frame(frame, this.#emit);
          continue;
        }
        if (!eof || input.length > 0 || this.#ended) return NEED_MORE;
        this.#ended = true;
        if (this.#mapper.end === undefined) return NEED_MORE;
        this.#mapper.end(this.#emit);
        if (queue.length === 0) return NEED_MORE;
      } catch (err) {
        this.#error = layerError(this.#name, err);
        this.#failed = true;
      }
    }
  }
}

/**
 * Layers a message type over a codec. The stateless form, `decode`, maps
 * each inner frame to one message; the stateful form, `decoder`, makes
 * per-stream state that turns each frame into zero or several messages.
 * `encode` maps each message before the inner encoder. The inner
 * framing's limits and policies apply unchanged.
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
 * @example State per stream, several messages per frame
 * ```ts
 * import { decodeAll, lines, mapCodec } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * // Each line holds words; every word becomes a message numbered per stream.
 * const words = mapCodec(lines(), {
 *   name: "words",
 *   decoder: () => {
 *     let n = 0;
 *     return (frame: Uint8Array, emit: (word: string) => void) => {
 *       for (const w of new TextDecoder().decode(frame).split(" ")) {
 *         if (w !== "") emit(`${n++}:${w}`);
 *       }
 *     };
 *   },
 *   encode: (w: string) => new TextEncoder().encode(w),
 * });
 * const wire = new TextEncoder().encode("a b\n\nc\n");
 * assertEquals(decodeAll(words, [wire]), ["0:a", "1:b", "2:c"]);
 * assertEquals(decodeAll(words, [wire]), ["0:a", "1:b", "2:c"]);
 * ```
 *
 * @typeParam In What the layered decoder yields.
 * @typeParam Out What the layered encoder takes.
 * @typeParam InnerIn What the inner decoder yields.
 * @typeParam InnerOut What the inner encoder takes.
 * @param inner The codec underneath.
 * @param parts The name and the two mappings.
 * @returns The layered codec.
 * @throws {TypeError} Not exactly one of `decode` and `decoder` is given.
 * @throws {RangeError} `maxMessagesPerFrame` is not a positive integer.
 */
export function mapCodec<In, Out, InnerIn, InnerOut>(
  inner: Codec<InnerIn, InnerOut>,
  parts: MapCodecParts<In, Out, InnerIn, InnerOut>,
): Codec<In, Out> {
  const { name, decode, decoder, encode, maxMessagesPerFrame = 1024 } = parts;
  if ((decode === undefined) === (decoder === undefined)) {
    throw new TypeError(
      `Cannot build ${name} codec: give either decode or decoder`,
    );
  }
  if (!Number.isSafeInteger(maxMessagesPerFrame) || maxMessagesPerFrame < 1) {
    throw new RangeError(
      `Cannot build ${name} codec: maxMessagesPerFrame must be a positive integer, received ${maxMessagesPerFrame}`,
    );
  }
  return createCodec({
    name,
    unframed: inner.unframed,
    decoder: decode !== undefined
      ? () => new MapDecoder(inner.decoder(), decode, name)
      : () => {
        const made = decoder!();
        const mapper = typeof made === "function" ? { frame: made } : made;
        return new FlatMapDecoder(
          inner.decoder(),
          mapper,
          name,
          maxMessagesPerFrame,
        );
      },
    encoder: once((): Encoder<Out> => {
      const e = inner.encoder();
      return {
        encodeInto(message: Out, out: ByteBuffer): void {
          e.encodeInto(encode(message), out);
        },
        encode(message: Out): Uint8Array {
          return e.encode(encode(message));
        },
      };
    }),
  });
}

const UTF8_OPTIONS = { fatal: true, ignoreBOM: true } as const;

/** The encoding of a text layer: UTF-8 of a string, and nothing else. */
function utf8Encode(name: string): (message: string) => Uint8Array {
  const utf8 = new TextEncoder();
  return (message: string): Uint8Array => {
    if (typeof message !== "string") {
      throw new TypeError(
        `Cannot encode message: ${name} takes a string, received ${
          describe(message)
        }`,
      );
    }
    return utf8.encode(message);
  };
}

/**
 * The text of an unframed stream: UTF-8 decoded as a stream, so a
 * character cut between two reads is kept whole.
 */
function streamingText(): FrameMapper<Uint8Array, string> {
  let td = new TextDecoder("utf-8", UTF8_OPTIONS);
  let offset = 0;
  const decodeText = (bytes: Uint8Array, stream: boolean): string => {
    try {
      const s = td.decode(bytes, { stream });
      offset += bytes.length;
      return s;
    } catch (err) {
      td = new TextDecoder("utf-8", UTF8_OPTIONS);
      throw new DecodeError(
        `Cannot decode text: invalid UTF-8 in the ${bytes.length} bytes after offset ${offset}`,
        { offset, cause: err },
      );
    }
  };
  return {
    frame(bytes, emit) {
      const s = decodeText(bytes, true);
      if (s.length > 0) emit(s);
    },
    end(emit) {
      const s = decodeText(new Uint8Array(0), false);
      if (s.length > 0) emit(s);
    },
  };
}

/**
 * Layers UTF-8 text over a framing: each frame decodes to a string, fatal
 * on invalid UTF-8 ({@linkcode DecodeError}). Over {@linkcode raw}, the
 * text is decoded as a stream, so a character cut between two reads is
 * kept whole. The encoder takes only strings (`TypeError` otherwise).
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
  const name = `text(${framing.name})`;
  const encode = utf8Encode(name);
  if (framing.unframed) {
    return mapCodec(framing, { name, decoder: streamingText, encode });
  }
  const utf8In = new TextDecoder("utf-8", UTF8_OPTIONS);
  return mapCodec(framing, {
    name,
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
    encode,
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
 * `JSON.stringify` cannot represent throws `TypeError`, before anything is
 * written.
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
  const utf8In = new TextDecoder("utf-8", UTF8_OPTIONS);
  return mapCodec(framing, {
    name: `json(${framing.name})`,
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
