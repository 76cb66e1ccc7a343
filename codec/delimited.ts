// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode delimited} and {@linkcode lines}: frames that end with a
 * delimiter.
 *
 * ## The wire format
 *
 * ```text
 * delimited({ delimiter: "\r\n" })      "ab", ""
 * ┌───────┬───────┬───────┐
 * │ 61 62 │ 0d 0a │ 0d 0a │              frames exclude the delimiter
 * └───────┴───────┴───────┘
 *
 * lines()                               "hi", "yo"
 * ┌───────┬────┬───────┬───────┐
 * │ 68 69 │ 0a │ 79 6f │ 0d 0a │         LF ends a line; a CR before it
 * └───────┴────┴───────┴───────┘         is dropped
 * ```
 *
 * A frame is never longer than `maxLength` bytes (64 KiB by default), the
 * delimiter excluded: a peer that never sends one cannot grow the buffer
 * past it.
 *
 * ## Decoder states
 *
 * ```text
 *          delimiter found, frame ≤ maxLength ──► emit ──► SCAN
 *   SCAN ──┤
 *     ▲    └─ maxLength passed, no delimiter ──► DISCARD
 *     │       (FrameTooLargeError once,            │ skips bytes as they
 *     │        or counted with "skip")             │ arrive, up to and
 *     └────────────────────────────────────────────┘ with the delimiter
 * ```
 *
 * - `SCAN`: looks for the delimiter in the bytes buffered. It remembers
 *   how far it has looked, so bytes of a long frame arriving in many reads
 *   are each scanned once (no quadratic time). Nothing is consumed until
 *   the frame is whole.
 * - `DISCARD`: the frame is over the limit; its bytes are skipped as they
 *   arrive (all but the last `delimiter.length − 1`, which may begin the
 *   delimiter), until the delimiter has passed.
 *
 * At end of stream, the bytes after the last delimiter are an
 * {@linkcode UnexpectedEofError}, or the last frame with `eof: "emit"`.
 *
 * @module
 */

import { copyBytes } from "../_bytes.ts";
import { FrameTooLargeError } from "../errors.ts";
import {
  checkBytes,
  checkOversize,
  DEFAULT_MAX_LENGTH,
  isNonNegInt,
} from "./_common.ts";
import type { ByteBuffer } from "./byte_buffer.ts";
import {
  type Codec,
  createCodec,
  type Decoder,
  type Encoder,
  once,
  type OversizePolicy,
} from "./decoder.ts";
import { type DecodeInput, NEED_MORE, type NeedMore } from "./read_buffer.ts";

/** What a delimiter framing does with a partial frame at end of stream. */
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
   * What to do with bytes after the last delimiter at end of stream:
   * throw {@linkcode UnexpectedEofError}, or emit them as a last frame.
   *
   * @default {"error"}
   */
  eof?: EofPolicy;
}

const SCAN = 0;
const DISCARD = 1;

class DelimitedDecoder implements Decoder<Uint8Array> {
  readonly #delim: Uint8Array;
  readonly #first: number;
  readonly #max: number;
  readonly #policy: OversizePolicy;
  readonly #emitAtEof: boolean;
  readonly #stripCR: boolean;
  readonly maxBuffered: number;
  dropped = 0;
  #state: typeof SCAN | typeof DISCARD = SCAN;
  /** Unread bytes already searched: no delimiter starts before this. */
  #scanned = 0;
  /** A view of `data[0..end)`, for `indexOf`; remade when either moves. */
  #view: Uint8Array = new Uint8Array(0);
  #viewData: Uint8Array | null = null;

  constructor(
    delim: Uint8Array,
    max: number,
    oversize: OversizePolicy,
    eof: EofPolicy,
    stripCR: boolean,
  ) {
    this.#delim = delim;
    this.#first = delim[0]!;
    this.#max = max;
    this.#policy = oversize;
    this.#emitAtEof = eof === "emit";
    this.#stripCR = stripCR;
    this.maxBuffered = max + delim.length;
  }

  /**
   * Where the delimiter starts in `data[from..end)`, as an index of
   * `data`, or -1.
   */
  #find(data: Uint8Array, from: number, end: number): number {
    let view = this.#view;
    if (this.#viewData !== data || view.length !== end) {
      view = this.#view = end === data.length ? data : data.subarray(0, end);
      this.#viewData = data;
    }
    const d = this.#delim;
    const n = d.length;
    let i = view.indexOf(this.#first, from);
    if (n === 1) return i;
    const last = end - n;
    while (i !== -1 && i <= last) {
      let k = 1;
      while (k < n && data[i + k] === d[k]) k++;
      if (k === n) return i;
      i = view.indexOf(this.#first, i + 1);
    }
    return -1;
  }

  decode(input: DecodeInput): Uint8Array | NeedMore {
    const dl = this.#delim.length;
    for (;;) {
      const data = input.data;
      const start = input.start;
      const end = input.end;
      const at = this.#find(data, start + this.#scanned, end);
      if (this.#state === DISCARD) {
        if (at === -1) {
          // Keep what may begin the delimiter.
          const keep = Math.min(dl - 1, end - start);
          input.skip(end - start - keep);
          this.#scanned = 0;
          return input.needMore();
        }
        input.skip(at + dl - start);
        this.#scanned = 0;
        this.#state = SCAN;
        continue;
      }
      // SCAN
      if (at === -1) {
        const unread = end - start;
        if (unread < this.#max + dl) {
          this.#scanned = Math.max(0, unread - dl + 1);
          return input.needMore();
        }
        // maxLength bytes and no delimiter: the frame is over the limit.
        this.#state = DISCARD;
        this.#scanned = 0;
        const keep = dl - 1;
        input.skip(unread - keep);
        this.#oversize(unread);
        continue;
      }
      this.#scanned = 0;
      const len = at - start;
      if (len > this.#max) {
        input.skip(len + dl);
        this.#oversize(len);
        continue;
      }
      if (this.#stripCR && len > 0 && data[at - 1] === 0x0d) {
        const frame = input.take(len - 1);
        input.skip(1 + dl);
        return frame;
      }
      const frame = input.take(len);
      input.skip(dl);
      return frame;
    }
  }

  decodeEof(input: DecodeInput): Uint8Array | NeedMore {
    if (input.length === 0) return NEED_MORE;
    const frame = this.decode(input);
    if (frame !== NEED_MORE) return frame;
    if (this.#state === DISCARD) {
      // The end of a frame already reported: no further error.
      input.skip(input.length);
      return NEED_MORE;
    }
    if (!this.#emitAtEof || input.length === 0) return NEED_MORE;
    const len = input.length;
    this.#scanned = 0;
    if (this.#stripCR && input.data[input.end - 1] === 0x0d) {
      const frame = input.take(len - 1);
      input.skip(1);
      return frame;
    }
    return input.take(len);
  }

  #oversize(seen: number): void {
    if (this.#policy === "skip") {
      this.dropped++;
      return;
    }
    throw new FrameTooLargeError(seen, this.#max, {
      limitName: "maxLength",
      message:
        `Cannot decode frame: ${seen} bytes without a delimiter exceed maxLength ${this.#max}`,
    });
  }
}

function checkDelimited(options: {
  maxLength?: number;
  oversize?: OversizePolicy;
  eof?: EofPolicy;
}, what: string): void {
  const { maxLength = DEFAULT_MAX_LENGTH, oversize = "error", eof = "error" } =
    options;
  if (!isNonNegInt(maxLength) || maxLength === 0) {
    throw new RangeError(
      `Cannot build ${what} codec: maxLength must be a positive integer, received ${maxLength}`,
    );
  }
  checkOversize(oversize, what);
  if (eof !== "error" && eof !== "emit") {
    throw new TypeError(
      `Cannot build ${what} codec: eof must be "error" or "emit", received ${
        JSON.stringify(eof)
      }`,
    );
  }
}

/** Where `d` starts in `b`, or -1. */
function indexOfBytes(b: Uint8Array, d: Uint8Array): number {
  const n = d.length;
  const last = b.length - n;
  let i = b.indexOf(d[0]!);
  while (i !== -1 && i <= last) {
    let k = 1;
    while (k < n && b[i + k] === d[k]) k++;
    if (k === n) return i;
    i = b.indexOf(d[0]!, i + 1);
  }
  return -1;
}

class DelimitedEncoder implements Encoder<Uint8Array> {
  readonly #name: string;
  readonly #delim: Uint8Array;
  readonly #max: number;
  /** For lines: LF must not occur, a last CR must not (with LF endings). */
  readonly #lines: boolean;
  readonly #crlf: boolean;

  constructor(
    name: string,
    delim: Uint8Array,
    max: number,
    lines: boolean,
    crlf: boolean,
  ) {
    this.#name = name;
    this.#delim = delim;
    this.#max = max;
    this.#lines = lines;
    this.#crlf = crlf;
  }

  /** Checks a message before a byte is written. */
  #check(message: Uint8Array): void {
    checkBytes(message, this.#name);
    const len = message.length;
    if (this.#lines) {
      const lf = message.indexOf(0x0a);
      if (lf !== -1) {
        throw new TypeError(
          `Cannot encode line: message contains LF at offset ${lf}`,
        );
      }
      if (this.#crlf) {
        if (len + 1 > this.#max) {
          throw new FrameTooLargeError(len + 1, this.#max, {
            message:
              `Cannot encode line: length ${len} plus CR exceeds maxLength ${this.#max}`,
          });
        }
      } else if (message[len - 1] === 0x0d) {
        throw new TypeError(
          "Cannot encode line: message ends with CR, which the decoder strips",
        );
      }
    }
    if (len > this.#max) {
      throw new FrameTooLargeError(len, this.#max, {
        message:
          `Cannot encode frame: length ${len} exceeds maxLength ${this.#max}`,
      });
    }
    if (this.#lines) return;
    // The first delimiter in message + delimiter must be the appended one;
    // one that starts inside the message would end the frame early.
    const d = this.#delim;
    let at = indexOfBytes(message, d);
    if (at === -1 && d.length > 1) {
      // A delimiter may start in the message's tail and end in the one
      // appended.
      const tail = Math.min(len, d.length - 1);
      const probe = new Uint8Array(tail + d.length);
      probe.set(message.subarray(len - tail));
      probe.set(d, tail);
      const k = indexOfBytes(probe, d);
      if (k < tail) at = len - tail + k;
    }
    if (at !== -1) {
      throw new TypeError(
        `Cannot encode frame: message contains the delimiter at offset ${at}`,
      );
    }
  }

  encodeInto(message: Uint8Array, out: ByteBuffer): void {
    this.#check(message);
    const d = this.#delim;
    const view = out.reserve(message.length + d.length);
    view.set(message, 0);
    view.set(d, message.length);
    out.commit(message.length + d.length);
  }

  encode(message: Uint8Array): Uint8Array {
    this.#check(message);
    const out = new Uint8Array(message.length + this.#delim.length);
    out.set(message, 0);
    out.set(this.#delim, message.length);
    return out;
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
 * What is buffered of a partial frame never grows past `maxLength` (plus
 * the delimiter): at that point the decoder throws
 * {@linkcode FrameTooLargeError} once, then discards up to the next
 * delimiter and resumes. A message that contains the delimiter cannot be
 * encoded (it would not decode to itself), nor anything but a
 * `Uint8Array`: the encoder throws `TypeError` before it writes a byte.
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
    : options.delimiter instanceof Uint8Array
    ? copyBytes(options.delimiter)
    : undefined;
  if (delim === undefined || delim.length === 0) {
    throw new TypeError(
      "Cannot build delimited codec: delimiter must be a non-empty Uint8Array or string",
    );
  }
  checkDelimited(options, "delimited");
  const { maxLength = DEFAULT_MAX_LENGTH, oversize = "error", eof = "error" } =
    options;
  return createCodec({
    name: "delimited",
    decoder: () => new DelimitedDecoder(delim, maxLength, oversize, eof, false),
    encoder: once(() =>
      new DelimitedEncoder("delimited", delim, maxLength, false, false)
    ),
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
   * What to do with a last line that has no LF at end of stream.
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

const LF = new Uint8Array([0x0a]);
const CRLF = new Uint8Array([0x0d, 0x0a]);

/**
 * A framing of lines: each frame ends with LF, and a CR before the LF is
 * dropped, so both `\n` and `\r\n` endings decode. The encoder writes LF
 * (or CR LF with `crlf: true`), and refuses a message with an LF in it.
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
    maxLength = DEFAULT_MAX_LENGTH,
    oversize = "error",
    eof = "error",
    crlf = false,
  } = options;
  return createCodec({
    name: "lines",
    decoder: () => new DelimitedDecoder(LF, maxLength, oversize, eof, true),
    encoder: once(() =>
      new DelimitedEncoder("lines", crlf ? CRLF : LF, maxLength, true, crlf)
    ),
  });
}
