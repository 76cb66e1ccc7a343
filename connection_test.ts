// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertGreater,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { encodeAll, lengthPrefixed, lines, raw, text } from "./codec.ts";
import { Connection, type Transport } from "./connection.ts";
import {
  ConnectionClosedError,
  FrameTooLargeError,
  NetError,
  TimeoutError,
} from "./errors.ts";
import { connectionPair, transportPair } from "./testing.ts";

import { stillPending, tcpPair, writeAll } from "./_test_utils.ts";
import { concat } from "./codec/_test_helpers.ts";
// ---------------------------------------------------------------------------
// Helpers

const utf8 = new TextEncoder();

// ---------------------------------------------------------------------------
// Lifecycle

Deno.test("`Connection` sends, receives and closes cleanly", async () => {
  const [a, b] = connectionPair({ codec: text(lines()) });
  await a.send("one");
  await a.send("two");
  assertEquals(a.write("three"), true);
  assertEquals(await b.receive(), "one");
  assertEquals(await b.receive(), "two");
  assertEquals(await b.receive(), "three");
  await a.close();
  assertEquals(await b.receive(), undefined);
  await b.close();
  await a.closed;
  await b.closed;
  assert(a.isClosed && b.isClosed);
  assertStrictEquals(a.error, null);
  assertStrictEquals(b.error, null);
});

Deno.test("`Connection.close()` is safe to call twice", async () => {
  const [a, b] = connectionPair();
  const first = a.close();
  const second = a.close();
  await first;
  await second;
  await a.close();
  await b.close();
  await b.close();
  // a lingered until b closed too.
  await a.closed;
  await b.closed;
  assertStrictEquals(a.error, null);
});

Deno.test("`Connection.close()` flushes what was queued before closing", async () => {
  const [a, b] = connectionPair({
    codec: lengthPrefixed(),
    capacity: 1024,
    highWaterMark: 1 << 20,
  });
  const msgs = Array.from(
    { length: 20 },
    (_, i) => new Uint8Array(500).fill(i),
  );
  for (const m of msgs) a.write(m);
  const closing = a.close();
  assertEquals(await Array.fromAsync(b), msgs);
  await closing;
  await b.close();
});

Deno.test("`Connection` throws ConnectionClosedError on operations after close", async () => {
  const [a, b] = connectionPair({ codec: text(lines()) });
  await a.close();
  assertThrows(() => a.write("x"), ConnectionClosedError);
  await assertRejects(() => a.send("x"), ConnectionClosedError);
  await assertRejects(() => a.flush(), ConnectionClosedError);
  await assertRejects(() => a.drain(), ConnectionClosedError);
  await assertRejects(() => a.closeWrite(), ConnectionClosedError);
  assertEquals(await a.receive(), undefined);
  assertFalse(a.writableNow);
  await b.close();
});

Deno.test("`Connection.write()` throws ConnectionClosedError after closeWrite()", async () => {
  const [a, b] = connectionPair({ codec: text(lines()) });
  await a.closeWrite();
  assertThrows(() => a.write("late"), ConnectionClosedError, "write side");
  assertEquals(await b.receive(), undefined);
  await b.close();
  await a.close();
});

Deno.test("`Connection.closed` rejects with the reason after abort()", async () => {
  const [a, b] = connectionPair();
  const reason = new Error("Stop now");
  a.abort(reason);
  const err = await assertRejects(() => a.closed);
  assertStrictEquals(err, reason);
  assertStrictEquals(a.error, reason);
  // The peer sees the stream end.
  assertEquals(await b.receive(), undefined);
  await b.close();
  // Aborting again changes nothing.
  a.abort(new Error("Again"));
  assertStrictEquals(a.error, reason);
});

Deno.test("`Connection.abort()` without a reason rejects `closed` with ConnectionClosedError", async () => {
  const [a, b] = connectionPair();
  a.abort();
  await assertRejects(() => a.closed, ConnectionClosedError, "aborted");
  await b.close();
});

Deno.test("`Connection.abort()` fails a pending receive() with the reason", async () => {
  const [a, b] = connectionPair();
  const pending = a.receive();
  const reason = new Error("Cancelled");
  a.abort(reason);
  const err = await assertRejects(() => pending);
  assertStrictEquals(err, reason);
  await assertRejects(() => a.closed);
  await b.close();
});

Deno.test("`Connection[Symbol.asyncDispose]` closes the connection", async () => {
  const [a, b] = connectionPair({ codec: text(lines()) });
  {
    await using conn = a;
    conn.write("bye");
  }
  assert(a.isClosed);
  assertEquals(await Array.fromAsync(b), ["bye"]);
  await b.close();
});

// ---------------------------------------------------------------------------
// Half-close over real TCP sockets

Deno.test("`Connection.closeWrite()` on the client lets the server read EOF and still reply over TCP", async () => {
  const [c, s] = await tcpPair();
  const client = new Connection(c, { codec: text(lines()) });
  const server = new Connection(s, { codec: text(lines()) });
  for (const m of ["1", "2", "3"]) client.write(m);
  await client.closeWrite();
  const got: string[] = [];
  for await (const m of server) got.push(m);
  assertEquals(got, ["1", "2", "3"]);
  // The server read EOF; its write side is still open.
  for (const m of got) await server.send(`re ${m}`);
  await server.close();
  assertEquals(await Array.fromAsync(client), ["re 1", "re 2", "re 3"]);
  // Both directions are done: the client closed by itself.
  await client.closed;
  assertStrictEquals(client.error, null);
  await client.close();
});

Deno.test("`Connection.closeWrite()` on the server lets the client read EOF and still send over TCP", async () => {
  const [c, s] = await tcpPair();
  const client = new Connection(c, { codec: text(lines()) });
  const server = new Connection(s, { codec: text(lines()) });
  await server.send("welcome");
  await server.closeWrite();
  assertEquals(await Array.fromAsync(client), ["welcome"]);
  for (const m of ["a", "b"]) await client.send(m);
  await client.close();
  assertEquals(await Array.fromAsync(server), ["a", "b"]);
  await server.closed;
  assertStrictEquals(server.error, null);
  await server.close();
});

// ---------------------------------------------------------------------------
// Lingering close

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads a transport to its EOF and returns every byte. */
async function readAll(t: Transport): Promise<Uint8Array> {
  const parts: number[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await t.read(buf);
    if (n === null) return new Uint8Array(parts);
    parts.push(...buf.subarray(0, n));
  }
}

/** Reads from a raw socket until EOF or an error; never throws. */
async function readAllOf(
  conn: Deno.Conn,
): Promise<{ bytes: number; end: "eof" | Error }> {
  const buf = new Uint8Array(65536);
  let bytes = 0;
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return { bytes, end: "eof" };
      bytes += n;
    }
  } catch (err) {
    return { bytes, end: err as Error };
  }
}

Deno.test("`Connection.close()` delivers every byte written to a TCP peer whose input it never read", async () => {
  const [c, s] = await tcpPair();
  const conn = new Connection(s);
  // The peer sends what the connection never reads: it sits in the
  // connection's receive queue when the connection closes.
  await writeAll(c, new Uint8Array(256 * 1024).fill(1));
  // More than the peer's receive buffer takes while it does not read:
  // part of it is still in the connection's send queue at the close.
  const reply = new Uint8Array(1 << 20).fill(2);
  conn.write(reply);
  // The peer starts reading late. Had the close sent RST (it would, with
  // unread input), the peer would get ~128 KB, then ConnectionReset.
  const got = delay(100).then(() => readAllOf(c));
  await conn.close();
  assertEquals(await got, { bytes: reply.length, end: "eof" });
  c.close();
  await conn.closed;
  assertStrictEquals(conn.error, null);
});

/** A transport that records how many of its reads overlap. */
function countingReads(t: Transport) {
  const counts = { reads: 0, inFlight: 0, maxInFlight: 0 };
  const transport: Transport = {
    read: async (p) => {
      counts.reads++;
      counts.maxInFlight = Math.max(counts.maxInFlight, ++counts.inFlight);
      try {
        return await t.read(p);
      } finally {
        counts.inFlight--;
      }
    },
    write: (p) => t.write(p),
    closeWrite: () => t.closeWrite(),
    close: () => t.close(),
    localAddr: t.localAddr,
    remoteAddr: t.remoteAddr,
  };
  return { transport, counts };
}

Deno.test("`Connection.close()` lingers on the read already pending, never two reads at once", async () => {
  const [ta, tb] = transportPair();
  const { transport, counts } = countingReads(ta);
  const conn = new Connection(transport, { codec: text(lines()) });
  const receiving = conn.receive(); // A socket read is pending.
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(counts.inFlight, 1);
  await conn.close();
  // The reader gets the end; the linger took over the read.
  assertEquals(await receiving, undefined);
  assert(await stillPending(conn.closed, 20), "Closed before the peer did");
  // The peer sends more, then closes: all of it is discarded.
  await writeAll(tb, utf8.encode("late\nlater\n"));
  await tb.closeWrite();
  await conn.closed;
  assertEquals(counts.maxInFlight, 1);
  assertEquals(conn.stats.messagesRead, 0);
  tb.close();
});

Deno.test("`Connection.closed` settles lingerTimeout after the peer's last byte when the peer never closes", async () => {
  const [a, b] = connectionPair({ lingerTimeout: 100 });
  const start = performance.now();
  await a.close();
  assert(a.isClosed);
  // b reads the FIN, and never closes.
  assertEquals(await b.receive(), undefined);
  await a.closed;
  const elapsed = performance.now() - start;
  assertGreaterOrEqual(elapsed, 95);
  assertLessOrEqual(elapsed, 1000);
  assertStrictEquals(a.error, null);
  await b.close();
});

Deno.test("`Connection` with `lingerTimeout: 0` closes right after the FIN", async () => {
  const [a, b] = connectionPair({ lingerTimeout: 0 });
  await a.close();
  await a.closed;
  assertEquals(await b.receive(), undefined);
  await b.close();
});

Deno.test("`Connection.abort()` cuts a lingering close short", async () => {
  const [a, b] = connectionPair();
  await a.close();
  const reason = new ConnectionClosedError("Enough lingering");
  a.abort(reason);
  assertStrictEquals(await a.closed.catch((e) => e), reason);
  await b.close();
});

Deno.test("`Connection` closes gracefully on an idle timeout: the peer gets every byte written, then EOF", async () => {
  const [c, s] = await tcpPair();
  const conn = new Connection(s, { idleTimeout: 100 });
  // Input the connection never reads (no reader): the idle timer fires
  // with it in the receive queue.
  await writeAll(c, new Uint8Array(64 * 1024));
  // A reply the peer's kernel cannot take at once while it does not read.
  const reply = new Uint8Array(1 << 20).fill(3);
  conn.write(reply);
  // The peer reads late: every byte, then the FIN (an abort would have
  // sent RST, and the peer would get ~128 KB, then ConnectionReset).
  const got = delay(300).then(() => readAllOf(c));
  await conn.flush();
  assertEquals(await got, { bytes: reply.length, end: "eof" });
  // The connection lingers until the peer closes, then reports the timeout.
  assert(await stillPending(conn.closed, 20));
  c.close();
  const err = await conn.closed.catch((e) => e);
  assertInstanceOf(err, TimeoutError);
  assertEquals(err.kind, "idle");
});

// ---------------------------------------------------------------------------
// Timeouts

Deno.test("`Connection` closes a silent peer with TimeoutError kind idle", async () => {
  const [a, b] = connectionPair({ idleTimeout: 100 });
  const start = performance.now();
  const err = await assertRejects(() => a.receive(), TimeoutError);
  assertEquals((err as TimeoutError).kind, "idle");
  assertEquals((err as TimeoutError).timeout, 100);
  assertGreaterOrEqual(performance.now() - start, 90);
  await assertRejects(() => a.closed, TimeoutError);
  // b has the same option, and is as silent.
  await assertRejects(() => b.closed, TimeoutError);
});

Deno.test("`Connection` closes a TCP peer that stops reading with TimeoutError kind idle, on one timer", async () => {
  const idleTimeout = 200;
  const [c, s] = await tcpPair();
  const conn = new Connection(c, { idleTimeout });
  // More than loopback's socket buffers hold: the write gets stuck.
  conn.write(new Uint8Array(32 << 20));
  const realSetTimeout = globalThis.setTimeout;
  let timers = 0;
  let failed: unknown = null;
  const expired = Promise.withResolvers<"expired">();
  const guard = realSetTimeout(
    () => expired.resolve("expired"),
    8 * idleTimeout,
  );
  const start = performance.now();
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return realSetTimeout(...args);
  }) as typeof setTimeout;
  try {
    const outcome = await Promise.race([
      conn.closed.then(() => "closed", (err) => {
        failed = err;
        return "failed";
      }),
      expired.promise,
    ]);
    const elapsed = performance.now() - start;
    globalThis.setTimeout = realSetTimeout;
    assertEquals(outcome, "failed", `Not closed; ${timers} timers made`);
    assertInstanceOf(failed, TimeoutError);
    assertEquals(failed.kind, "idle");
    assertGreaterOrEqual(elapsed, idleTimeout - 10);
    assertLessOrEqual(elapsed, 4 * idleTimeout);
    // The deadline's own timer, re-armed at most once: never a spin.
    assertLessOrEqual(timers, 2);
    console.log(
      `  outcome: stuck write, idleTimeout ${idleTimeout}: timers=${timers} closedIn=${
        elapsed.toFixed(0)
      }ms`,
    );
  } finally {
    globalThis.setTimeout = realSetTimeout;
    clearTimeout(guard);
    conn.abort();
    s.close();
  }
});

Deno.test("`Connection` keeps a connection with traffic open past idleTimeout", async () => {
  const [a, b] = connectionPair({ codec: text(lines()), idleTimeout: 150 });
  for (let i = 0; i < 8; i++) {
    await a.send(`ping ${i}`);
    assertEquals(await b.receive(), `ping ${i}`);
    await b.send(`pong ${i}`);
    assertEquals(await a.receive(), `pong ${i}`);
    await new Promise((r) => setTimeout(r, 40));
  }
  assertStrictEquals(a.error, null);
  assertFalse(a.isClosed);
  await a.close();
  await b.close();
});

Deno.test("`Connection` fails with TimeoutError kind read when a peer trickles a partial frame", async () => {
  const [ta, tb] = transportPair();
  const conn = new Connection(ta, {
    codec: lengthPrefixed(),
    readTimeout: 150,
  });
  const frame = encodeAll(lengthPrefixed(), [new Uint8Array(100)]);
  const trickle = (async () => {
    try {
      for (let i = 0; i < frame.length; i++) {
        await tb.write(frame.subarray(i, i + 1));
        await new Promise((r) => setTimeout(r, 20));
      }
    } catch {
      // The connection gave up and closed.
    }
  })();
  const err = await assertRejects(() => conn.receive(), TimeoutError);
  assertEquals((err as TimeoutError).kind, "read");
  assertGreater(conn.stats.bytesRead, 0);
  assertEquals(conn.stats.messagesRead, 0);
  await trickle;
  tb.close();
});

Deno.test("`Connection` fails with TimeoutError kind write when the peer never reads", async () => {
  const [a, b] = connectionPair({ capacity: 1024, writeTimeout: 100 });
  a.write(new Uint8Array(8192));
  const err = await assertRejects(() => a.closed, TimeoutError);
  assertEquals((err as TimeoutError).kind, "write");
  await assertRejects(() => a.flush(), TimeoutError);
  await b.close();
});

Deno.test("`Connection` keeps writing to a slow peer that reads within writeTimeout", async () => {
  const [a, b] = connectionPair({ capacity: 1024, writeTimeout: 100 });
  const total = 16 * 1024;
  a.write(new Uint8Array(total));
  // The peer takes 1 KiB every 20 ms: the whole write needs about 300 ms,
  // three times writeTimeout, but it never stalls for 100 ms.
  let got = 0;
  while (got < total) {
    got += (await b.receive())!.length;
    await new Promise((r) => setTimeout(r, 20));
  }
  await a.flush();
  assertStrictEquals(a.error, null);
  assertEquals(got, total);
  await a.close();
  await b.close();
});

Deno.test("`Connection` rejects a negative timeout with RangeError", () => {
  const [ta, tb] = transportPair();
  assertThrows(
    () => new Connection(ta, { idleTimeout: -1 }),
    RangeError,
    "idleTimeout",
  );
  assertThrows(
    () => new Connection(ta, { lingerTimeout: -1 }),
    RangeError,
    "lingerTimeout",
  );
  assertThrows(
    () => new Connection(ta, { lingerTime: NaN }),
    RangeError,
    "lingerTime",
  );
  ta.close();
  tb.close();
});

Deno.test("`Connection.receive()` serves concurrent readers in order, and fails them all with the error that ends it", async () => {
  const [ta, tb] = transportPair();
  const codec = lengthPrefixed({ maxFrameLength: 16 });
  const conn = new Connection(ta, { codec });
  const first = conn.receive();
  const second = conn.receive();
  const third = conn.receive();
  const fourth = conn.receive();
  await writeAll(tb, encodeAll(codec, [utf8.encode("a"), utf8.encode("b")]));
  assertEquals(await first, utf8.encode("a"));
  assertEquals(await second, utf8.encode("b"));
  await writeAll(tb, new Uint8Array([0, 0, 0x03, 0xe8])); // length 1000
  await assertRejects(() => third, FrameTooLargeError);
  await assertRejects(() => fourth, FrameTooLargeError);
  // The read side is done; the owner closes, and the connection did not
  // end cleanly.
  await conn.close();
  tb.close();
  await assertRejects(() => conn.closed, FrameTooLargeError);
});

Deno.test("`Connection.receive()` rejects every waiting reader when the transport's read fails", async () => {
  let failRead: (err: unknown) => void = () => {};
  const transport = {
    localAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } as const,
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 2 } as const,
    read: () =>
      new Promise<number | null>((_, reject) => {
        failRead = reject;
      }),
    write: (p: Uint8Array) => Promise.resolve(p.length),
    closeWrite: () => Promise.resolve(),
    close() {},
  };
  const conn = new Connection(transport);
  const readers = [conn.receive(), conn.receive()];
  await Promise.resolve();
  const reset = new Deno.errors.ConnectionReset("reset by peer");
  failRead(reset);
  const errors = await Promise.allSettled(readers);
  for (const r of errors) {
    assert(r.status === "rejected");
    assertInstanceOf(r.reason, NetError);
    assertStrictEquals(r.reason.cause, reset);
  }
  assertStrictEquals(
    conn.error,
    errors[0]!.status === "rejected" ? errors[0]!.reason : null,
  );
  await assertRejects(() => conn.closed, NetError);
});

// ---------------------------------------------------------------------------
// Decode errors

Deno.test("`Connection` delivers messages before a bad frame, then fails with FrameTooLargeError", async () => {
  const [ta, tb] = transportPair();
  const codec = lengthPrefixed({ maxFrameLength: 16 });
  const conn = new Connection(ta, { codec });
  const good = encodeAll(codec, [utf8.encode("one"), utf8.encode("two")]);
  const bad = new Uint8Array([0, 0, 0x03, 0xe8, 1, 2, 3]); // length 1000
  const wire = new Uint8Array(good.length + bad.length);
  wire.set(good);
  wire.set(bad, good.length);
  await writeAll(tb, wire);
  assertEquals(await conn.receive(), utf8.encode("one"));
  assertEquals(await conn.receive(), utf8.encode("two"));
  const err = await assertRejects(() => conn.receive(), FrameTooLargeError);
  assertEquals((err as FrameTooLargeError).length, 1000);
  assertEquals((err as FrameTooLargeError).limit, 16);
  // The write side is still open for an error reply; then the owner closes
  // and the peer reads the reply and EOF.
  await conn.send(utf8.encode("bad frame"));
  await conn.close();
  assertEquals(
    await readAll(tb),
    encodeAll(codec, [utf8.encode("bad frame")]),
  );
  tb.close();
  await assertRejects(() => conn.closed, FrameTooLargeError);
});

// ---------------------------------------------------------------------------
// Statistics and options

Deno.test("`Connection.stats` counts bytes, messages and writes", async () => {
  const before = Date.now();
  const [a, b] = connectionPair({ codec: text(lines()) });
  await a.send("hello");
  await a.send("world");
  await a.flush();
  assertEquals(await b.receive(), "hello");
  assertEquals(await b.receive(), "world");
  assertEquals(a.stats.messagesWritten, 2);
  assertEquals(a.stats.bytesWritten, 12);
  assertGreaterOrEqual(a.stats.writes, 1);
  assertLessOrEqual(a.stats.writes, 2);
  assertEquals(b.stats.messagesRead, 2);
  assertEquals(b.stats.bytesRead, 12);
  assertEquals(b.stats.messagesWritten, 0);
  assertEquals(a.stats.messagesRead, 0);
  assertGreaterOrEqual(a.stats.openedAt, before);
  assertLessOrEqual(a.stats.openedAt, Date.now());
  await a.close();
  await b.close();
});

Deno.test("`Connection` decodes initialBytes before what the transport delivers", async () => {
  const [ta, tb] = transportPair();
  const codec = text(lines());
  const conn = new Connection(ta, {
    codec,
    initialBytes: utf8.encode("first\nsec"),
  });
  await writeAll(tb, utf8.encode("ond\nthird\n"));
  await tb.closeWrite();
  assertEquals(await Array.fromAsync(conn), ["first", "second", "third"]);
  assertEquals(conn.stats.messagesRead, 3);
  await conn.close();
  tb.close();
});

Deno.test("`Connection` delivers the good frames of initialBytes, then fails on a bad one", async () => {
  const [ta, tb] = transportPair();
  const codec = lengthPrefixed({ maxFrameLength: 16 });
  const good = encodeAll(codec, [utf8.encode("ok")]);
  const initialBytes = new Uint8Array(good.length + 4);
  initialBytes.set(good);
  initialBytes.set([0, 0, 1, 0], good.length); // length 256
  const conn = new Connection(ta, { codec, initialBytes });
  assertEquals(await conn.receive(), utf8.encode("ok"));
  await assertRejects(() => conn.receive(), FrameTooLargeError);
  await conn.close();
  tb.close();
  await assertRejects(() => conn.closed, FrameTooLargeError);
});

Deno.test("`Connection.remoteAddr` reports the remoteAddr option instead of the transport's", async () => {
  const [ta, tb] = transportPair();
  const remoteAddr: Deno.NetAddr = {
    transport: "tcp",
    hostname: "192.0.2.1",
    port: 56324,
  };
  const conn = new Connection(ta, { remoteAddr });
  assertEquals(conn.remoteAddr, remoteAddr);
  assertEquals(conn.localAddr, ta.localAddr);
  const plain = new Connection(tb);
  assertEquals(plain.remoteAddr, tb.remoteAddr);
  assertStrictEquals(conn.transport, ta);
  await conn.close();
  await plain.close();
});

Deno.test("`Connection` reports real socket addresses over TCP", async () => {
  const [c, s] = await tcpPair();
  await using client = new Connection(c);
  await using server = new Connection(s);
  assertEquals(client.remoteAddr, server.localAddr);
  assertEquals(server.remoteAddr, client.localAddr);
  assertInstanceOf(client.closed, Promise);
});

Deno.test("`Connection` maps a reset by the peer to a NetError", async () => {
  const [ta, tb] = transportPair({ capacity: 16 });
  const conn = new Connection(ta, { codec: raw() });
  tb.close();
  // Writes into a pipe the peer closed fail with a connection error.
  conn.write(new Uint8Array(64));
  const err = await assertRejects(() => conn.closed);
  assertInstanceOf(err, NetError);
});

Deno.test("`Connection` with `borrow` delivers every message intact when each is used before the next", async () => {
  const [a, b] = connectionPair({ codec: lengthPrefixed(), maxReadSize: 7 });
  const borrowing = new Connection(b.transport, {
    codec: lengthPrefixed(),
    borrow: true,
  });
  const msgs = Array.from(
    { length: 200 },
    (_, i) => utf8.encode(`message ${i} `.repeat(1 + (i % 5))),
  );
  for (const m of msgs) a.write(m);
  await a.closeWrite();
  const got: string[] = [];
  for await (const m of borrowing) got.push(new TextDecoder().decode(m));
  assertEquals(got, msgs.map((m) => new TextDecoder().decode(m)));
  await borrowing.close();
  await a.close();
});

Deno.test("`Connection.readable` copies borrowed messages, so a consumer may keep them", async () => {
  const [a, b] = connectionPair({ codec: lengthPrefixed() });
  const borrowing = new Connection(b.transport, {
    codec: lengthPrefixed(),
    borrow: true,
  });
  const msgs = Array.from({ length: 50 }, (_, i) => utf8.encode(`m${i}`));
  for (const m of msgs) a.write(m);
  await a.closeWrite();
  const kept = await Array.fromAsync(borrowing.readable);
  assertEquals(kept, msgs);
  await borrowing.close();
  await a.close();
});

Deno.test("`Connection` read timeout does not count a read that waits for a relay's write of the read buffer", async () => {
  const codec = lengthPrefixed();
  const [ca, sa] = await tcpPair();
  const [cb, sb] = await tcpPair();
  const a = new Connection(sa, { codec, readTimeout: 200 });
  const b = new Connection(sb, { codec });
  // A relay that waits for b's queue: a's peer sends all the time, and
  // what keeps a from reading is b's peer, which reads slowly.
  let failed: Error | null = null;
  const serving = a.forEach((m) => {
    if (!b.write(m)) return b.drain();
  }).catch((err: Error) => {
    failed ??= err;
  });
  const frame = (i: number) => new Uint8Array(60_000).fill(i & 255);
  let stop = false;
  let sent = 0;
  const sending = (async () => {
    while (!stop) await writeAll(ca, encodeAll(codec, [frame(sent++)]));
  })().catch(() => {});
  // 16 KiB every 100 ms for 1.2 s: a write of a's read buffer takes longer
  // than the read timeout.
  const parts: Uint8Array[] = [];
  const slice = new Uint8Array(16384);
  for (let t = 0; t < 12 && failed === null; t++) {
    await new Promise((r) => setTimeout(r, 100));
    const n = await cb.read(slice);
    if (n === null) break;
    parts.push(slice.slice(0, n));
  }
  stop = true;
  assertEquals(failed, null);
  // What arrived is whole frames, in order, then the start of the next.
  const got = concat(...parts);
  assertGreater(got.length, 60_004);
  for (let i = 0, off = 0; off < got.length; i++, off += 60_004) {
    const want = encodeAll(codec, [frame(i)]);
    assertEquals(
      got.subarray(off, off + 60_004),
      want.subarray(0, got.length - off),
    );
  }
  a.abort();
  b.abort();
  ca.close();
  cb.close();
  await serving;
  await sending;
});
