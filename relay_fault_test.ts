// Copyright 2026 the netkit authors. MIT license.

// Faults between the peers: a TCP relay run by the test sits between a
// netkit client and a netkit server and, in either direction, delays
// every chunk, splits the stream at every byte, stalls mid-frame, or
// resets mid-frame (it closes both sockets with input left unread, so the
// kernel sends RST). Under pipelined load, every request is answered with
// its own bytes, in order, or is failed: the client's reading ends with a
// typed netkit error (a `NetError`), or with the end of the stream between
// two replies, which netkit reports as the end (`null`) and the client
// counts as the failure of every request outstanding. Nothing is corrupt;
// every error the server reports is typed; the sanitizers find no leaked
// socket, timer or op.

import { assert, assertEquals, assertGreater, assertLess } from "@std/assert";
import {
  connect,
  type Connection,
  lengthPrefixed,
  NetError,
  serve,
  type Server,
  TimeoutError,
} from "./mod.ts";

// ---------------------------------------------------------------------------
// The relay

/** What the relay does to the bytes of one direction. */
interface Fault {
  /** Holds each chunk this long before forwarding it. */
  delayMs?: number;
  /** Forwards one byte per socket write. */
  split?: boolean;
  /** Stops forwarding after this many bytes, for `stallMs`. */
  stallAt?: number;
  stallMs?: number;
  /**
   * Forwards this many bytes, then closes both sockets of the pair with
   * input left unread (the kernel sends RST).
   */
  resetAt?: number;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function writeAll(to: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await to.write(bytes.subarray(off));
}

/** One relayed connection: the client's socket and the server's. */
class Pair {
  #closed = false;
  /** Set by a reset: both pumps stop reading, so input piles up unread. */
  resetting = false;
  constructor(readonly client: Deno.Conn, readonly server: Deno.Conn) {}

  /** Closes both sockets, once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [this.client, this.server]) {
      try {
        c.close();
      } catch {
        // Closed already.
      }
    }
  }
}

/**
 * A TCP relay on 127.0.0.1 that forwards every connection to `target`,
 * with `up` (client → server) and `down` (server → client) faults.
 */
class Relay {
  readonly #listener: Deno.Listener;
  readonly #target: Deno.NetAddr;
  readonly #up: Fault;
  readonly #down: Fault;
  readonly #pairs = new Set<Pair>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  /** Pairs the relay reset on purpose. */
  resets = 0;

  constructor(target: Deno.Addr, faults: { up?: Fault; down?: Fault }) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#target = target as Deno.NetAddr;
    this.#up = faults.up ?? {};
    this.#down = faults.down ?? {};
    this.#accepting = this.#accept();
  }

  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.Conn;
      try {
        client = await this.#listener.accept();
      } catch {
        return;
      }
      let server: Deno.Conn;
      try {
        server = await Deno.connect({
          hostname: this.#target.hostname,
          port: this.#target.port,
        });
      } catch {
        client.close();
        continue;
      }
      const pair = new Pair(client, server);
      this.#pairs.add(pair);
      const task = Promise.all([
        this.#pump(pair, client, server, this.#up),
        this.#pump(pair, server, client, this.#down),
      ]).then(() => {
        pair.close();
        this.#pairs.delete(pair);
      });
      this.#tasks.add(task);
      task.finally(() => this.#tasks.delete(task));
    }
  }

  /** Forwards one direction until EOF (then half-closes) or an error. */
  async #pump(
    pair: Pair,
    from: Deno.Conn,
    to: Deno.Conn,
    fault: Fault,
  ): Promise<void> {
    const buf = new Uint8Array(16384);
    let total = 0;
    let stalled = false;
    try {
      for (;;) {
        const n = await from.read(buf);
        if (pair.resetting) return;
        if (n === null) {
          await to.closeWrite().catch(() => {});
          return;
        }
        let chunk = buf.subarray(0, n);
        if (fault.resetAt !== undefined && total + n >= fault.resetAt) {
          pair.resetting = true;
          await writeAll(to, chunk.subarray(0, fault.resetAt - total));
          // Let input pile up unread on both sockets, then close them:
          // RST, in the middle of a frame.
          await delay(20);
          this.resets++;
          pair.close();
          return;
        }
        if (
          fault.stallAt !== undefined && !stalled &&
          total + n > fault.stallAt
        ) {
          stalled = true;
          const before = fault.stallAt - total;
          await writeAll(to, chunk.subarray(0, before));
          await delay(fault.stallMs ?? 0);
          total += before;
          chunk = chunk.subarray(before);
        }
        if (fault.delayMs !== undefined) await delay(fault.delayMs);
        if (fault.split) {
          for (let i = 0; i < chunk.length; i++) {
            await writeAll(to, chunk.subarray(i, i + 1));
          }
        } else {
          await writeAll(to, chunk);
        }
        total += chunk.length;
      }
    } catch {
      // A socket failed or was closed: the pair ends.
      pair.close();
    }
  }

  /** Stops accepting, closes every pair, and waits for every pump. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // Closed already.
    }
    await this.#accepting;
    for (const pair of this.#pairs) pair.close();
    await Promise.all([...this.#tasks]);
  }
}

// ---------------------------------------------------------------------------
// The load

/** A request's size: 8 to 1507 bytes, known to both sides. */
function sizeOf(seq: number): number {
  return 8 + (seq * 7919) % 1500;
}

/** A request: its sequence number, then bytes that depend on it. */
function request(client: number, seq: number): Uint8Array {
  const bytes = new Uint8Array(sizeOf(seq));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, client);
  view.setUint32(4, seq);
  for (let i = 8; i < bytes.length; i++) bytes[i] = (seq * 31 + i) & 0xff;
  return bytes;
}

/** Where frame `seq` starts in the stream (both ways: the server echoes). */
function offsetOf(seq: number): number {
  let at = 0;
  for (let i = 0; i < seq; i++) at += 4 + sizeOf(i);
  return at;
}

interface ClientOutcome {
  sent: number;
  answered: number;
  /** How reading ended: all answered, the server's EOF, or an error. */
  readEnd: "done" | "eof" | Error;
  sendEnd: "done" | Error;
}

/**
 * One pipelining client: sends `count` requests, then half-closes; a
 * reader checks each reply against its request, in order.
 */
async function pipelined(
  addr: Deno.Addr,
  client: number,
  count: number,
  readTimeout: number,
): Promise<ClientOutcome> {
  let conn: Connection<Uint8Array>;
  try {
    conn = await connect(addr, { codec: lengthPrefixed(), readTimeout });
  } catch (err) {
    return { sent: 0, answered: 0, readEnd: err as Error, sendEnd: "done" };
  }
  let sent = 0;
  let sendEnd: "done" | Error = "done";
  const sender = (async () => {
    try {
      for (; sent < count; sent++) await conn.send(request(client, sent));
      await conn.closeWrite();
    } catch (err) {
      sendEnd = err as Error;
    }
  })();
  let answered = 0;
  let readEnd: "done" | "eof" | Error = "done";
  try {
    while (answered < count) {
      const reply = await conn.receive();
      if (reply === undefined) {
        readEnd = "eof";
        break;
      }
      assertEquals(reply, request(client, answered), "A reply was corrupt");
      answered++;
    }
  } catch (err) {
    readEnd = err as Error;
  }
  if (readEnd !== "done") conn.abort();
  await sender;
  await conn.close();
  await conn.closed.catch(() => {});
  return { sent, answered, readEnd, sendEnd };
}

interface Scenario {
  up?: Fault;
  down?: Fault;
  clients: number;
  requests: number;
  readTimeout?: number;
}

/** Runs `clients` pipelining clients through a relay with `faults`. */
async function throughRelay(s: Scenario) {
  const serverErrors: Error[] = [];
  const server: Server<Uint8Array> = serve({
    codec: lengthPrefixed(),
    onError: (error) => serverErrors.push(error),
    lingerTimeout: 1000,
  }, async (conn) => {
    for await (const m of conn) await conn.send(m);
  });
  const relay = new Relay(server.addr, s);
  const started = performance.now();
  let outcomes: ClientOutcome[];
  try {
    outcomes = await Promise.all(
      Array.from(
        { length: s.clients },
        (_, i) => pipelined(relay.addr, i, s.requests, s.readTimeout ?? 10_000),
      ),
    );
  } finally {
    await relay.close();
    await server.shutdown({ timeout: 2000 });
    await server.finished;
  }
  const elapsed = performance.now() - started;
  // Every error either side saw is a typed netkit error.
  for (const error of serverErrors) {
    assert(error instanceof NetError, `Server: not typed: ${error}`);
  }
  let answered = 0;
  const ends = new Map<string, number>();
  const sendEnds = new Map<string, number>();
  for (const o of outcomes) {
    answered += o.answered;
    const end = typeof o.readEnd === "string" ? o.readEnd : o.readEnd.name;
    ends.set(end, (ends.get(end) ?? 0) + 1);
    const sendEnd = typeof o.sendEnd === "string" ? o.sendEnd : o.sendEnd.name;
    sendEnds.set(sendEnd, (sendEnds.get(sendEnd) ?? 0) + 1);
    if (o.readEnd === "done") {
      assertEquals(o.answered, s.requests);
    } else {
      // Unanswered requests failed: the reader ended with a typed error,
      // or with the server's EOF after its last whole reply.
      assertLess(o.answered, s.requests);
      assert(
        o.readEnd === "eof" || o.readEnd instanceof NetError,
        `Client: not typed: ${o.readEnd}`,
      );
    }
    if (o.sendEnd !== "done") {
      assert(o.sendEnd instanceof NetError, `Client: not typed: ${o.sendEnd}`);
    }
  }
  const serverEnds = new Map<string, number>();
  for (const e of serverErrors) {
    serverEnds.set(e.name, (serverEnds.get(e.name) ?? 0) + 1);
  }
  return {
    outcomes,
    answered,
    resets: relay.resets,
    serverErrors,
    summary: {
      answered: `${answered}/${s.clients * s.requests}`,
      clientReadEnds: JSON.stringify(Object.fromEntries(ends)),
      clientSendEnds: JSON.stringify(Object.fromEntries(sendEnds)),
      serverErrors: JSON.stringify(Object.fromEntries(serverEnds)),
      resets: relay.resets,
      in: `${elapsed.toFixed(0)}ms`,
    },
  };
}

/** Prints a measured outcome for the record of fault cases. */
function report(name: string, fields: Record<string, unknown>): void {
  const text = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(" ");
  console.log(`  outcome: ${name}: ${text}`);
}

// ---------------------------------------------------------------------------
// Faults that lose nothing

Deno.test("a relay that delays every chunk both ways: every pipelined request is answered", async () => {
  const r = await throughRelay({
    up: { delayMs: 2 },
    down: { delayMs: 2 },
    clients: 4,
    requests: 500,
  });
  assertEquals(r.answered, 4 * 500);
  assertEquals(r.serverErrors, []);
  report("delay 2 ms per chunk both ways", r.summary);
});

Deno.test("a relay that splits both ways at every byte: every pipelined request is answered", async () => {
  const r = await throughRelay({
    up: { split: true },
    down: { split: true },
    clients: 2,
    requests: 40,
  });
  assertEquals(r.answered, 2 * 40);
  assertEquals(r.serverErrors, []);
  report("split at every byte both ways", r.summary);
});

for (const direction of ["up", "down"] as const) {
  Deno.test(`a relay that stalls ${direction} mid-frame for 300 ms: every pipelined request is answered`, async () => {
    // Mid-frame: two bytes into the header of request 100.
    const stall: Fault = { stallAt: offsetOf(100) + 2, stallMs: 300 };
    const r = await throughRelay({
      [direction]: stall,
      clients: 2,
      requests: 400,
    });
    assertEquals(r.answered, 2 * 400);
    assertEquals(r.serverErrors, []);
    report(`stall ${direction} 300 ms mid-frame`, r.summary);
  });
}

// ---------------------------------------------------------------------------
// Faults that fail requests, each with a typed error

Deno.test("a relay that stalls replies mid-frame past readTimeout: the client fails with TimeoutError", async () => {
  // Mid-payload of reply 100.
  const stall: Fault = { stallAt: offsetOf(100) + 4 + 3, stallMs: 1000 };
  const r = await throughRelay({
    down: stall,
    clients: 2,
    requests: 400,
    readTimeout: 200,
  });
  for (const o of r.outcomes) {
    assertEquals(o.answered, 100);
    assert(o.readEnd instanceof TimeoutError, `Unexpected: ${o.readEnd}`);
    assertEquals(o.readEnd.kind, "read");
  }
  report("stall down 1000 ms mid-frame, readTimeout 200", r.summary);
});

for (const direction of ["up", "down"] as const) {
  Deno.test(`a relay that resets ${direction} mid-frame: every request is answered or failed with a typed error`, async () => {
    // Mid-payload of frame 150: the reset cuts a request (up) or a reply
    // (down) in two.
    const reset: Fault = { resetAt: offsetOf(150) + 4 + 5 };
    const r = await throughRelay({
      [direction]: reset,
      clients: 3,
      requests: 600,
    });
    assertEquals(r.resets, 3);
    if (direction === "up") {
      // The server saw each connection end inside a request.
      assertEquals(r.serverErrors.length, 3);
    } else {
      // Replies before the cut got through; the cut one is an error, never
      // a silent end of the stream.
      assertGreater(r.answered, 0);
      for (const o of r.outcomes) {
        assert(o.readEnd instanceof NetError, `Unexpected: ${o.readEnd}`);
      }
    }
    for (const o of r.outcomes) {
      // Nothing past the cut got through.
      assertLess(o.answered, 151);
      assert(o.readEnd !== "done");
    }
    report(`reset ${direction} mid-frame`, r.summary);
  });
}
