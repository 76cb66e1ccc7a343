// Copyright 2026 the netkit authors. MIT license.

// Attacks on the read path (codec/read_buffer.ts, codec/decoder.ts,
// _frame_reader.ts, connection.ts) over real loopback sockets: bytes that
// move under views, bounds that a peer tries to stretch, the end of the
// stream and errors in the middle of traffic, readers that ask at once, and
// a peer that floods one connection while another waits.

import {
  assert,
  assertEquals,
  assertGreater,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import {
  type Codec,
  Connection,
  DecodeError,
  type DecodeInput,
  encodeAll,
  fixedLength,
  json,
  lengthPrefixed,
  lines,
  text,
  type Transport,
  UnexpectedEofError,
} from "./mod.ts";
import { scheduler } from "./_scheduler.ts";
import { collected, prng, writeAll } from "./_test_utils.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** Rejects when `p` has not settled within `ms` (a hung test fails). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms: ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What one read of the server's socket was offered. */
interface ReadRecord {
  /** The size of the array the read buffer lives in. */
  capacity: number;
  /** How many bytes the read was offered. */
  offered: number;
}

/**
 * A socket that records, for every read, the array the read buffer offered:
 * `p.buffer` is the read buffer's whole array.
 */
function recording(s: Deno.TcpConn, reads: ReadRecord[]): Transport {
  return {
    read(p: Uint8Array) {
      reads.push({ capacity: p.buffer.byteLength, offered: p.length });
      return s.read(p);
    },
    write: (p) => s.write(p),
    closeWrite: () => s.closeWrite(),
    close: () => s.close(),
    localAddr: s.localAddr,
    remoteAddr: s.remoteAddr,
  };
}

/**
 * Runs `handle` on each of `n` accepted sockets while `clients` runs, and
 * waits for both. A handler that throws closes its socket (so that its
 * client fails rather than waits), and its error is the one reported.
 */
async function withServer(
  n: number,
  handle: (s: Deno.TcpConn) => Promise<void>,
  clients: (port: number) => Promise<void>,
): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const handlers: Promise<void>[] = [];
  const errors: unknown[] = [];
  const accepting = (async () => {
    for (let i = 0; i < n; i++) {
      const s = await listener.accept() as Deno.TcpConn;
      handlers.push(
        handle(s).catch((err) => {
          errors.push(err);
          try {
            s.close();
          } catch {
            // Closed already.
          }
        }),
      );
    }
  })();
  const clientError = await clients(listener.addr.port).then(
    () => null,
    (err) => err ?? new Error("A client failed"),
  );
  await accepting;
  await Promise.all(handlers);
  // The server's error first: a client's is often its consequence.
  if (errors.length > 0) throw errors[0];
  if (clientError !== null) throw clientError;
}

// ---------------------------------------------------------------------------
// Data integrity under buffer motion

const MAX_LINE = 300_000;

/** The size of frame `i` of connection `conn`: 1 B … 300 KB, mostly small. */
function frameSizes(conn: number, count: number): number[] {
  const rand = prng(conn * 7919 + 1);
  const sizes: number[] = [1, MAX_LINE - 1];
  while (sizes.length < count) {
    const r = rand();
    sizes.push(
      r < 0.55
        ? 1 + Math.floor(rand() * 200)
        : r < 0.8
        ? 200 + Math.floor(rand() * 8000)
        : r < 0.93
        ? 60_000 + Math.floor(rand() * 12_000) // around one 64 KiB read
        : 262_144 + Math.floor(rand() * (MAX_LINE - 1 - 262_144)), // handed over
    );
  }
  return sizes.sort(() => rand() - 0.5);
}

/**
 * Frame `i` of a connection: every byte depends on the frame and its
 * position, so a byte overwritten, shifted or taken from another frame
 * shows. Lines never hold `\n`.
 */
function payload(seed: number, size: number, line: boolean): Uint8Array {
  const p = new Uint8Array(size);
  for (let j = 0; j < size; j++) {
    const v = seed * 131 + j * 7 + (j >>> 8) * 13;
    p[j] = line ? 97 + (v % 26) : v & 255;
  }
  return p;
}

/** Where `got` first differs from `want`, or -1. */
function firstDifference(got: Uint8Array, want: Uint8Array): number {
  const n = Math.min(got.length, want.length);
  for (let j = 0; j < n; j++) if (got[j] !== want[j]) return j;
  return got.length === want.length ? -1 : n;
}

type Mode = "forAwait" | "receive" | "pipe" | "procedural";

interface Case {
  mode: Mode;
  borrow: boolean;
  line: boolean;
}

const CASES: Case[] = [];
for (const mode of ["forAwait", "receive", "pipe", "procedural"] as const) {
  for (const borrow of [false, true]) {
    for (const line of [false, true]) CASES.push({ mode, borrow, line });
  }
}

function codecOf(line: boolean): Codec<Uint8Array> {
  return line ? lines({ maxLength: MAX_LINE }) : lengthPrefixed();
}

/** Frames a handler keeps before it echoes them (when it does not borrow). */
const HOLD = 40;

/**
 * The server side of one case: receives every frame the way the case says,
 * keeps up to {@linkcode HOLD} of them across later reads when it does not
 * borrow (they must stay intact while the buffer reads, compacts, grows,
 * gives arrays back and other connections take them), and echoes them.
 */
async function serveCase(
  conn: Connection<Uint8Array>,
  c: Case,
): Promise<void> {
  if (c.mode === "pipe") {
    await conn.readable.pipeTo(conn.writable);
    return;
  }
  let held: Uint8Array[] = [];
  const echo = async (m: Uint8Array) => {
    if (c.borrow) {
      // A borrowed view is valid until the next message is asked for.
      await conn.send(m);
      return;
    }
    held.push(m);
    if (held.length >= HOLD) {
      for (const h of held) await conn.send(h);
      held = [];
    }
  };
  if (c.mode === "forAwait") {
    for await (const m of conn) await echo(m);
  } else if (c.mode === "receive") {
    for (let m; (m = await conn.receive()) !== undefined;) await echo(m);
  } else {
    // Messages and procedural reads of the same frames, in turn.
    for (let i = 0;; i++) {
      let m: Uint8Array | undefined;
      if (i % 2 === 0) {
        m = await conn.receive();
      } else {
        try {
          if (c.line) {
            m = await conn.readUntil("\n", { maxLength: MAX_LINE });
          } else {
            m = await conn.readExactly(await conn.readUint(4));
          }
        } catch (err) {
          if (!(err instanceof UnexpectedEofError) || err.remaining !== 0) {
            throw err;
          }
        }
      }
      if (m === undefined) break;
      await echo(m);
    }
  }
  for (const h of held) await conn.send(h);
}

Deno.test("`Connection` echoes every byte of mixed frames (1 B … 300 KB) on 16 connections at once, borrowing or not, through every face", async () => {
  const reads: ReadRecord[][] = CASES.map(() => []);
  const limits: number[] = [];
  await within(
    withServer(
      CASES.length,
      async (s) => {
        // The clients connect in order; the i-th accepted socket may be any
        // client's, so the case travels in the first byte the client sends.
        const first = new Uint8Array(1);
        assertEquals(await s.read(first), 1);
        const k = first[0]!;
        const c = CASES[k]!;
        const codec = codecOf(c.line);
        limits[k] = codec.decoder().maxBuffered!;
        const conn = new Connection(recording(s, reads[k]!), {
          codec,
          borrow: c.borrow,
        });
        await serveCase(conn, c);
        await conn.close();
        await conn.closed;
      },
      async (port) => {
        await Promise.all(CASES.map(async (c, k) => {
          // The case number, then the client's frames.
          const probe = await Deno.connect({ hostname: "127.0.0.1", port });
          await writeAll(probe, new Uint8Array([k]));
          await runClientOn(probe, k, c);
        }));
      },
    ),
    60_000,
    "the echo of 16 connections",
  );
  // Bounds: no read buffer was ever larger than its limit and one read.
  for (let k = 0; k < CASES.length; k++) {
    for (const r of reads[k]!) {
      assertLessOrEqual(
        r.capacity,
        limits[k]! + 65536,
        `case ${
          JSON.stringify(CASES[k])
        }: a read buffer of ${r.capacity} bytes`,
      );
    }
  }
});

/** {@linkcode runClient} on a socket already connected. */
async function runClientOn(
  s: Deno.TcpConn,
  index: number,
  c: Case,
): Promise<void> {
  const sizes = frameSizes(index, 160);
  const conn = new Connection(s, { codec: codecOf(c.line) });
  const rand = prng(index + 17);
  const sending = (async () => {
    for (let i = 0; i < sizes.length; i++) {
      await conn.send(payload(index * 1000 + i, sizes[i]!, c.line));
      if (rand() < 0.1) await sleep(rand() < 0.5 ? 0 : 2);
    }
    await conn.closeWrite();
  })();
  let i = 0;
  for await (const m of conn) {
    assert(i < sizes.length, `case ${JSON.stringify(c)}: an extra frame`);
    const want = payload(index * 1000 + i, sizes[i]!, c.line);
    const at = firstDifference(m, want);
    assertEquals(
      at,
      -1,
      `case ${JSON.stringify(c)}, frame ${i} of ${
        sizes[i]
      } bytes: differs at byte ${at} (got ${m.length} bytes)`,
    );
    i++;
  }
  await sending;
  assertEquals(i, sizes.length, `case ${JSON.stringify(c)}: frames echoed`);
  await conn.close();
  await conn.closed;
}

// ---------------------------------------------------------------------------
// Readers that ask at once

/** A server socket and a raw client socket on loopback, ready to talk. */
async function socketPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  return [client, server as Deno.TcpConn];
}

Deno.test("`Connection.receive()` waits behind a procedural read that is already waiting for bytes", async () => {
  const [client, server] = await socketPair();
  const conn = new Connection(server, { codec: lines() });
  await writeAll(client, te.encode("ab\n"));
  // The bytes are buffered once a first read returns them.
  assertEquals(td.decode(await conn.readExactly(1)), "a");
  // Asked in this order: 4 bytes, then a line.
  const exactly = conn.readExactly(4);
  const line = conn.receive();
  await sleep(10);
  await writeAll(client, te.encode("cd\nef\n"));
  assertEquals(td.decode(await within(exactly, 5000, "readExactly")), "b\ncd");
  assertEquals(td.decode((await within(line, 5000, "receive"))!), "");
  assertEquals(td.decode((await conn.receive())!), "ef");
  client.close();
  assertStrictEquals(await conn.receive(), undefined);
  await conn.close();
  await conn.closed;
});

Deno.test("`Connection.readUntil()` keeps its place when a message is asked for while it waits", async () => {
  const [client, server] = await socketPair();
  const conn = new Connection(server, { codec: lengthPrefixed() });
  await writeAll(client, te.encode("+HELLO"));
  // The bytes are buffered once a first read returns them.
  assertEquals(await conn.readUint(1), 0x2b);
  const header = conn.readUntil("\r\n\r\n");
  const frame = conn.receive();
  await sleep(10);
  await writeAll(
    client,
    new Uint8Array([
      ...te.encode(" x\r\n\r\n"),
      ...encodeAll(lengthPrefixed(), [new Uint8Array([1, 2, 3])]),
    ]),
  );
  assertEquals(td.decode(await within(header, 5000, "readUntil")), "HELLO x");
  assertEquals(await within(frame, 5000, "receive"), new Uint8Array([1, 2, 3]));
  client.close();
  await conn.close();
  await conn.closed;
});

Deno.test("`Connection.receive()` serves 300 concurrent callers in order, then the end to the rest", async () => {
  const [client, server] = await socketPair();
  const conn = new Connection(server, { codec: lengthPrefixed() });
  const asked = Array.from({ length: 300 }, () => conn.receive());
  const frames = Array.from(
    { length: 200 },
    (_, i) => payload(i, 1 + (i * 37) % 3000, false),
  );
  // In pieces of 1 000 bytes, so that each read completes some callers.
  const wire = encodeAll(lengthPrefixed(), frames);
  for (let off = 0; off < wire.length; off += 1000) {
    await writeAll(client, wire.subarray(off, off + 1000));
  }
  client.close();
  const got = await within(Promise.all(asked), 10_000, "300 receive() calls");
  for (let i = 0; i < 200; i++) assertEquals(got[i], frames[i], `frame ${i}`);
  for (let i = 200; i < 300; i++) assertStrictEquals(got[i], undefined);
  await conn.close();
  await conn.closed;
});

Deno.test("`Connection.readWith()` copies a view its step takes, so the caller may keep it", async () => {
  const [client, server] = await socketPair();
  const conn = new Connection(server);
  const take = (n: number) => (input: DecodeInput) =>
    input.length >= n ? input.take(n) : input.needMore(n);
  const kept: Uint8Array[] = [];
  // Small views (shared copies), then one of 300 KB (handed over).
  const sizes = [4, 100, 5000, 300_000, 7];
  const sending = (async () => {
    for (let i = 0; i < sizes.length; i++) {
      await writeAll(client, payload(i, sizes[i]!, false));
      await sleep(5);
    }
    // Bytes that overwrite the buffer's arrays if views were kept.
    await writeAll(client, new Uint8Array(200_000).fill(0xee));
    client.close();
  })();
  for (const n of sizes) kept.push(await conn.readWith(take(n)));
  assertEquals((await conn.readExactly(200_000)).length, 200_000);
  await sending;
  for (let i = 0; i < sizes.length; i++) {
    assertEquals(firstDifference(kept[i]!, payload(i, sizes[i]!, false)), -1);
  }
  await conn.close();
  await conn.closed;
});

// ---------------------------------------------------------------------------
// Codec switches

Deno.test("`Connection.setCodec()` decodes buffered bytes with the new codec and takes its limit", async () => {
  const [client, server] = await socketPair();
  const conn = new Connection(server, { codec: text(lines()) });
  // A line handshake, then binary frames larger than any line, in one write.
  const frames = [200_000, 1, 3_000_000].map((n, i) => payload(i, n, false));
  const sending = writeAll(
    client,
    new Uint8Array([
      ...te.encode("HELLO\n"),
      ...encodeAll(lengthPrefixed(), frames),
    ]),
  );
  assertEquals(await conn.receive(), "HELLO");
  const bin = conn.setCodec(lengthPrefixed());
  for (let i = 0; i < frames.length; i++) {
    assertEquals(await within(bin.receive(), 10_000, "a frame"), frames[i]);
  }
  await sending;
  const back = bin.setCodec(text(lines({ maxLength: 100 })));
  await writeAll(client, te.encode("bye\n"));
  assertEquals(await back.receive(), "bye");
  client.close();
  assertStrictEquals(await back.receive(), undefined);
  await conn.close();
  await conn.closed;
});

// ---------------------------------------------------------------------------
// The budget: a flood on one connection, prompt service on another

/**
 * Counts ticks of a chain of zero-delay timers, and the most `hit()` calls
 * made between two ticks. A tick comes about every millisecond (nested
 * timers are clamped), so a reader that lets other tasks run every 1 024
 * messages makes a few thousand hits a tick at most, and one that does
 * not makes a whole 64 KiB read of them (32 768 two-byte messages).
 */
class TurnCounter {
  turn = 0;
  most = 0;
  #inTurn = 0;
  #seen = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  constructor() {
    const tick = () => {
      this.turn++;
      this.#timer = setTimeout(tick, 0);
    };
    this.#timer = setTimeout(tick, 0);
  }
  hit(): void {
    if (this.turn !== this.#seen) {
      this.#seen = this.turn;
      this.#inTurn = 0;
    }
    if (++this.#inTurn > this.most) this.most = this.#inTurn;
  }
  stop(): void {
    clearTimeout(this.#timer);
  }
}

const TINY = 200_000;

/** 200 000 messages of one byte each, with a one-byte length: 400 KB. */
function tinyFlood(): Uint8Array {
  const wire = new Uint8Array(2 * TINY);
  for (let i = 0; i < wire.length; i += 2) {
    wire[i] = 1;
    wire[i + 1] = i & 0xff;
  }
  return wire;
}

for (const how of ["messages", "procedural reads"] as const) {
  Deno.test(`\`Connection\` serves another connection promptly while a peer floods 200 000 tiny ${how} in one burst`, async () => {
    const turns = new TurnCounter();
    let floodDone = 0;
    let firstPong = 0;
    let markStarted = () => {};
    const started = new Promise<void>((r) => markStarted = r);
    try {
      await within(
        withServer(2, async (s) => {
          // The first byte says which client this is.
          const first = new Uint8Array(1);
          assertEquals(await s.read(first), 1);
          if (first[0] === 0) {
            const conn = new Connection(s, {
              codec: lengthPrefixed({ lengthBytes: 1 }),
            });
            let n = 0;
            if (how === "messages") {
              for await (const m of conn) {
                if (n++ === 0) markStarted();
                turns.hit();
                conn.write(m);
              }
            } else {
              for (; n < TINY; n++) {
                const len = await conn.readUint(1);
                if (n === 0) markStarted();
                turns.hit();
                conn.write(await conn.readExactly(len));
              }
              assertStrictEquals(await conn.receive(), undefined);
            }
            floodDone = performance.now();
            assertEquals(n, TINY);
            await conn.close();
            await conn.closed;
          } else {
            const conn = new Connection(s, { codec: text(lines()) });
            for await (const line of conn) await conn.send(line);
            await conn.close();
            await conn.closed;
          }
        }, async (port) => {
          const flooder = await Deno.connect({ hostname: "127.0.0.1", port });
          const pinger = new Connection(
            await Deno.connect({ hostname: "127.0.0.1", port }),
            { codec: text(lines()) },
          );
          await writeAll(pinger.transport, new Uint8Array([1]));
          const flood = tinyFlood();
          // The echo of the flood, read whole and checked.
          const echoed = (async () => {
            const got = new Uint8Array(flood.length);
            let off = 0;
            while (off < got.length) {
              const n = await flooder.read(got.subarray(off));
              if (n === null) break;
              off += n;
            }
            assertEquals(off, flood.length);
            assertEquals(firstDifference(got, flood), -1);
          })();
          await writeAll(flooder, new Uint8Array([0, ...flood]));
          await flooder.closeWrite();
          // Once the server works on the flood, pings are answered.
          await started;
          const rtts: number[] = [];
          for (let i = 0; i < 5; i++) {
            const t0 = performance.now();
            await pinger.send(`ping ${i}`);
            assertEquals(await pinger.receive(), `ping ${i}`);
            if (i === 0) firstPong = performance.now();
            rtts.push(performance.now() - t0);
          }
          await echoed;
          flooder.close();
          await pinger.close();
          await pinger.closed;
          assertLessOrEqual(Math.max(...rtts), 250, `ping RTTs ${rtts}`);
        }),
        60_000,
        "the flood and the pings",
      );
    } finally {
      turns.stop();
    }
    // The first ping was answered while the flood was still being handled.
    assertGreater(floodDone, firstPong);
    // A budget of 1 024 messages a turn (and a fresh one when a read
    // completes in the same turn), never a whole read's worth of them.
    assertLessOrEqual(turns.most, 8192);
  });
}

// ---------------------------------------------------------------------------
// Bounds

Deno.test("`Connection` reads many small frames per socket read: a read is not cut down to the frame limit", async () => {
  const [client, server] = await socketPair();
  const reads: ReadRecord[] = [];
  const conn = new Connection(recording(server, reads), {
    codec: fixedLength(4),
  });
  // 100 000 frames of 4 bytes, all in the kernel's buffers before reading.
  const wire = new Uint8Array(400_000);
  for (let i = 0; i < wire.length; i++) wire[i] = (i >>> 2) & 0xff;
  await writeAll(client, wire);
  await client.closeWrite();
  let n = 0;
  for await (const m of conn) {
    assertEquals(m, new Uint8Array(4).fill(n & 0xff), `frame ${n}`);
    n++;
  }
  assertEquals(n, 100_000);
  // A 4-byte limit bounds a frame, not a read: reads grow to 64 KiB.
  assertLessOrEqual(reads.length, 100);
  for (const r of reads) assertLessOrEqual(r.capacity, 4 + 65536);
  client.close();
  await conn.close();
  await conn.closed;
});

// ---------------------------------------------------------------------------
// Closing while yielded

/** `count` one-byte messages with a one-byte length. */
function tinyMessages(count: number): Uint8Array {
  const wire = new Uint8Array(2 * count);
  for (let i = 0; i < count; i++) {
    wire[2 * i] = 1;
    wire[2 * i + 1] = i & 0xff;
  }
  return wire;
}

/**
 * Watches the shared scheduler's yielded readers: how many times a reader
 * was queued for the next turn, and how many times it was resumed.
 */
function watchYields(): {
  queued: number;
  resumed: number;
  [Symbol.dispose](): void;
} {
  const original = scheduler.yieldReader;
  const watch = {
    queued: 0,
    resumed: 0,
    [Symbol.dispose]() {
      scheduler.yieldReader = original;
    },
  };
  const wrapped = new WeakSet<object>();
  scheduler.yieldReader = function (reader) {
    watch.queued++;
    if (!wrapped.has(reader)) {
      wrapped.add(reader);
      const resume = reader.resume;
      reader.resume = function () {
        watch.resumed++;
        resume.call(this);
      };
    }
    original.call(scheduler, reader);
  };
  return watch;
}

Deno.test("`Connection.abort()` while yielded with readers waiting leaves no yield behind", async () => {
  using yields = watchYields();
  const [client, server] = await socketPair();
  // 5 000 messages buffered at once: the budget runs out after 1 024.
  const conn = new Connection(server, {
    codec: lengthPrefixed({ lengthBytes: 1 }),
    initialBytes: tinyMessages(5000),
  });
  for (let i = 0; i < 1024; i++) {
    assertEquals(await conn.receive(), new Uint8Array([i & 0xff]));
  }
  // Three readers ask while the reader waits for the next turn.
  const waiting = [conn.receive(), conn.receive(), conn.receive()];
  // One connection waits once for the next turn, however many readers.
  assertEquals(yields.queued, 1);
  conn.abort();
  for (const w of waiting) await assertRejects(() => w);
  await sleep(20);
  // Nothing resumed the aborted connection's reader.
  assertEquals(yields.resumed, 0);
  client.close();
  await assertRejects(() => conn.closed);
});

Deno.test("`Connection.close()` while yielded gives waiting readers the buffered messages, then the end", async () => {
  using yields = watchYields();
  const [client, server] = await socketPair();
  const conn = new Connection(server, {
    codec: lengthPrefixed({ lengthBytes: 1 }),
    initialBytes: tinyMessages(3000),
  });
  for (let i = 0; i < 1024; i++) await conn.receive();
  const waiting = [conn.receive(), conn.receive()];
  assertEquals(yields.queued, 1);
  const closing = conn.close();
  assertEquals(await waiting[0], new Uint8Array([1024 & 0xff]));
  assertEquals(await waiting[1], new Uint8Array([1025 & 0xff]));
  let n = 1026;
  const it = (async () => {
    for await (const m of conn) {
      assertEquals(m, new Uint8Array([n & 0xff]));
      n++;
    }
  })();
  await within(it, 3000, "the rest of the messages after close()");
  assertEquals(n, 3000);
  await closing;
  client.close();
  await conn.closed;
});

Deno.test("`Connection` never allocates a claimed length: 8 MiB claimed, 10 bytes sent, then EOF says 14 bytes were left", async () => {
  const [client, server] = await socketPair();
  const reads: ReadRecord[] = [];
  const conn = new Connection(recording(server, reads), {
    codec: lengthPrefixed(),
  });
  const receiving = conn.receive();
  await writeAll(
    client,
    new Uint8Array([0x00, 0x7f, 0xff, 0xff, ...payload(1, 10, false)]),
  );
  await sleep(30);
  client.close();
  const err = await assertRejects(() => receiving, UnexpectedEofError);
  assertEquals(err.remaining, 14);
  // 64 KiB ahead of the bytes that came, rounded up; an array from the
  // process's spare arrays may be twice that.
  for (const r of reads) assertLessOrEqual(r.capacity, 4 * 65536);
  await conn.close();
  await conn.closed.catch(() => {});
});

Deno.test("`Connection` at EOF inside a 300 KB frame says how many bytes were left, after the whole frames", async () => {
  const [client, server] = await socketPair();
  const conn = new Connection(server, {
    codec: lengthPrefixed(),
  });
  const whole = [payload(1, 70_000, false), payload(2, 5, false)];
  const wire = encodeAll(lengthPrefixed(), [
    ...whole,
    payload(3, 300_000, false),
  ]);
  // All but the last 150 000 bytes of the last frame, then EOF.
  const sent = wire.length - 150_000;
  const sending = writeAll(client, wire.subarray(0, sent)).then(() =>
    client.close()
  );
  assertEquals(await conn.receive(), whole[0]);
  assertEquals(await conn.receive(), whole[1]);
  const err = await assertRejects(() => conn.receive(), UnexpectedEofError);
  assertEquals(err.remaining, 4 + 150_000);
  // The same end again, not a hang or another error.
  assertStrictEquals(await conn.receive().catch((e) => e), err);
  await sending;
  await conn.close();
  await conn.closed.catch(() => {});
});

Deno.test("`Connection` procedural reads at EOF: the bytes left, then the end", async () => {
  const [client, server] = await socketPair();
  const conn = new Connection(server);
  await writeAll(client, te.encode("ab"));
  client.close();
  // A line without its end: how many bytes were left, and they stay.
  const line = await assertRejects(() => conn.readLine(), UnexpectedEofError);
  assertEquals(line.remaining, 2);
  const short = await assertRejects(() => conn.readUint(4), UnexpectedEofError);
  assertEquals(short.remaining, 2);
  assertEquals(td.decode(await conn.readExactly(2)), "ab");
  // Nothing left: the end, each way of asking.
  const none = await assertRejects(
    () => conn.readExactly(1),
    UnexpectedEofError,
  );
  assertEquals(none.remaining, 0);
  assertStrictEquals(await conn.readLine(), undefined);
  assertStrictEquals(await conn.receive(), undefined);
  assertEquals(await conn.readExactly(0), new Uint8Array(0));
  await conn.close();
  await conn.closed;
});

Deno.test("`Connection` answers every good message before a decode error, writes its error reply, then EOF, with 4 MB in flight", async () => {
  const GOOD = 40_000;
  await within(
    withServer(1, async (s) => {
      const conn = new Connection(s, {
        codec: json<{ n: number; error?: string }>(lines()),
      });
      let n = 0;
      try {
        for await (const m of conn) {
          assertEquals(m.n, n++);
          await conn.send({ n: m.n });
        }
      } catch (err) {
        assert(err instanceof DecodeError, String(err));
        await conn.send({ n: -1, error: err.name });
      }
      assertEquals(n, GOOD);
      await conn.close();
      await conn.closed.catch(() => {});
    }, async (port) => {
      const conn = new Connection(
        await Deno.connect({ hostname: "127.0.0.1", port }),
        { codec: text(lines()) },
      );
      const pad = "x".repeat(80);
      const sending = (async () => {
        for (let i = 0; i < GOOD; i++) {
          await conn.send(JSON.stringify({ n: i, pad }));
        }
        await conn.send("{bad");
        // More after the bad line than the socket buffers hold: the server
        // no longer reads it, and must not reset the connection over it.
        for (let i = 0; i < 20_000; i++) {
          await conn.send(JSON.stringify({ n: GOOD + i, pad }));
        }
        await conn.closeWrite();
      })();
      let n = 0;
      let last: { n: number; error?: string } | undefined;
      for await (const line of conn) {
        last = JSON.parse(line);
        if (last!.n === -1) break;
        assertEquals(last!.n, n++);
      }
      assertEquals(n, GOOD);
      assertEquals(last, { n: -1, error: "DecodeError" });
      // Then the end of the stream, not a reset.
      assertStrictEquals(await conn.receive(), undefined);
      await sending;
      await conn.close();
      await conn.closed;
    }),
    30_000,
    "a decode error after 40 000 good messages",
  );
});

/**
 * `count` connections to a server whose connections record their reads in
 * `reads[k]`, `k` being the first byte each client sends: `serveOne` runs
 * on each server connection and `use` with the client connections; all
 * are closed afterwards.
 */
function taggedConnections(
  count: number,
  reads: ReadRecord[][],
  serveOne: (conn: Connection<Uint8Array>) => Promise<void>,
  use: (conns: Connection<Uint8Array>[]) => Promise<void>,
): Promise<void> {
  return withServer(count, async (s) => {
    const first = new Uint8Array(1);
    assertEquals(await s.read(first), 1);
    const conn = new Connection(recording(s, reads[first[0]!]!), {
      codec: lengthPrefixed(),
    });
    await serveOne(conn);
    await conn.close();
    await conn.closed;
  }, async (port) => {
    const conns = await Promise.all(
      Array.from({ length: count }, async (_, k) => {
        const s = await Deno.connect({ hostname: "127.0.0.1", port });
        await writeAll(s, new Uint8Array([k]));
        return new Connection(s, { codec: lengthPrefixed() });
      }),
    );
    try {
      await use(conns);
    } finally {
      for (const conn of conns) {
        await conn.close();
        await conn.closed;
      }
    }
  });
}

Deno.test("`Connection` idle after bursts waits for its next read in a small array", async () => {
  const COUNT = 8;
  const reads: ReadRecord[][] = Array.from({ length: COUNT }, () => []);
  let idle = () => {};
  const allIdle = new Promise<void>((r) => idle = r);
  let echoed = 0;
  await within(
    taggedConnections(COUNT, reads, async (conn) => {
      for await (const m of conn) {
        await conn.send(m);
        if (m.length === 1 && ++echoed === COUNT) idle();
      }
    }, async (conns) => {
      // A burst each: a 2 MB frame, 2 000 small ones, a last 1-byte one.
      await Promise.all(conns.map(async (conn, k) => {
        const frames = [
          payload(k, 2_000_000, false),
          ...Array.from(
            { length: 2000 },
            (_, i) => payload(i, 1 + i % 500, false),
          ),
          new Uint8Array([k]),
        ];
        const sending = (async () => {
          for (const f of frames) await conn.send(f);
        })();
        for (const f of frames) assertEquals(await conn.receive(), f);
        await sending;
      }));
      await allIdle;
      await sleep(50);
      // Idle now: each server connection waits in a read of a small array.
      for (let k = 0; k < COUNT; k++) {
        const last = reads[k]!.at(-1)!;
        assertLessOrEqual(last.capacity, 65536, `connection ${k}`);
      }
    }),
    30_000,
    "8 connections after bursts",
  );
});

Deno.test("`Connection` idle after one 64 KiB frame waits for its next read in an array the size of its first read's", async () => {
  const COUNT = 4;
  const reads: ReadRecord[][] = Array.from({ length: COUNT }, () => []);
  let idle = () => {};
  const allIdle = new Promise<void>((r) => idle = r);
  let echoed = 0;
  await within(
    taggedConnections(COUNT, reads, async (conn) => {
      await conn.forEach((m) => {
        conn.write(m);
        if (++echoed === COUNT) idle();
      });
    }, async (conns) => {
      await Promise.all(conns.map(async (conn, k) => {
        const frame = payload(k, 65536, false);
        await conn.send(frame);
        assertEquals(await conn.receive(), frame);
      }));
      await allIdle;
      await sleep(50);
      for (let k = 0; k < COUNT; k++) {
        // The frame needed an array of 64 KiB: while idle, the read
        // waits in one of the size the first read had.
        assert(reads[k]!.some((r) => r.capacity >= 65536), `connection ${k}`);
        assertEquals(
          reads[k]!.at(-1)!.capacity,
          reads[k]![0]!.capacity,
          `connection ${k}`,
        );
        assertLessOrEqual(reads[k]![0]!.capacity, 2048, `connection ${k}`);
      }
    }),
    30_000,
    "4 connections after a 64 KiB frame",
  );
});

Deno.test("`Connection` idle after a frame too large for the spare arrays keeps no reference to the array it was read into", async () => {
  // Over the 4 MiB that the spare arrays keep: once the frame is consumed
  // and echoed, only a leak would keep its array alive.
  const SIZE = 5 * 1024 * 1024;
  let large: WeakRef<ArrayBufferLike> | null = null;
  let echoed = () => {};
  const done = new Promise<void>((r) => echoed = r);
  await within(
    withServer(1, async (s) => {
      const transport: Transport = {
        read(p: Uint8Array) {
          if (p.buffer.byteLength >= SIZE) large ??= new WeakRef(p.buffer);
          return s.read(p);
        },
        write: (p) => s.write(p),
        closeWrite: () => s.closeWrite(),
        close: () => s.close(),
        localAddr: s.localAddr,
        remoteAddr: s.remoteAddr,
      };
      const conn = new Connection(transport, {
        codec: lengthPrefixed({ maxFrameLength: 8 * 1024 * 1024 }),
      });
      await conn.forEach((m) => {
        conn.write(m);
        echoed();
      });
      await conn.close();
      await conn.closed;
    }, async (port) => {
      const s = await Deno.connect({ hostname: "127.0.0.1", port });
      const conn = new Connection(s, {
        codec: lengthPrefixed({ maxFrameLength: 8 * 1024 * 1024 }),
      });
      try {
        const frame = payload(1, SIZE, false);
        const sending = conn.send(frame);
        assertEquals(await conn.receive(), frame);
        await sending;
        await done;
        // Idle now, waiting in a small array; a weak reference is cleared
        // after the task that made it.
        await sleep(50);
        assert(large !== null, "No read went to an array of the frame's size");
        assert(await collected(large), "the frame's array is still referenced");
      } finally {
        await conn.close();
        await conn.closed;
      }
    }),
    30_000,
    "a 5 MiB frame, then idle",
  );
});
