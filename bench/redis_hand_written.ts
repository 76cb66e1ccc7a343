// Copyright 2026 the netkit authors. MIT license.

/**
 * The baseline of the Redis benchmark: a RESP server written by hand on
 * `Deno.listen`, none of it netkit. Each connection reads into one buffer,
 * runs every whole command in it, and writes the replies of a read in one
 * write. It knows what `redis-benchmark -t ping,set,get` sends: PING
 * (inline and as an array), SET key value, GET key, and CONFIG GET. It
 * keeps values as `examples/redis.ts` does: up to 64 bytes as a string
 * (one character per byte; Deno allocates a new Uint8Array in about half a
 * microsecond), longer ones as bytes.
 *
 * ```sh
 * deno run -N bench/redis_hand_written.ts --port 6380
 * ```
 *
 * @module
 */

import { echoSettings, serveEcho, writeAll } from "./_hand_written.ts";

const CR = 13, LF = 10;
const enc = new TextEncoder();
const PONG = enc.encode("+PONG\r\n");
const OK = enc.encode("+OK\r\n");
const NIL = enc.encode("$-1\r\n");
const EMPTY = enc.encode("*0\r\n");
const CONFIG: Record<string, Uint8Array> = {
  save: enc.encode("*2\r\n$4\r\nsave\r\n$0\r\n\r\n"),
  appendonly: enc.encode("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"),
};

const settings = echoSettings();
const { maxFrameLength } = settings;
const store = new Map<string, string | Uint8Array>();
/** The longest value kept as a string. */
const SHORT_VALUE = 64;

/** The replies of one read, written at once. */
class Out {
  buf = new Uint8Array(16384);
  len = 0;
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  put(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** A bulk string's bytes: `$<length>\r\n<value>\r\n`. */
  bulk(v: Uint8Array | string): void {
    const n = v.length;
    const digits = String(n);
    this.reserve(digits.length + n + 5);
    const b = this.buf;
    let at = this.len;
    b[at++] = 0x24;
    for (let i = 0; i < digits.length; i++) b[at++] = digits.charCodeAt(i);
    b[at++] = CR, b[at++] = LF;
    if (typeof v === "string") {
      for (let i = 0; i < n; i++) b[at++] = v.charCodeAt(i);
    } else {
      b.set(v, at);
      at += n;
    }
    b[at++] = CR, b[at++] = LF;
    this.len = at;
  }
}

/** Whether `b[at..at+len)` spells `word` (upper case), ignoring case. */
function is(b: Uint8Array, at: number, len: number, word: string): boolean {
  if (len !== word.length) return false;
  for (let i = 0; i < len; i++) {
    if ((b[at + i]! & ~0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** A key as a string, one character per byte. */
function text(b: Uint8Array, at: number, len: number): string {
  const codes = new Array<number>(len); // apply is fast on an array
  for (let i = 0; i < len; i++) codes[i] = b[at + i]!;
  return String.fromCharCode.apply(null, codes);
}

/** Runs a command given as [start, length] pairs into `b`. */
function run(b: Uint8Array, args: number[], out: Out): void {
  const n = args.length / 2;
  const at = args[0]!, len = args[1]!;
  if (is(b, at, len, "PING")) out.put(PONG);
  else if (is(b, at, len, "SET") && n === 3) {
    const v = args[5]! <= SHORT_VALUE
      ? text(b, args[4]!, args[5]!)
      : b.slice(args[4]!, args[4]! + args[5]!);
    store.set(text(b, args[2]!, args[3]!), v);
    out.put(OK);
  } else if (is(b, at, len, "GET") && n === 2) {
    const v = store.get(text(b, args[2]!, args[3]!));
    if (v === undefined) out.put(NIL);
    else out.bulk(v);
  } else if (is(b, at, len, "CONFIG") && n === 3) {
    out.put(CONFIG[text(b, args[4]!, args[5]!).toLowerCase()] ?? EMPTY);
  } else out.put(enc.encode(`-ERR unknown command '${text(b, at, len)}'\r\n`));
}

/** Reads a decimal number ending in CR at `b[at]`; -1 if it is not there yet. */
function number(b: Uint8Array, at: number, end: number): [number, number] {
  let v = 0;
  for (let i = at; i < end; i++) {
    const c = b[i]!;
    if (c === CR) return i + 1 < end ? [v, i + 2] : [-1, at];
    if (c < 48 || c > 57) throw new Error("Protocol error");
    v = v * 10 + c - 48;
  }
  return [-1, at];
}

/**
 * Runs every whole command in `b[start..end)`; returns where the first
 * incomplete one starts.
 */
function parse(b: Uint8Array, start: number, end: number, out: Out): number {
  const args: number[] = [];
  let p = start;
  while (p < end) {
    args.length = 0;
    let q: number;
    if (b[p] === 0x2a) { // *N, then N of $len CR LF bytes CR LF
      let n: number;
      [n, q] = number(b, p + 1, end);
      if (n < 0) return p;
      for (let i = 0; i < n; i++) {
        if (q >= end) return p;
        if (b[q] !== 0x24) throw new Error("Protocol error");
        let len: number;
        [len, q] = number(b, q + 1, end);
        if (len < 0 || q + len + 2 > end) return p;
        args.push(q, len);
        q += len + 2;
      }
    } else { // an inline line: words apart by spaces
      const lf = b.indexOf(LF, p);
      if (lf === -1 || lf >= end) return p;
      const stop = lf > p && b[lf - 1] === CR ? lf - 1 : lf;
      for (let i = p; i < stop;) {
        while (i < stop && b[i] === 0x20) i++;
        const w = i;
        while (i < stop && b[i] !== 0x20) i++;
        if (i > w) args.push(w, i - w);
      }
      q = lf + 1;
    }
    if (args.length > 0) run(b, args, out);
    p = q;
  }
  return p;
}

await serveEcho(settings, async (conn) => {
  let buf = new Uint8Array(16384);
  let start = 0, end = 0;
  const out = new Out();
  for (;;) {
    if (end === buf.length) {
      // Make room: move the incomplete command to the front, or grow.
      const pending = end - start;
      if (pending >= maxFrameLength) return; // too large: hang up
      const next = pending * 2 > buf.length
        ? new Uint8Array(buf.length * 2)
        : buf;
      next.set(buf.subarray(start, end));
      buf = next;
      start = 0;
      end = pending;
    }
    const n = await conn.read(buf.subarray(end));
    if (n === null) return;
    end += n;
    start = parse(buf, start, end, out);
    if (start === end) start = end = 0;
    if (out.len > 0) {
      await writeAll(conn, out.buf.subarray(0, out.len));
      out.len = 0;
    }
  }
});
