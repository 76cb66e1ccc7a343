// Copyright 2026 the netkit authors. MIT license.

// The write half of a connection (_frame_writer.ts): coalescing through
// the end-of-tick flush and the stalled-reply sweep, the shared buffer
// pool, backpressure.

import {
  assert,
  assertEquals,
  assertFalse,
  assertGreater,
  assertLessOrEqual,
  assertThrows,
} from "@std/assert";
import {
  type ByteBuffer,
  createCodec,
  lengthPrefixed,
  lines,
  raw,
  text,
} from "./codec.ts";
import { Connection } from "./connection.ts";
import { FrameWriter } from "./_frame_writer.ts";
import { WaterMarks } from "./flow/water_marks.ts";
import { connectionPair, transportPair } from "./testing.ts";
import { stillPending, tcpPair, writeAll } from "./_test_utils.ts";

const utf8 = new TextEncoder();
// ---------------------------------------------------------------------------
// Writing: coalescing and backpressure

Deno.test("`Connection.write()` coalesces writes queued in one tick", async () => {
  const [a, b] = connectionPair({ codec: text(lines()) });
  const n = 200;
  for (let i = 0; i < n; i++) a.write(`message ${i}`);
  await a.flush();
  assertEquals(a.stats.messagesWritten, n);
  assertLessOrEqual(a.stats.writes, 3);
  await a.closeWrite();
  const got = await Array.fromAsync(b);
  assertEquals(got.length, n);
  assertEquals(got[n - 1], `message ${n - 1}`);
  await a.close();
  await b.close();
});

Deno.test("`Connection` sends the replies to the messages of one read in one write", async () => {
  const [ta, tb] = transportPair();
  const conn = new Connection(ta, { codec: text(lines()) });
  // 430 bytes: one read of the first, smallest read buffer.
  const requests = Array.from({ length: 40 }, (_, i) => `request ${i}\n`);
  await writeAll(tb, utf8.encode(requests.join("")));
  await tb.closeWrite();
  for await (const line of conn) conn.write(line.replace("request", "reply"));
  await conn.flush();
  assertEquals(conn.stats.messagesRead, 40);
  assertEquals(conn.stats.messagesWritten, 40);
  assertEquals(conn.stats.writes, 1);
  const buf = new Uint8Array(4096);
  const n = (await tb.read(buf))!;
  const replies = new TextDecoder().decode(buf.subarray(0, n));
  assertEquals(replies, requests.join("").replaceAll("request", "reply"));
  await conn.close();
  tb.close();
});

Deno.test("`Connection` write buffers taken from the shared pool never mix two connections' bytes", async () => {
  // Small pipes keep writes in flight while other connections encode,
  // so buffers go back to the pool and out again all the time.
  const pairs = Array.from(
    { length: 16 },
    () => connectionPair({ codec: lengthPrefixed(), capacity: 512 }),
  );
  const count = 150;
  const frame = (pair: number, i: number) =>
    new Uint8Array(1 + ((pair * 37 + i * 11) % 300)).fill(
      (pair * 16 + i) & 0xff,
    );
  const sending = pairs.map(async ([a], p) => {
    for (let i = 0; i < count; i++) {
      if (!a.write(frame(p, i))) await a.drain();
      if (i % 7 === 0) await Promise.resolve();
    }
    await a.closeWrite();
  });
  const receiving = pairs.map(async ([, b], p) => {
    let i = 0;
    for await (const got of b) assertEquals(got, frame(p, i++));
    assertEquals(i, count);
  });
  await Promise.all([...sending, ...receiving]);
  for (const [a, b] of pairs) {
    await a.close();
    await b.close();
  }
});

Deno.test("`Connection` sends the replies already written when the handler stops taking a read's messages", async () => {
  const [client, server] = connectionPair({ codec: text(lines()) });
  // One read on the server holds all three.
  for (const m of ["a", "b", "c"]) client.write(m);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const handling = (async () => {
    for await (const m of server) {
      server.write(m.toUpperCase());
      if (m === "a") await gate; // something slow, with "b" and "c" queued
    }
  })();
  // "A" goes out while the handler waits, not when it takes "b".
  const first = client.receive();
  assertFalse(await stillPending(first, 1000), "the reply to a was held back");
  assertEquals(await first, "A");
  release();
  assertEquals(await client.receive(), "B");
  assertEquals(await client.receive(), "C");
  await client.closeWrite();
  await handling;
  await server.close();
  await client.close();
});

Deno.test("`Connection` flushes a stalled handler's replies when another connection's read completes", async () => {
  const codec = text(lines());
  const [client, server] = connectionPair({ codec });
  const [other, otherServer] = connectionPair({ codec });
  for (const m of ["a", "b"]) client.write(m);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const handling = (async () => {
    for await (const m of server) {
      server.write(m.toUpperCase());
      if (m === "a") await gate;
    }
  })();
  const otherHandling = (async () => {
    for await (const m of otherServer) otherServer.write(m);
  })();
  const first = client.receive();
  let delivered = false;
  void first.then(() => (delivered = true));
  // Traffic elsewhere: each read that completes flushes what is stuck.
  // In memory, these round trips are microtasks only: the shared sweep
  // timer (10 ms) cannot run before they end, so "A" arrives through the
  // other connection's read or not at all.
  for (let i = 0; i < 3; i++) {
    other.write(`ping ${i}`);
    assertEquals(await other.receive(), `ping ${i}`);
  }
  assert(delivered, "The stalled reply waited for the sweep timer");
  assertEquals(await first, "A");
  release();
  assertEquals(await client.receive(), "B");
  await client.closeWrite();
  await other.closeWrite();
  await Promise.all([handling, otherHandling]);
  for (const c of [client, server, other, otherServer]) await c.close();
});

Deno.test("`Connection.send()` waits while a reader that never reads holds the high-water mark", async () => {
  const highWaterMark = 4096;
  const [a, b] = connectionPair({
    codec: lengthPrefixed(),
    capacity: 1024,
    highWaterMark,
    lowWaterMark: 1024,
  });
  const msg = new Uint8Array(500);
  let sent = 0;
  let pending: Promise<void> | null = null;
  for (let i = 0; i < 1000; i++) {
    const p = a.send(msg);
    sent++;
    assertLessOrEqual(a.bufferedAmount, highWaterMark + msg.length + 4);
    if (await stillPending(p, 20)) {
      pending = p;
      break;
    }
  }
  assert(pending !== null, "send() never waited");
  assertFalse(a.writableNow);
  assertFalse(a.write(msg));
  sent++;
  assertLessOrEqual(a.bufferedAmount, highWaterMark + 2 * (msg.length + 4));
  // Still pending: nothing drains while the reader does not read.
  assert(await stillPending(pending, 50));
  // The reader reads: the sender resumes, and nothing was lost.
  let received = 0;
  const reading = (async () => {
    for await (const m of b) {
      assertEquals(m.length, msg.length);
      received++;
    }
  })();
  await pending;
  await a.close();
  await reading;
  assertEquals(received, sent);
  await b.close();
});

Deno.test("`Connection.send()` keeps its own queue bounded when a TCP peer never reads", async () => {
  const [c, s] = await tcpPair();
  const highWaterMark = 65536;
  const writer = new Connection(c, { highWaterMark });
  const msg = new Uint8Array(16384).fill(7);
  let sent = 0;
  let waited = false;
  const deadline = performance.now() + 10_000;
  // Loopback's socket buffers take a few MiB; the cap keeps this bounded.
  while (sent < 64 << 20 && performance.now() < deadline) {
    const p = writer.send(msg);
    sent += msg.length;
    assertLessOrEqual(writer.bufferedAmount, highWaterMark + msg.length);
    if (await stillPending(p, 200)) {
      waited = true;
      // The queue stays bounded however long the peer does not read.
      assert(await stillPending(p, 100));
      assertLessOrEqual(writer.bufferedAmount, highWaterMark + msg.length);
      // Waiting means the queue has not drained to the low-water mark.
      assertGreater(writer.bufferedAmount, 16384);
      break;
    }
  }
  assert(waited, "send() never waited");
  // Now read everything: not a byte is lost.
  const closing = writer.close();
  const buf = new Uint8Array(1 << 16);
  let got = 0;
  for (;;) {
    const n = await s.read(buf);
    if (n === null) break;
    got += n;
  }
  await closing;
  s.close();
  assertEquals(got, sent);
  assertEquals(writer.stats.bytesWritten, sent);
});

Deno.test("`Connection.write()` sends the messages queued in one tick in one socket write", async () => {
  const [a, b] = connectionPair({ codec: lengthPrefixed() });
  for (let i = 0; i < 100; i++) a.write(utf8.encode(`message ${i}`));
  await a.flush();
  assertEquals(a.stats.messagesWritten, 100);
  assertEquals(a.stats.writes, 1);
  await a.closeWrite();
  let got = 0;
  for await (const _ of b) got++;
  assertEquals(got, 100);
  await a.close();
  await b.close();
});

Deno.test("`FrameWriter.flushSoon()` undefers a writer that flushes on its own", async () => {
  const writes: number[] = [];
  const host = {
    write: (
      p: Uint8Array,
    ) => (writes.push(p.length), Promise.resolve(p.length)),
    closeWrite: () => Promise.resolve(),
    error: () => null,
    writeFailed() {},
  };
  const w = new FrameWriter<Uint8Array>(
    host,
    { inBatch: true },
    {
      encode: (m: Uint8Array) => m,
      encodeInto: (m: Uint8Array, out: ByteBuffer) => out.append(m),
    },
    new WaterMarks(),
    { bytesWritten: 0, messagesWritten: 0, writes: 0 },
    null,
  );
  w.write(new Uint8Array([1, 2, 3]));
  assert(w.stalled, "a reply written during a batch is deferred");
  w.flushSoon(); // the application asked for the next read
  assertFalse(w.stalled, "flushed on its own, still deferred");
  assertFalse(w.listed);
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(writes, [3]);
  w.close(null);
});

Deno.test("`Connection.write()` refuses a message whose encoder commits more than it reserved, and other connections' replies go out", async () => {
  const bad = createCodec<Uint8Array, Uint8Array>({
    name: "overcommit",
    decoder: () => raw().decoder(),
    encoder: () => ({
      encodeInto(m: Uint8Array, out: ByteBuffer) {
        out.reserve(m.length).set(m);
        out.commit(m.length + 1000); // a bug: more than reserved
      },
      encode: (m: Uint8Array) => m,
    }),
  });
  const [a1, b1] = connectionPair({ codec: bad });
  const [a2, b2] = connectionPair({ codec: raw() });
  try {
    assertThrows(
      () => a1.write(new Uint8Array([1])),
      RangeError,
      "Cannot commit 1001 bytes",
    );
    // Queued for the same end-of-tick flush as the refused one was.
    a2.write(new Uint8Array([2]));
    assertEquals(await b2.receive(), new Uint8Array([2]));
    // The refused message left nothing behind.
    await a1.flush();
    assertEquals(a1.stats.messagesWritten, 0);
    assertEquals(a1.stats.bytesWritten, 0);
  } finally {
    for (const c of [a1, b1, a2, b2]) await c.close();
  }
});
