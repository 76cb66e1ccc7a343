// Copyright 2026 the netkit authors. MIT license.

/**
 * Helpers to test protocols without sockets: an in-memory
 * {@linkcode Connection} pair, and replays of bytes to a decoder in every
 * awkward chunking — the way netkit tests its own codecs.
 *
 * @example Test a protocol in memory
 * ```ts
 * import { json, lines } from "@netkit/net";
 * import { connectionPair } from "@netkit/net/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const [client, server] = connectionPair({ codec: json<{ n: number }>(lines()) });
 * await client.send({ n: 1 });
 * const msg = await server.receive();
 * assertEquals(msg, { n: 1 });
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

import { type Codec, StreamDecoder } from "./codec.ts";
import {
  Connection,
  type ConnectionOptions,
  type Transport,
} from "./connection.ts";

/** Options for {@linkcode transportPair}. */
export interface TransportPairOptions {
  /**
   * Bytes each direction holds before writes wait (the socket buffer).
   *
   * @default {65536}
   */
  capacity?: number;
  /**
   * The most bytes one read returns, to imitate small TCP segments.
   *
   * @default {65536}
   */
  maxReadSize?: number;
}

class Pipe {
  chunks: Uint8Array[] = [];
  size = 0;
  ended = false;
  broken = false;
  readers: Array<() => void> = [];
  writers: Array<() => void> = [];
  constructor(readonly capacity: number) {}
  wakeReaders(): void {
    const r = this.readers;
    this.readers = [];
    for (const f of r) f();
  }
  wakeWriters(): void {
    const w = this.writers;
    this.writers = [];
    for (const f of w) f();
  }
}

class MemoryTransport implements Transport {
  #closed = false;
  constructor(
    readonly incoming: Pipe,
    readonly outgoing: Pipe,
    readonly localAddr: Deno.NetAddr,
    readonly remoteAddr: Deno.NetAddr,
    readonly maxReadSize: number,
  ) {}

  async read(p: Uint8Array): Promise<number | null> {
    const pipe = this.incoming;
    while (pipe.size === 0) {
      if (this.#closed) throw new Deno.errors.BadResource("Bad resource ID");
      if (pipe.ended) return null;
      await new Promise<void>((r) => pipe.readers.push(r));
    }
    if (this.#closed) throw new Deno.errors.BadResource("Bad resource ID");
    let n = 0;
    const max = Math.min(p.length, this.maxReadSize);
    while (n < max && pipe.chunks.length > 0) {
      const c = pipe.chunks[0]!;
      const k = Math.min(c.length, max - n);
      p.set(c.subarray(0, k), n);
      n += k;
      if (k === c.length) pipe.chunks.shift();
      else pipe.chunks[0] = c.subarray(k);
    }
    pipe.size -= n;
    pipe.wakeWriters();
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    const pipe = this.outgoing;
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource("Bad resource ID");
      if (pipe.ended) throw new Deno.errors.BrokenPipe("Broken pipe");
      if (pipe.broken) {
        throw new Deno.errors.ConnectionReset("Connection reset by peer");
      }
      if (pipe.size < pipe.capacity) break;
      await new Promise<void>((r) => pipe.writers.push(r));
    }
    const n = Math.min(p.length, pipe.capacity - pipe.size);
    pipe.chunks.push(p.slice(0, n));
    pipe.size += n;
    pipe.wakeReaders();
    return n;
  }

  closeWrite(): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("Bad resource ID"));
    }
    this.outgoing.ended = true;
    this.outgoing.wakeReaders();
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("Bad resource ID");
    this.#closed = true;
    this.outgoing.ended = true;
    this.outgoing.wakeReaders();
    // Data the peer sends from now on cannot be delivered.
    this.incoming.broken = true;
    this.incoming.wakeReaders();
    this.incoming.wakeWriters();
  }
}

/**
 * Returns two connected in-memory transports, like the two ends of a TCP
 * connection: what one writes the other reads, `closeWrite()` sends EOF,
 * and writes wait while the other side's buffer is full.
 *
 * @example Usage
 * ```ts
 * import { transportPair } from "@netkit/net/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = transportPair();
 * await a.write(new Uint8Array([1, 2, 3]));
 * const buf = new Uint8Array(8);
 * assertEquals(await b.read(buf), 3);
 * a.close();
 * b.close();
 * ```
 *
 * @param options The buffer capacity and the read size.
 * @returns The two ends.
 */
export function transportPair(
  options: TransportPairOptions = {},
): [Transport, Transport] {
  const { capacity = 65536, maxReadSize = 65536 } = options;
  const ab = new Pipe(capacity);
  const ba = new Pipe(capacity);
  const addrA: Deno.NetAddr = {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 40001,
  };
  const addrB: Deno.NetAddr = {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 40002,
  };
  return [
    new MemoryTransport(ba, ab, addrA, addrB, maxReadSize),
    new MemoryTransport(ab, ba, addrB, addrA, maxReadSize),
  ];
}

/**
 * Returns two {@linkcode Connection}s joined in memory: a test of a
 * protocol needs no socket. Both ends take `options`, or the second end
 * takes `optionsB`, so that a client's codec can face a server's.
 *
 * @example Usage
 * ```ts
 * import { lengthPrefixed } from "@netkit/net";
 * import { connectionPair } from "@netkit/net/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = connectionPair({ codec: lengthPrefixed() });
 * await a.send(new Uint8Array([42]));
 * assertEquals(await b.receive(), new Uint8Array([42]));
 * await a.close();
 * await b.close();
 * ```
 *
 * @example A client codec facing a server codec
 * ```ts
 * import { json, lines, text } from "@netkit/net";
 * import { connectionPair } from "@netkit/net/testing";
 * import { assertEquals } from "@std/assert";
 *
 * // The client sends JSON lines; the server reads them as text.
 * const [client, server] = connectionPair(
 *   { codec: json<{ n: number }>(lines()) },
 *   { codec: text(lines()) },
 * );
 * await client.send({ n: 1 });
 * assertEquals(await server.receive(), '{"n":1}');
 * await client.close();
 * await server.close();
 * ```
 *
 * @typeParam In What the first end receives.
 * @typeParam Out What the first end sends.
 * @typeParam InB What the second end receives.
 * @typeParam OutB What the second end sends.
 * @param options The first end's connection options (codec, water marks,
 * timeouts) and the transport options.
 * @param optionsB The second end's connection options.
 * @returns The two ends.
 */
export function connectionPair<
  In = Uint8Array,
  Out = In,
  InB = In,
  OutB = Out,
>(
  options: ConnectionOptions<In, Out> & TransportPairOptions = {},
  optionsB?: ConnectionOptions<InB, OutB>,
): [Connection<In, Out>, Connection<InB, OutB>] {
  const [a, b] = transportPair(options);
  return [
    new Connection(a, options),
    new Connection(
      b,
      optionsB ?? options as unknown as ConnectionOptions<InB, OutB>,
    ),
  ];
}

/**
 * Yields `bytes` cut in awkward ways: whole, one byte at a time, split at
 * every single point, and in a few fixed chunk sizes. Feed each chunking to
 * a fresh decoder and expect the same messages every time.
 *
 * @example Usage
 * ```ts
 * import { decodeAll, encodeAll, lengthPrefixed } from "@netkit/net";
 * import { chunkings } from "@netkit/net/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const codec = lengthPrefixed();
 * const msgs = [new Uint8Array([1, 2]), new Uint8Array([])];
 * const wire = encodeAll(codec, msgs);
 * for (const chunks of chunkings(wire)) assertEquals(decodeAll(codec, chunks), msgs);
 * ```
 *
 * @param bytes The bytes of a stream.
 * @returns The chunkings, each an array of views of `bytes` (and, in one, an
 *   empty chunk).
 */
export function* chunkings(bytes: Uint8Array): Generator<Uint8Array[]> {
  yield [bytes];
  yield Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  for (let cut = 1; cut < bytes.length; cut++) {
    yield [bytes.subarray(0, cut), bytes.subarray(cut)];
  }
  for (const size of [2, 3, 5, 7, 64]) {
    const out: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) {
      out.push(bytes.subarray(i, i + size));
    }
    yield out;
  }
  // An empty chunk between two halves.
  const half = bytes.length >> 1;
  yield [bytes.subarray(0, half), new Uint8Array(0), bytes.subarray(half)];
}

/**
 * Decodes `bytes` in every chunking of {@linkcode chunkings}, each with a
 * decoder that copies its byte frames and with one that lends them
 * (`borrow`), and asserts that every run gives the same messages,
 * compared structurally (BigInts, typed arrays, maps, sets, nested
 * values); returns them.
 *
 * @example Usage
 * ```ts
 * import { lines, text } from "@netkit/net";
 * import { decodeEveryChunking } from "@netkit/net/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const msgs = decodeEveryChunking(text(lines()), new TextEncoder().encode("a\r\nb\n"));
 * assertEquals(msgs, ["a", "b"]);
 * ```
 *
 * @typeParam T What the codec decodes to.
 * @param codec The codec.
 * @param bytes The bytes of a stream.
 * @returns The messages.
 * @throws {Error} When two runs disagree, or decoding fails.
 */
export function decodeEveryChunking<T>(
  codec: Pick<Codec<T, unknown>, "decoder">,
  bytes: Uint8Array,
): T[] {
  let first: T[] | undefined;
  for (const borrow of [false, true]) {
    for (const chunks of chunkings(bytes)) {
      const out = decodeChunks(codec, chunks, borrow);
      if (first === undefined) {
        first = out;
      } else if (!sameValue(out, first)) {
        throw new Error(
          `Decoding differs by chunking: ${
            show(out)
          } after ${chunks.length} chunks${
            borrow ? " (borrow)" : ""
          }, expected ${show(first)}`,
        );
      }
    }
  }
  return first ?? [];
}

/**
 * Decodes chunks with a new decoder. With `borrow`, a byte frame is a view
 * valid until the next call: it is copied after the call that emitted it.
 */
function decodeChunks<T>(
  codec: Pick<Codec<T, unknown>, "decoder">,
  chunks: readonly Uint8Array[],
  borrow: boolean,
): T[] {
  const out: T[] = [];
  let from = 0;
  const emit = (m: T) => void out.push(m);
  const settle = () => {
    for (; from < out.length; from++) {
      const m = out[from];
      if (m instanceof Uint8Array) out[from] = m.slice() as T;
    }
  };
  const d = new StreamDecoder(codec, { borrow });
  for (const c of chunks) {
    d.decode(c, emit);
    settle();
  }
  d.finish(emit);
  settle();
  return out;
}

/** Formats a value for a failure message. */
function show(value: unknown): string {
  return Deno.inspect(value, { depth: 8, iterableLimit: 64, compact: true });
}

/** Whether two values are equal, structurally. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object") {
    return Number.isNaN(a) && Number.isNaN(b);
  }
  if (a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(
      (b as ArrayBufferView).buffer,
      (b as ArrayBufferView).byteOffset,
      (b as ArrayBufferView).byteLength,
    );
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a instanceof ArrayBuffer) {
    return sameValue(new Uint8Array(a), new Uint8Array(b as ArrayBuffer));
  }
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    for (const [k, v] of a) {
      if (!m.has(k) || !sameValue(v, m.get(k))) return false;
    }
    return true;
  }
  if (a instanceof Set) {
    const t = b as Set<unknown>;
    if (a.size !== t.size) return false;
    for (const v of a) if (!t.has(v)) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (
      !Object.hasOwn(b, k) ||
      !sameValue(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
      )
    ) {
      return false;
    }
  }
  return true;
}
