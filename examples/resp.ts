// Copyright 2026 the netkit authors. MIT license.

/**
 * RESP2, the Redis serialization protocol, as two netkit codecs written on
 * the decoder contract (`codec/decoder.ts`): {@linkcode respServer} reads
 * commands and writes replies, {@linkcode respClient} writes commands and
 * reads replies. `examples/redis.ts` and `examples/redis_client.ts` use
 * them.
 *
 * A command is an array of bulk strings, or an inline line of words (what
 * `telnet` and `redis-benchmark`'s PING_INLINE send):
 *
 * ```text
 * SET k v as an array ("multibulk"):    the same inline:
 * 2a 33 0d 0a                 *3 CRLF   53 45 54 20 6b 20 76 0d 0a
 * 24 33 0d 0a 53 45 54 0d 0a  $3 CRLF     S  E  T     k     v CR LF
 *                             SET CRLF
 * 24 31 0d 0a 6b 0d 0a        $1 CRLF k CRLF
 * 24 31 0d 0a 76 0d 0a        $1 CRLF v CRLF
 * ```
 *
 * A reply starts with its type byte:
 *
 * ```text
 * 2b 4f 4b 0d 0a             +OK CRLF         simple string   "OK"
 * 2d 45 52 52 20 .. 0d 0a    -ERR .. CRLF     error           RespError("ERR ..")
 * 3a 34 32 0d 0a             :42 CRLF         integer         42
 * 24 32 0d 0a 68 69 0d 0a    $2 CRLF hi CRLF  bulk string     Uint8Array "hi"
 * 24 2d 31 0d 0a             $-1 CRLF         nil             null
 * 2a 32 0d 0a ..             *2 CRLF + 2 values               [.., ..]
 * 2a 2d 31 0d 0a             *-1 CRLF         nil array       null
 * ```
 *
 * The server side follows `redis-server` (7.0) byte for byte, protocol
 * errors included: the texts of `networking.c`, thrown as
 * {@linkcode RespProtocolError} after every whole command before the bad
 * bytes, so a server can answer those, then answer the error and close.
 *
 * @module
 */

import { ByteBuffer } from "../codec/byte_buffer.ts";
import {
  type Codec,
  createCodec,
  type Decoder,
  type Encoder,
  once,
} from "../codec/decoder.ts";
import {
  type DecodeInput,
  NEED_MORE,
  type NeedMore,
} from "../codec/read_buffer.ts";
import { DecodeError, FrameTooLargeError } from "../mod.ts";

/**
 * A RESP2 value. Simple strings and error messages are byte strings: one
 * character per byte (Latin-1), so that any reply, whatever its bytes,
 * round-trips exactly. A bulk string is bytes, or a
 * {@linkcode BulkString} (a byte string, how a server keeps short values).
 * Integers are numbers, or bigints past `Number.MAX_SAFE_INTEGER`. Both
 * nils (`$-1` and `*-1`) are `null`, as redis-py and ioredis give them.
 */
export type RespValue =
  | string
  | number
  | bigint
  | Uint8Array
  | BulkString
  | null
  | RespError
  | RespValue[];

/**
 * A bulk string held as a byte string (one character per byte) instead of
 * bytes. Deno allocates a new `Uint8Array` in about half a microsecond,
 * and a short string in a few tens of nanoseconds: a server keeps short
 * values this way, and replies with them as they are. The client never
 * decodes one (it gives bytes).
 *
 * @example Usage
 * ```ts
 * import { BulkString, respServer } from "./resp.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const wire = respServer().encoder().encode(new BulkString("hi"));
 * assertEquals(new TextDecoder().decode(wire), "$2\r\nhi\r\n");
 * ```
 */
export class BulkString {
  /** The bytes, one character each (every code below 256). */
  readonly text: string;

  /**
   * Constructs a new instance.
   *
   * @param text The bytes, one character each.
   */
  constructor(text: string) {
    this.text = text;
  }

  /** How many bytes. */
  get length(): number {
    return this.text.length;
  }
}

/** Points a command at other words (see the static block of RespCommand). */
let refill: (cmd: RespCommand, data: Uint8Array, length: number) => void;

/**
 * A command as the server decodes it: its words (the name, then the
 * arguments) as ranges of one array of bytes, `data`. Decoding a command
 * makes no view per word: {@linkcode RespCommand.word} makes one when
 * asked, and a server reads the words it runs on in place.
 *
 * With `respServer({ borrow: true })`, the decoder gives the same command
 * object each time, pointed at the words of the new command in the read
 * buffer: a command is valid until the next one is asked for.
 *
 * @example Usage
 * ```ts
 * import { latin1, latin1Range, RespCommand } from "./resp.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const cmd = RespCommand.from([new TextEncoder().encode("GET"), new TextEncoder().encode("k")]);
 * assertEquals(cmd.length, 2);
 * assertEquals(latin1Range(cmd.data, cmd.start(1), cmd.end(1)), "k");
 * assertEquals(cmd.words().map(latin1), ["GET", "k"]);
 * ```
 */
export class RespCommand {
  #data: Uint8Array;
  #length: number;
  /**
   * Where each word starts in `data`, and where it ends: `[start, end,
   * ...]`; entries past the first `2 * length` mean nothing.
   */
  readonly #spans: number[];

  static {
    // The decoder that borrows points its one command at each command.
    refill = (cmd, data, length) => {
      cmd.#data = data;
      cmd.#length = length;
    };
  }

  /**
   * Constructs a new instance.
   *
   * @param data The bytes the words are in.
   * @param spans Where each word starts and ends: `[start, end, ...]`.
   * @param length How many words: the first `2 * length` entries of
   * `spans`.
   */
  constructor(data: Uint8Array, spans: number[], length = spans.length >> 1) {
    this.#data = data;
    this.#spans = spans;
    this.#length = length;
  }

  /**
   * The bytes the words are in: a copy of the command, or with
   * `respServer({ borrow: true })` the read buffer's own array.
   */
  get data(): Uint8Array {
    return this.#data;
  }

  /** How many words, the name included. */
  get length(): number {
    return this.#length;
  }

  /**
   * Makes a command of words, copied into one array.
   *
   * @param words The name and the arguments.
   * @returns The command.
   */
  static from(words: readonly Uint8Array[]): RespCommand {
    let total = 0;
    for (const w of words) total += w.length;
    const data = new Uint8Array(total);
    const spans: number[] = [];
    let at = 0;
    for (const w of words) {
      data.set(w, at);
      spans.push(at, at += w.length);
    }
    return new RespCommand(data, spans);
  }

  /**
   * Where word `i` starts in `data`.
   *
   * @param i The word: 0 is the name.
   * @returns Its first byte's index.
   */
  start(i: number): number {
    return this.#spans[2 * i]!;
  }

  /**
   * Where word `i` ends in `data`.
   *
   * @param i The word: 0 is the name.
   * @returns The index after its last byte.
   */
  end(i: number): number {
    return this.#spans[2 * i + 1]!;
  }

  /**
   * Word `i`, as a view of `data`.
   *
   * @param i The word: 0 is the name.
   * @returns The view, or `undefined` past the last word.
   */
  word(i: number): Uint8Array | undefined {
    return i < this.#length
      ? this.#data.subarray(this.#spans[2 * i]!, this.#spans[2 * i + 1]!)
      : undefined;
  }

  /**
   * Every word, as views of `data`.
   *
   * @returns The name, then the arguments.
   */
  words(): Uint8Array[] {
    const words = new Array<Uint8Array>(this.length);
    for (let i = 0; i < words.length; i++) words[i] = this.word(i)!;
    return words;
  }
}

/** An argument as the client encodes it: strings go out as UTF-8. */
export type RespArg = string | Uint8Array | number | bigint;

/**
 * An error reply (`-ERR ...`), as a value: a client gets it in place of the
 * command's result, it is not thrown. `message` is the text after the `-`;
 * `code` its first word.
 *
 * @example Usage
 * ```ts
 * import { RespError } from "./resp.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const err = new RespError("WRONGTYPE Operation against a key holding the wrong kind of value");
 * assertEquals(err.code, "WRONGTYPE");
 * ```
 */
export class RespError extends Error {
  override name = "RespError";

  /** The error's code: the first word of its message (`ERR`, `NOPROTO`). */
  get code(): string {
    const space = this.message.indexOf(" ");
    return space === -1 ? this.message : this.message.slice(0, space);
  }
}

/**
 * Bytes that are not a RESP command, with the text `redis-server` answers
 * (`Protocol error: invalid bulk length`, ...): a server replies
 * `-ERR <message>`, then closes, as Redis does.
 */
export class RespProtocolError extends DecodeError {
  /**
   * Constructs a new instance.
   *
   * @param message Redis' text, such as `Protocol error: invalid bulk length`.
   * @param offset Bytes of the stream consumed before the bad command.
   */
  constructor(message: string, offset: number) {
    super(message, { offset });
    this.name = "RespProtocolError";
  }
}

/** Options for {@linkcode respServer}. */
export interface RespServerOptions {
  /**
   * The longest bulk string in a command: a longer one is a protocol error
   * (`invalid bulk length`), as past Redis' `proto-max-bulk-len`.
   *
   * @default {8388608 (8 MiB; Redis: 512 MB)}
   */
  maxBulkLength?: number;
  /**
   * The most bytes one whole command may take on the wire: the bound of the
   * connection's read buffer. Past it, the decoder's caller gets a
   * {@linkcode FrameTooLargeError}, and a server closes without a reply, as
   * Redis does past `client-query-buffer-limit`.
   *
   * @default {maxBulkLength * 2 + 65536}
   */
  maxCommandLength?: number;
  /**
   * Lets a command's words be ranges of the connection's read buffer
   * instead of a copy of the command, and gives the same
   * {@linkcode RespCommand} object each time: no allocation, but a command
   * is valid only until the next one is asked for. For a handler that is
   * done with each command before it takes the next, and copies what it
   * keeps.
   *
   * @default {false}
   */
  borrow?: boolean;
  /**
   * The most arguments of one command: more is a protocol error
   * (`invalid multibulk length`), as in Redis before 7.0 (7.0 allows up to
   * 2^31 - 1).
   *
   * @default {1048576}
   */
  maxArgs?: number;
}

/** Options for {@linkcode respClient}. */
export interface RespClientOptions {
  /**
   * The longest bulk string in a reply; longer is a {@linkcode DecodeError}.
   *
   * @default {536870912 (512 MiB)}
   */
  maxBulkLength?: number;
  /**
   * The most bytes of one whole reply (an array and all it holds).
   *
   * @default {maxBulkLength + 65536}
   */
  maxReplyLength?: number;
  /**
   * How deep arrays may nest.
   *
   * @default {64}
   */
  maxDepth?: number;
}

/** Redis' `PROTO_INLINE_MAX_SIZE`: the longest line without its end. */
export const INLINE_MAX = 65536;

const CR = 0x0d, LF = 0x0a, STAR = 0x2a, DOLLAR = 0x24;
/** How far past the bytes buffered a `needMore` hint may reach. */
const HINT = 65536;

/**
 * Parses a decimal integer of `d[from..to)` as Redis' `string2ll` does: an
 * optional `-`, no `+`, no leading zeros, no spaces, within 64 bits.
 *
 * @param d The bytes.
 * @param from The first byte.
 * @param to After the last byte.
 * @returns The value (exact up to 2^53, and of the right size past it), or
 * `NaN` when the bytes are not such an integer.
 */
export function parseInteger(d: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n < 1 || n > 20) return NaN;
  if (n === 1 && d[from] === 0x30) return 0;
  const neg = d[from] === 0x2d;
  const first = neg ? from + 1 : from;
  if (!(d[first]! >= 0x31 && d[first]! <= 0x39)) return NaN;
  let v = 0;
  for (let i = first; i < to; i++) {
    const c = d[i]! - 0x30;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  const digits = to - first;
  if (digits > 19) return NaN; // past 2^63 - 1, or -2^63
  if (digits === 19) {
    const max = neg ? "9223372036854775808" : "9223372036854775807";
    for (let k = 0; k < 19; k++) {
      const diff = d[first + k]! - max.charCodeAt(k);
      if (diff > 0) return NaN;
      if (diff < 0) break;
    }
  }
  if (digits > 15) v = Number(latin1Range(d, first, to)); // rounded once
  return neg ? -v : v;
}

/**
 * Decodes bytes as a byte string: one character per byte.
 *
 * @param b The bytes.
 * @returns The string.
 */
export function latin1(b: Uint8Array): string {
  return latin1Range(b, 0, b.length);
}

/**
 * Decodes `d[from..to)` as a byte string: one character per byte.
 *
 * @param d The bytes.
 * @param from The first byte.
 * @param to After the last byte.
 * @returns The string.
 */
export function latin1Range(d: Uint8Array, from: number, to: number): string {
  const n = to - from;
  if (n < SHORT_CODES.length) {
    // Keys and short values: one call, so the string is flat (a string
    // made by `+` is a pair of strings past 12 characters, which a Map
    // lookup must copy first), from an array kept for each length.
    const codes = SHORT_CODES[n]!;
    for (let i = 0; i < n; i++) codes[i] = d[from + i]!;
    return String.fromCharCode.apply(null, codes);
  }
  // fromCharCode.apply is much faster on an array than on a typed array.
  let s = "";
  for (let i = from; i < to; i += 4096) {
    const codes = new Array<number>(Math.min(4096, to - i));
    for (let j = 0; j < codes.length; j++) codes[j] = d[i + j]!;
    s += String.fromCharCode.apply(null, codes);
  }
  return s;
}

/** An array of character codes for each length up to 64, reused. */
const SHORT_CODES: number[][] = Array.from(
  { length: 65 },
  (_, n) => new Array<number>(n).fill(0),
);

// ---------------------------------------------------------------------------
// Commands: what a server decodes

/**
 * The decoder of commands: Redis' `processMultibulkBuffer` and
 * `processInlineBuffer` on netkit's read buffer.
 *
 * It returns a command once all of it is buffered, so the read buffer's
 * bound is the bound of a command. While a command arrives it remembers how
 * far it has scanned (`#argc`, `#scanned`, `#spans`), so each read costs
 * only its new bytes. States:
 *
 * ```text
 *  ┌─► BETWEEN ── "*N" line, 0 < N ≤ maxArgs ──► ARGS ── N bulks buffered ─┐
 *  │     │  └─ other byte: an inline line (or nothing: an empty line)     │
 *  │     └─ "*N" with N ≤ 0: nothing, and on                              │
 *  └──────────────────── the command, its bytes consumed ◄───────────────┘
 *  any state ── bad bytes ──► FAILED (throws once; then discards input)
 * ```
 */
class CommandDecoder implements Decoder<RespCommand> {
  readonly maxBuffered: number;
  readonly #maxBulk: number;
  readonly #maxArgs: number;
  /** Arguments the command in progress announced; -1: BETWEEN commands. */
  #argc = -1;
  /** Bytes of the command in progress scanned (from `input.start`). */
  #scanned = 0;
  /**
   * Where each argument scanned starts and ends (from `input.start`): the
   * command's, handed to it when it is whole.
   */
  #spans: number[] = [];
  /** How many arguments `#spans` holds. */
  #count = 0;
  #failed = false;
  readonly #borrow: boolean;
  /** Where the line `#quickLength()` read ends: its CR. */
  #cr = 0;
  /** With borrow: the one command, whose words are in `#spans`. */
  #command: RespCommand | null = null;

  constructor(
    maxBulk: number,
    maxBuffered: number,
    maxArgs: number,
    borrow: boolean,
  ) {
    this.#maxBulk = maxBulk;
    this.maxBuffered = maxBuffered;
    this.#maxArgs = maxArgs;
    this.#borrow = borrow;
  }

  decode(input: DecodeInput): RespCommand | NeedMore {
    if (!this.#failed) {
      try {
        return this.#decode(input);
      } catch (err) {
        this.#failed = true;
        this.#reset();
        input.skip(input.length);
        throw err;
      }
    }
    // A protocol error leaves no command boundary to trust: Redis closes.
    input.skip(input.length);
    return NEED_MORE;
  }

  #decode(input: DecodeInput): RespCommand | NeedMore {
    while (this.#argc < 0) {
      const d = input.data, s = input.start;
      if (input.length === 0) return input.needMore();
      if (d[s] !== STAR) {
        const cmd = this.#inline(input);
        if (cmd === NEED_MORE || cmd.length > 0) return cmd;
        continue; // an empty line: nothing to do
      }
      let argc = this.#quickLength(d, s + 1, input.end), cr = this.#cr;
      if (argc < 0) {
        cr = lineEnd(input, s, "mbulk count");
        if (cr < 0) return input.needMore();
        argc = parseInteger(d, s + 1, cr);
      }
      if (!(argc <= this.#maxArgs)) {
        throw fail(input, "invalid multibulk length");
      }
      if (argc <= 0) input.skip(cr + 2 - s); // no command: on to the next
      else this.#argc = argc, this.#scanned = cr + 2 - s;
    }
    const d = input.data, s = input.start, e = input.end;
    const spans = this.#spans;
    while (this.#count < this.#argc) {
      const at = s + this.#scanned;
      let len = d[at] === DOLLAR ? this.#quickLength(d, at + 1, e) : -1;
      let cr = this.#cr;
      if (len < 0) {
        cr = lineEnd(input, at, "bulk count");
        if (cr < 0) return input.needMore();
        if (d[at] !== DOLLAR) {
          const c = d[at] === CR || d[at] === LF
            ? " "
            : latin1Range(d, at, at + 1);
          throw fail(input, `expected '$', got '${c}'`);
        }
        len = parseInteger(d, at + 1, cr);
      }
      if (!(len >= 0 && len <= this.#maxBulk)) {
        throw fail(input, "invalid bulk length");
      }
      // Redis skips the two bytes after a bulk string without looking at them.
      const need = cr + 2 + len + 2 - s;
      if (need > e - s) return input.needMore(Math.min(need, e - s + HINT));
      spans[2 * this.#count] = cr + 2 - s;
      spans[2 * this.#count++ + 1] = cr + 2 + len - s;
      this.#scanned = need;
    }
    // The words: ranges of the read buffer (borrow), or of one copy of the
    // command.
    const n = this.#count;
    if (this.#borrow) {
      for (let i = 0; i < 2 * n; i++) spans[i] = spans[i]! + s;
      input.skip(this.#scanned);
      this.#reset();
      return this.#lend(d, n);
    }
    const data = input.copy(this.#scanned);
    this.#spans = []; // the command keeps this one
    this.#reset();
    return new RespCommand(data, spans, n);
  }

  /** The one command of a decoder that borrows, pointed at new words. */
  #lend(data: Uint8Array, length: number): RespCommand {
    const cmd = this.#command ??= new RespCommand(data, this.#spans, length);
    refill(cmd, data, length);
    return cmd;
  }

  /** An inline command: the words of a line ending in LF (or CR LF). */
  #inline(input: DecodeInput): RespCommand | NeedMore {
    const d = input.data, s = input.start, e = input.end;
    let lf = s;
    while (lf < e && d[lf] !== LF && d[lf] !== 0) lf++;
    if (lf === e || d[lf] === 0) {
      if (e - s > INLINE_MAX) throw fail(input, "too big inline request");
      return input.needMore();
    }
    const end = lf > s && d[lf - 1] === CR ? lf - 1 : lf;
    let cmd: RespCommand;
    if (this.#borrow) {
      // The words are ranges of the read buffer.
      const n = splitPlain(d, s, end, this.#spans);
      cmd = n >= 0 ? this.#lend(d, n) : quoted(input, d, s, end);
    } else {
      // The words are ranges of a copy of the line.
      const line = d.slice(s, end), spans: number[] = [];
      const n = splitPlain(line, 0, line.length, spans);
      cmd = n >= 0
        ? new RespCommand(line, spans, n)
        : quoted(input, line, 0, line.length);
    }
    input.skip(lf + 1 - s);
    return cmd;
  }

  /**
   * The number of a `*N` or `$N` line, `N` starting at `at`, in the common
   * case: up to nine digits without a leading zero, then CR and a byte
   * after it (`#cr` is then the CR's index); -1 for any other line, which
   * the caller reads as Redis does (its end, then `parseInteger()`).
   */
  #quickLength(d: Uint8Array, at: number, e: number): number {
    let v = 0, i = at;
    for (; i < e && i - at < 9; i++) {
      const c = d[i]! - 0x30;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    if (i === at || i + 1 >= e || d[i] !== CR) return -1;
    if (d[at] === 0x30 && i - at > 1) return -1; // a leading zero
    this.#cr = i;
    return v;
  }

  #reset(): void {
    this.#argc = -1;
    this.#scanned = 0;
    this.#count = 0;
  }
}

/**
 * Where the line from `at` ends: the index of its CR, with a byte after it
 * (Redis does not look at that byte either); -1 when it has not arrived.
 * Like Redis' `strchr`, a NUL byte hides what follows it.
 */
function lineEnd(input: DecodeInput, at: number, what: string): number {
  const d = input.data, e = input.end;
  let i = at;
  while (i < e && d[i] !== CR && d[i] !== 0) i++;
  if (i === e || d[i] === 0) {
    if (e - at > INLINE_MAX) throw fail(input, `too big ${what} string`);
    return -1;
  }
  return i + 1 < e ? i : -1;
}

function fail(input: DecodeInput, what: string): RespProtocolError {
  return new RespProtocolError(`Protocol error: ${what}`, input.consumed);
}

/**
 * Splits a line without quotes into words as `splitArgs()` does, writing
 * where each starts and ends to `spans` from its start.
 *
 * @returns How many words, or -1 at a quote (only `splitArgs()` reads
 * quotes).
 */
function splitPlain(
  d: Uint8Array,
  from: number,
  to: number,
  spans: number[],
): number {
  for (let p = from, n = 0;;) {
    while (p < to && isSpace(d[p]!)) p++;
    if (p === to) return n;
    const start = p;
    for (; p < to; p++) {
      const c = d[p]!;
      if (c === 0x20 || c === LF || c === CR || c === 9) break;
      if (c === QUOTE || c === APOSTROPHE) return -1;
    }
    spans[2 * n] = start;
    spans[2 * n++ + 1] = p;
  }
}

/** A line with quotes: its words are built, then copied into one array. */
function quoted(
  input: DecodeInput,
  d: Uint8Array,
  from: number,
  to: number,
): RespCommand {
  const words = splitArgs(d, from, to);
  if (words === null) throw fail(input, "unbalanced quotes in request");
  return RespCommand.from(words);
}

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const hex = (c: number) =>
  c >= 0x30 && c <= 0x39
    ? c - 0x30
    : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66
    ? (c | 0x20) - 0x57
    : -1;
const ESCAPES: Record<number, number> = {
  0x6e: LF,
  0x72: CR,
  0x74: 9,
  0x62: 8,
  0x61: 7,
};
const BACKSLASH = 0x5c, QUOTE = 0x22, APOSTROPHE = 0x27;

/**
 * Splits `d[from..to)` into words as Redis' `sdssplitargs` does: words
 * apart by spaces; "double quotes" with `\n`, `\xff` and the like;
 * 'single quotes' with `\'`; a closing quote followed by a space or the end.
 *
 * @returns The words, or `null` for unbalanced quotes.
 */
export function splitArgs(
  d: Uint8Array,
  from: number,
  to: number,
): Uint8Array[] | null {
  // Byte i of the line, or 0 past its end: the C string Redis reads.
  const at = (i: number) => (i < to ? d[i]! : 0);
  const words: Uint8Array[] = [];
  for (let p = from;;) {
    while (at(p) !== 0 && isSpace(at(p))) p++;
    if (at(p) === 0) return words;
    // A word without quotes is a view of `d`; one with them is built.
    const start = p;
    let end = p, word: number[] | null = null;
    let quote = 0; // the quote we are in, if any
    for (let done = false; !done; p += at(p) === 0 ? 0 : 1) {
      const c = at(p);
      if (
        quote === QUOTE && c === BACKSLASH && at(p + 1) === 0x78 &&
        hex(at(p + 2)) >= 0 && hex(at(p + 3)) >= 0
      ) {
        word!.push(hex(at(p + 2)) * 16 + hex(at(p + 3)));
        p += 3;
      } else if (quote === QUOTE && c === BACKSLASH && at(p + 1) !== 0) {
        p++;
        word!.push(ESCAPES[at(p)] ?? at(p));
      } else if (
        quote === APOSTROPHE && c === BACKSLASH && at(p + 1) === APOSTROPHE
      ) {
        p++;
        word!.push(APOSTROPHE);
      } else if (quote !== 0 && c === quote) {
        // The closing quote must be followed by a space or nothing.
        if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
        done = true;
      } else if (quote !== 0 && c === 0) {
        return null; // unterminated quotes
      } else if (
        quote === 0 &&
        (c === 0x20 || c === LF || c === CR || c === 9 || c === 0)
      ) {
        done = true;
      } else if (quote === 0 && (c === QUOTE || c === APOSTROPHE)) {
        quote = c;
        word ??= Array.from(d.subarray(start, p));
      } else {
        word?.push(c);
      }
      end = p;
    }
    words.push(word === null ? d.subarray(start, end) : new Uint8Array(word));
  }
}

// ---------------------------------------------------------------------------
// Replies: what a server encodes

const encoder = new TextEncoder();

/** Writes the ASCII digits of an integer into `b` at `at`; returns the end. */
function putAscii(b: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i);
  return at + s.length;
}

/** Checks a simple string or error message: one line of byte characters. */
function checkLine(s: string, what: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === CR || c === LF || c > 0xff) {
      throw new TypeError(
        `Cannot encode RESP ${what}: character ${c} at ${i} is ${
          c > 0xff ? "not a byte" : "a line end"
        }`,
      );
    }
  }
}

function encodeValue(v: RespValue, out: ByteBuffer): void {
  if (v instanceof Uint8Array) {
    out.append(header(BULK_LINES, DOLLAR, v.length));
    out.append(v);
    out.append(CRLF);
  } else if (v instanceof BulkString) {
    bulkText(v.text, out);
  } else if (typeof v === "string") {
    out.append(simple(v));
  } else if (v instanceof RespError) {
    checkLine(v.message, "error");
    out.append(latin1Bytes(`-${v.message}\r\n`));
  } else if (typeof v === "number" || typeof v === "bigint") {
    if (typeof v === "number" && !Number.isSafeInteger(v)) {
      throw new TypeError(
        `Cannot encode RESP integer: ${v} is not a safe integer`,
      );
    }
    out.append(header(INTEGER_LINES, 0x3a, v));
  } else if (v === null) {
    out.append(NIL);
  } else if (Array.isArray(v)) {
    out.append(header(ARRAY_LINES, STAR, v.length));
    for (const item of v) encodeValue(item, out);
  } else {
    throw new TypeError(`Cannot encode RESP value: ${typeof v} is not one`);
  }
}

/** A bulk string given as a byte string: `$`, its length, its bytes. */
function bulkText(s: string, out: ByteBuffer): void {
  const n = s.length;
  // A short one is put together in SCRATCH and appended through a view
  // of it kept for its length: no view is made per reply.
  const short = n + 16 <= SCRATCH.length;
  const b = short ? SCRATCH : out.reserve(n + 16);
  b[0] = DOLLAR;
  let at = putDigits(b, 1, n);
  b[at++] = CR, b[at++] = LF;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      throw new TypeError(
        `Cannot encode RESP bulk string: character ${c} at ${i} is not a byte`,
      );
    }
    b[at++] = c;
  }
  b[at++] = CR, b[at++] = LF;
  if (short) out.append(SCRATCH_VIEWS[at]!);
  else out.commit(at);
}

const SCRATCH = new Uint8Array(128);
/** `SCRATCH_VIEWS[n]`: the first `n` bytes of `SCRATCH`. */
const SCRATCH_VIEWS = Array.from(
  { length: SCRATCH.length + 1 },
  (_, n) => SCRATCH.subarray(0, n),
);

/** Writes the digits of a non-negative integer into `b` at `at`; returns the end. */
function putDigits(b: Uint8Array, at: number, n: number): number {
  if (n < 10) {
    b[at] = 0x30 + n;
    return at + 1;
  }
  const digits = String(n);
  for (let i = 0; i < digits.length; i++) b[at + i] = digits.charCodeAt(i);
  return at + digits.length;
}

const CRLF = new Uint8Array([CR, LF]);

/** Lines such as `$3 CR LF`, `:1 CR LF` and `*2 CR LF`, kept for small numbers. */
const BULK_LINES: Uint8Array[] = [];
const INTEGER_LINES: Uint8Array[] = [];
const ARRAY_LINES: Uint8Array[] = [];

function header(
  cache: Uint8Array[],
  type: number,
  n: number | bigint,
): Uint8Array {
  const small = typeof n === "number" && n >= 0 && n < 1024;
  const hit = small ? cache[n] : undefined;
  if (hit !== undefined) return hit;
  const line = latin1Bytes(`${String.fromCharCode(type)}${n}\r\n`);
  if (small) cache[n] = line;
  return line;
}

/** Simple strings as bytes, the short ones kept (a few hundred at most). */
const SIMPLE = new Map<string, Uint8Array>();

function simple(s: string): Uint8Array {
  const hit = SIMPLE.get(s);
  if (hit !== undefined) return hit;
  checkLine(s, "simple string");
  const line = latin1Bytes(`+${s}\r\n`);
  if (s.length <= 32 && SIMPLE.size < 256) SIMPLE.set(s, line);
  return line;
}

/** A byte string (checked: no character above 0xff) as bytes. */
function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

const NIL = new Uint8Array([DOLLAR, 0x2d, 0x31, CR, LF]);

/** Encodes replies; a value it refuses leaves the buffer as it was. */
const replyEncoder: Encoder<RespValue> = {
  encodeInto(v, out) {
    const before = out.length;
    try {
      encodeValue(v, out);
    } catch (err) {
      out.truncate(before);
      throw err;
    }
  },
  encode(v) {
    const out = new ByteBuffer(64);
    this.encodeInto(v, out);
    return out.bytes().slice();
  },
};

/**
 * The server's codec: decodes commands (arrays of bulk strings, and
 * inline lines), encodes replies.
 *
 * @example Decode a pipeline, encode a reply
 * ```ts
 * import { respServer } from "./resp.ts";
 * import { decodeAll } from "../codec/decoder.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const bytes = new TextEncoder().encode("*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n");
 * const commands = decodeAll(respServer(), [bytes]);
 * assertEquals(commands.map((c) => c.words().map((a) => new TextDecoder().decode(a))), [["GET", "k"], ["PING"]]);
 * assertEquals(new TextDecoder().decode(respServer().encoder().encode("PONG")), "+PONG\r\n");
 * ```
 *
 * @param options The bounds of a command.
 * @returns The codec.
 * @throws {RangeError} A bound is not a positive integer.
 */
export function respServer(
  options: RespServerOptions = {},
): Codec<RespCommand, RespValue> {
  const maxBulk = positive(
    options.maxBulkLength ?? 8 * 1024 * 1024,
    "maxBulkLength",
  );
  const maxCommand = positive(
    options.maxCommandLength ?? maxBulk * 2 + INLINE_MAX,
    "maxCommandLength",
  );
  const maxArgs = positive(options.maxArgs ?? 1024 * 1024, "maxArgs");
  return createCodec({
    name: "respServer",
    decoder: () =>
      new CommandDecoder(maxBulk, maxCommand, maxArgs, options.borrow ?? false),
    encoder: () => replyEncoder,
  });
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot create RESP codec: ${name} must be a positive integer, received ${n}`,
    );
  }
  return n;
}

// ---------------------------------------------------------------------------
// Replies: what a client decodes

/** An array whose items are still arriving. */
interface OpenArray {
  items: RespValue[];
  left: number;
}

/**
 * The decoder of replies. Each value is consumed as soon as it is whole;
 * the arrays it belongs to wait on a stack until their last item. The bytes
 * of the reply in progress are counted against `maxReplyLength`.
 */
class ReplyDecoder implements Decoder<RespValue> {
  readonly maxBuffered: number;
  readonly #maxBulk: number;
  readonly #maxReply: number;
  readonly #maxDepth: number;
  #stack: OpenArray[] = [];
  /** Bytes consumed by the reply in progress. */
  #held = 0;

  constructor(maxBulk: number, maxReply: number, maxDepth: number) {
    this.#maxBulk = maxBulk;
    this.#maxReply = maxReply;
    this.#maxDepth = maxDepth;
    this.maxBuffered = maxBulk + INLINE_MAX;
  }

  decode(input: DecodeInput): RespValue | NeedMore {
    for (;;) {
      const before = input.consumed;
      let value = this.#one(input);
      if (value === NEED_MORE) return value;
      this.#held += input.consumed - before;
      if (this.#held > this.#maxReply) {
        const held = this.#held;
        this.#stack = [];
        this.#held = 0;
        throw new FrameTooLargeError(held, this.#maxReply, {
          limitName: "maxReplyLength",
        });
      }
      if (value === OPEN) continue;
      for (;;) {
        const top = this.#stack.at(-1);
        if (top === undefined) {
          this.#held = 0;
          return value;
        }
        top.items.push(value);
        if (--top.left > 0) break;
        this.#stack.pop();
        value = top.items;
      }
    }
  }

  /** One value, or an array's header (OPEN), consumed; or NEED_MORE. */
  #one(input: DecodeInput): RespValue | typeof OPEN | NeedMore {
    const d = input.data, s = input.start, e = input.end;
    if (s === e) return input.needMore();
    const type = d[s]!;
    if (!TYPES.includes(type)) {
      const hex = type.toString(16).padStart(2, "0");
      this.#bad(input, `type byte 0x${hex} is not one of + - : $ *`);
    }
    let cr = s + 1;
    while (cr < e && d[cr] !== CR) cr++;
    if (cr + 1 >= e) {
      if (e - s > INLINE_MAX) this.#bad(input, "a line is over 65536 bytes");
      return input.needMore();
    }
    if (d[cr + 1] !== LF) this.#bad(input, "a line ends in CR without LF");
    const line = cr + 2 - s;
    if (type === 0x2b || type === 0x2d) {
      const text = latin1Range(d, s + 1, cr);
      input.skip(line);
      return type === 0x2b ? text : new RespError(text);
    }
    const n = parseInteger(d, s + 1, cr);
    if (Number.isNaN(n)) {
      this.#bad(input, `"${latin1Range(d, s, cr)}" is not an integer`);
    }
    if (type === 0x3a) {
      input.skip(line);
      return Number.isSafeInteger(n) ? n : BigInt(latin1Range(d, s + 1, cr));
    }
    if (n === -1) return input.skip(line), null;
    if (n < -1) this.#bad(input, `length ${n} is out of range`);
    if (type === STAR) {
      input.skip(line);
      if (n === 0) return [];
      if (this.#stack.length === this.#maxDepth) {
        this.#bad(input, `arrays nest deeper than ${this.#maxDepth}`);
      }
      this.#stack.push({ items: [], left: n });
      return OPEN;
    }
    if (n > this.#maxBulk) {
      this.#bad(
        input,
        `bulk length ${n} exceeds maxBulkLength ${this.#maxBulk}`,
      );
    }
    const need = line + n + 2;
    if (need > e - s) return input.needMore(Math.min(need, e - s + HINT));
    if (d[s + need - 2] !== CR || d[s + need - 1] !== LF) {
      this.#bad(input, "a bulk string does not end in CR LF");
    }
    input.skip(line);
    const value = input.copy(n);
    input.skip(2);
    return value;
  }

  #bad(input: DecodeInput, why: string): never {
    const offset = input.consumed;
    input.skip(input.length);
    this.#stack = [];
    this.#held = 0;
    throw new DecodeError(`Cannot decode RESP reply: ${why}`, { offset });
  }
}

const OPEN: unique symbol = Symbol("open array");
const TYPES = [0x2b, 0x2d, 0x3a, DOLLAR, STAR];

/** Encodes a command as an array of bulk strings. */
const commandEncoder: Encoder<readonly RespArg[]> = {
  encodeInto(args, out) {
    const before = out.length;
    try {
      let b = out.reserve(25);
      b[0] = STAR;
      let at = putAscii(b, 1, String(args.length));
      b[at] = CR, b[at + 1] = LF;
      out.commit(at + 2);
      for (const arg of args) {
        const bytes = arg instanceof Uint8Array
          ? arg
          : typeof arg === "string"
          ? encoder.encode(arg)
          : typeof arg === "number" || typeof arg === "bigint"
          ? encoder.encode(String(arg))
          : null;
        if (bytes === null) {
          throw new TypeError(
            `Cannot encode RESP argument: ${typeof arg} is not one`,
          );
        }
        b = out.reserve(bytes.length + 25);
        b[0] = DOLLAR;
        at = putAscii(b, 1, String(bytes.length));
        b[at++] = CR, b[at++] = LF;
        b.set(bytes, at);
        at += bytes.length;
        b[at++] = CR, b[at++] = LF;
        out.commit(at);
      }
    } catch (err) {
      out.truncate(before);
      throw err;
    }
  },
  encode(args) {
    const out = new ByteBuffer(64);
    this.encodeInto(args, out);
    return out.bytes().slice();
  },
};

/**
 * The client's codec: encodes commands, decodes replies of every RESP2
 * type (error replies are {@linkcode RespError} values, not throws).
 *
 * @example Encode a command, decode replies
 * ```ts
 * import { RespError, respClient } from "./resp.ts";
 * import { decodeAll } from "../codec/decoder.ts";
 * import { assertEquals, assertInstanceOf } from "@std/assert";
 *
 * const wire = respClient().encoder().encode(["SET", "k", 1]);
 * assertEquals(new TextDecoder().decode(wire), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n");
 * const replies = decodeAll(respClient(), [
 *   new TextEncoder().encode("+OK\r\n:7\r\n$-1\r\n*2\r\n$1\r\na\r\n*-1\r\n-ERR no\r\n"),
 * ]);
 * assertEquals(replies.slice(0, 4), ["OK", 7, null, [new TextEncoder().encode("a"), null]]);
 * assertInstanceOf(replies[4], RespError);
 * ```
 *
 * @param options The bounds of a reply.
 * @returns The codec.
 * @throws {RangeError} A bound is not a positive integer.
 */
export function respClient(
  options: RespClientOptions = {},
): Codec<RespValue, readonly RespArg[]> {
  const maxBulk = positive(
    options.maxBulkLength ?? 512 * 1024 * 1024,
    "maxBulkLength",
  );
  const maxReply = positive(
    options.maxReplyLength ?? maxBulk + INLINE_MAX,
    "maxReplyLength",
  );
  const maxDepth = positive(options.maxDepth ?? 64, "maxDepth");
  return createCodec({
    name: "respClient",
    decoder: () => new ReplyDecoder(maxBulk, maxReply, maxDepth),
    encoder: once(() => commandEncoder),
  });
}
