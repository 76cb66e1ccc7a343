// Copyright 2026 the netkit authors. MIT license.

// The faces of a connection (_faces.ts): `for await`, `readable`,
// `writable`, and the fast pipe from a readable into a writable.

import {
  assert,
  assertEquals,
  assertFalse,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { encodeAll, lengthPrefixed, lines, text } from "./codec.ts";
import { Connection } from "./connection.ts";
import { FrameTooLargeError } from "./errors.ts";
import { connectionPair } from "./testing.ts";

// ---------------------------------------------------------------------------
// The two reading faces and the writable

Deno.test("`Connection` delivers messages to `for await`", async () => {
  const [a, b] = connectionPair({ codec: text(lines()) });
  for (const m of ["a", "b", "c"]) a.write(m);
  await a.closeWrite();
  const got: string[] = [];
  for await (const m of b) got.push(m);
  assertEquals(got, ["a", "b", "c"]);
  await a.close();
  await b.close();
});

Deno.test("`Connection.readable` delivers messages as a web stream", async () => {
  const [a, b] = connectionPair({ codec: text(lines()) });
  for (const m of ["a", "b", "c"]) a.write(m);
  await a.closeWrite();
  assertStrictEquals(b.readable, b.readable);
  assertEquals(await Array.fromAsync(b.readable), ["a", "b", "c"]);
  await a.close();
  await b.close();
});

Deno.test("`Connection` throws TypeError when both `readable` and `for await` are used", async () => {
  const [a, b] = connectionPair();
  void a.readable;
  assertThrows(() => a[Symbol.asyncIterator](), TypeError, "readable");
  b[Symbol.asyncIterator]();
  assertThrows(() => b.readable, TypeError, "iterator");
  await a.close();
  await b.close();
});

Deno.test("`Connection.readable` cancel aborts the connection", async () => {
  const [a, b] = connectionPair();
  const reason = new Error("Not interested");
  await a.readable.cancel(reason);
  const err = await assertRejects(() => a.closed);
  assertStrictEquals(err, reason);
  await b.close();
});

Deno.test("`Connection.writable` sends each chunk and half-closes on close", async () => {
  const [a, b] = connectionPair({ codec: text(lines()) });
  await ReadableStream.from(["x", "y", "z"]).pipeTo(a.writable);
  assertEquals(await Array.fromAsync(b), ["x", "y", "z"]);
  // The read side is still open: the peer can reply.
  await b.send("reply");
  assertEquals(await a.receive(), "reply");
  await b.close();
  assertEquals(await a.receive(), undefined);
  await a.closed;
  assertStrictEquals(a.error, null);
});

Deno.test("`Connection.writable` abort aborts the connection", async () => {
  const [a, b] = connectionPair();
  const reason = new Error("Broken producer");
  await a.writable.abort(reason);
  const err = await assertRejects(() => a.closed);
  assertStrictEquals(err, reason);
  await b.close();
});

// ---------------------------------------------------------------------------
// Piping one connection's readable into a connection's writable

/** Sends `messages` from `client` after `closeWrite`, and collects the replies. */
async function exchange(
  client: Connection<string, string>,
  messages: string[],
): Promise<string[]> {
  for (const m of messages) client.write(m);
  await client.closeWrite();
  return await Array.fromAsync(client);
}

Deno.test("`Connection.readable.pipeTo(writable)` echoes every message and half-closes at EOF", async () => {
  const [client, server] = connectionPair({
    codec: text(lines()),
    maxReadSize: 7,
  });
  const piped = server.readable.pipeTo(server.writable);
  const messages = Array.from({ length: 500 }, (_, i) => `message ${i}`);
  assertEquals(await exchange(client, messages), messages);
  await piped;
  await server.closed;
  await client.close();
});

Deno.test("`Connection.readable.pipeTo(writable)` first delivers the messages the stream already holds", async () => {
  const [client, server] = connectionPair({ codec: text(lines()) });
  for (const m of ["a", "b", "c", "d"]) client.write(m);
  const reader = server.readable.getReader();
  // One pull hands over the whole read: "a" is taken, b–d wait in the stream.
  assertEquals(await reader.read(), { done: false, value: "a" });
  reader.releaseLock();
  const piped = server.readable.pipeTo(server.writable);
  client.write("e");
  await client.closeWrite();
  assertEquals(await Array.fromAsync(client), ["b", "c", "d", "e"]);
  await piped;
  await client.close();
});

Deno.test("`Connection.readable.pipeTo(writable)` relays between two connections under backpressure", async () => {
  const options = {
    codec: lengthPrefixed(),
    highWaterMark: 1024,
    lowWaterMark: 256,
    capacity: 2048,
  };
  const [producer, inbound] = connectionPair(options);
  const [outbound, consumer] = connectionPair(options);
  const relay = inbound.readable.pipeTo(outbound.writable);
  const frames = Array.from(
    { length: 300 },
    (_, i) => new Uint8Array(100 + i).fill(i),
  );
  const sending = (async () => {
    for (const f of frames) await producer.send(f);
    await producer.closeWrite();
  })();
  // A slow consumer: the relay must wait rather than buffer everything.
  const got: Uint8Array[] = [];
  for await (const f of consumer) {
    got.push(f);
    assertLessOrEqual(outbound.bufferedAmount, 1024 + 400);
    if (got.length % 50 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await sending;
  await relay;
  assertEquals(got, frames);
  await producer.close();
  await inbound.close();
  await outbound.close();
  await consumer.close();
});

Deno.test("`Connection.readable.pipeTo(writable)` aborts the destination and rejects on a source error", async () => {
  const codec = lengthPrefixed({ maxFrameLength: 8 });
  const [producer, inbound] = connectionPair({ codec });
  const [outbound, consumer] = connectionPair({ codec });
  const relay = inbound.readable.pipeTo(outbound.writable);
  await producer.transport.write(
    encodeAll(lengthPrefixed(), [new Uint8Array([1]), new Uint8Array(9)]),
  );
  const err = await assertRejects(() => relay, FrameTooLargeError);
  // The message before the bad frame went through; then the abort.
  assertEquals(await consumer.receive(), new Uint8Array([1]));
  assertStrictEquals(await assertRejects(() => outbound.closed), err);
  await producer.close();
  await assertRejects(() => inbound.closed, FrameTooLargeError);
  await consumer.close();
});

Deno.test("`Connection.readable.pipeTo(writable, { preventAbort, preventClose })` leaves the destination open", async () => {
  const codec = text(lines());
  const [producer, inbound] = connectionPair({ codec });
  const [outbound, consumer] = connectionPair({ codec });
  producer.write("one");
  await producer.closeWrite();
  await inbound.readable.pipeTo(outbound.writable, { preventClose: true });
  assertFalse(outbound.isClosed);
  outbound.write("two");
  assertEquals(await consumer.receive(), "one");
  assertEquals(await consumer.receive(), "two");

  const [producer2, inbound2] = connectionPair({ codec });
  inbound2.abort(new Error("Source gone"));
  await assertRejects(
    () => inbound2.readable.pipeTo(outbound.writable, { preventAbort: true }),
    Error,
    "Source gone",
  );
  assertFalse(outbound.isClosed);
  await outbound.send("three");
  assertEquals(await consumer.receive(), "three");
  for (const c of [producer, inbound, outbound, consumer, producer2]) {
    await c.close();
  }
});

Deno.test("`Connection.readable.pipeTo(writable)` cancels the source when the destination closes", async () => {
  const codec = text(lines());
  const [producer, inbound] = connectionPair({ codec });
  const [outbound, consumer] = connectionPair({ codec });
  const relay = inbound.readable.pipeTo(outbound.writable);
  producer.write("before");
  assertEquals(await consumer.receive(), "before");
  // The source has nothing more to send; the destination goes away.
  outbound.abort(new Error("Destination gone"));
  await assertRejects(() => relay, Error, "Destination gone");
  await assertRejects(() => inbound.closed, Error, "Destination gone");
  assert(outbound.writable.locked === false);
  await producer.close();
  await consumer.close();
});

Deno.test("`Connection.readable.pipeTo(writable)` keeps the rules of a generic pipe", async () => {
  const codec = text(lines());
  const [client, server] = connectionPair({ codec });
  // A locked stream cannot be piped.
  const reader = server.readable.getReader();
  await assertRejects(
    () => server.readable.pipeTo(server.writable),
    TypeError,
  );
  reader.releaseLock();
  // A signal goes through the generic pipe and still stops it.
  const controller = new AbortController();
  const piped = server.readable.pipeTo(server.writable, {
    signal: controller.signal,
  });
  assert(server.readable.locked && server.writable.locked);
  client.write("x");
  assertEquals(await client.receive(), "x");
  controller.abort(new Error("Stop"));
  await assertRejects(() => piped, Error, "Stop");
  await client.close();
  await server.closed.catch(() => {});

  // Into any other writable: the generic pipe.
  const [a, b] = connectionPair({ codec });
  const got: string[] = [];
  const collecting = b.readable.pipeTo(
    new WritableStream({ write: (m) => void got.push(m) }),
  );
  await exchangeOneWay(a, ["p", "q"]);
  await collecting;
  assertEquals(got, ["p", "q"]);
  await a.close();
  await b.close();
});

async function exchangeOneWay(
  from: Connection<string, string>,
  messages: string[],
): Promise<void> {
  for (const m of messages) from.write(m);
  await from.closeWrite();
}

// ---------------------------------------------------------------------------
// forEach

Deno.test("`Connection.forEach()` hands every message over in order and resolves at EOF", async () => {
  const [a, b] = connectionPair({ codec: lengthPrefixed() });
  const sent = Array.from(
    { length: 5000 },
    (_, i) => new Uint8Array([i & 255, i >> 8]),
  );
  for (const m of sent) a.write(m);
  await a.closeWrite();
  const got: Uint8Array[] = [];
  // Byte messages are views, valid during the call: keep copies.
  await b.forEach((m) => void got.push(m.slice()));
  assertEquals(got, sent);
  await a.close();
  await b.close();
});

Deno.test("`Connection.forEach()` echoes through real sockets, replies in order", async () => {
  const { serve, connect } = await import("./mod.ts");
  await using server = serve(
    { port: 0, codec: lengthPrefixed() },
    (conn) => conn.forEach((m) => conn.write(m)),
  );
  await using client = await connect(server.addr, { codec: lengthPrefixed() });
  const sent = Array.from(
    { length: 20_000 },
    (_, i) => new Uint8Array(i % 300).fill(i & 255),
  );
  const writing = (async () => {
    for (const m of sent) await client.send(m);
  })();
  for (let i = 0; i < sent.length; i++) {
    assertEquals(await client.receive(), sent[i]);
  }
  await writing;
});

Deno.test("`Connection.forEach()` ends after a handler returns STOP", async () => {
  const { STOP } = await import("./connection.ts");
  const [a, b] = connectionPair({ codec: text(lines()) });
  for (const m of ["one", "QUIT", "never"]) a.write(m);
  await a.flush();
  const seen: string[] = [];
  await b.forEach((m) => {
    seen.push(m);
    if (m === "QUIT") return STOP;
  });
  assertEquals(seen, ["one", "QUIT"]);
  await a.close();
  await b.close();
});

Deno.test("`Connection.forEach()` awaits a handler's promise before the next message", async () => {
  const [a, b] = connectionPair({ codec: text(lines()) });
  for (const m of ["1", "2", "3"]) a.write(m);
  await a.closeWrite();
  const log: string[] = [];
  await b.forEach(async (m) => {
    log.push(`start ${m}`);
    await new Promise((r) => setTimeout(r, 5));
    log.push(`end ${m}`);
  });
  assertEquals(log, [
    "start 1",
    "end 1",
    "start 2",
    "end 2",
    "start 3",
    "end 3",
  ]);
  await a.close();
  await b.close();
});

Deno.test("`Connection.forEach()` feeds the handler no more while the write side is full", async () => {
  // b echoes 1 KiB messages to a, which does not read: b's queue passes
  // its high-water mark, and b stops taking messages.
  const codec = lengthPrefixed();
  const [a, b] = connectionPair({
    codec,
    capacity: 16384,
    highWaterMark: 8192,
  });
  let handled = 0;
  const echoing = b.forEach((m) => {
    handled++;
    b.write(m);
  }).catch(() => {});
  const writing = (async () => {
    for (let i = 0; i < 1000; i++) await a.send(new Uint8Array(1024));
  })().catch(() => {});
  await new Promise((r) => setTimeout(r, 100));
  // What b took: its queue to the mark plus what the pipe to a holds.
  assertLessOrEqual(handled, (8192 + 16384) / 1028 + 2);
  assertLessOrEqual(b.bufferedAmount, 8192 + 1028);
  a.abort();
  b.abort();
  await echoing;
  await writing;
});

Deno.test("`Connection.forEach()` rejects after the good messages with the decode error, and the reply still goes out", async () => {
  const codec = lengthPrefixed({ maxFrameLength: 8 });
  const [a, b] = connectionPair({ codec });
  a.write(new Uint8Array([1]));
  a.write(new Uint8Array([2]));
  await a.flush();
  await a.transport.write(new Uint8Array([0, 0, 0, 100]));
  const seen: number[] = [];
  await assertRejects(
    () => b.forEach((m) => void seen.push(m[0]!)),
    FrameTooLargeError,
  );
  assertEquals(seen, [1, 2]);
  await b.send(new Uint8Array([0xee]));
  assertEquals(await a.receive(), new Uint8Array([0xee]));
  await b.close();
  await a.close();
  await b.closed.catch(() => {});
});

Deno.test("`Connection.forEach()` rejects with what the handler throws or rejects with, and takes no message after it", async () => {
  for (const kind of ["throws", "rejects"] as const) {
    const [a, b] = connectionPair({ codec: text(lines()) });
    for (const m of ["one", "bad", "never"]) a.write(m);
    await a.flush();
    const seen: string[] = [];
    const error = await assertRejects(
      () =>
        b.forEach((m) => {
          seen.push(m);
          if (m !== "bad") return;
          const err = new RangeError(`Handler ${kind}`);
          if (kind === "throws") throw err;
          return Promise.reject(err);
        }),
      RangeError,
    );
    assertEquals(error.message, `Handler ${kind}`, kind);
    assertEquals(seen, ["one", "bad"], kind);
    // The message after it is still there for the next reader.
    assertEquals(await b.receive(), "never", kind);
    await a.close();
    await b.close();
  }
});

Deno.test("`Connection.forEach()` goes on once the write side drains, and every message is echoed", async () => {
  // 200 messages of 1 KiB echoed through a small pipe and high-water mark:
  // b stops taking messages while its queue is full, and goes on as a
  // reads the replies.
  const codec = lengthPrefixed();
  const [a, b] = connectionPair({
    codec,
    capacity: 4096,
    highWaterMark: 4096,
  });
  const sent = Array.from(
    { length: 200 },
    (_, i) => new Uint8Array(1024).fill(i & 255),
  );
  let handled = 0;
  let fullSeen = false;
  const echoing = b.forEach((m) => {
    handled++;
    if (!b.write(m)) fullSeen = true;
  });
  const writing = (async () => {
    for (const m of sent) await a.send(m);
    await a.closeWrite();
  })();
  const got: Uint8Array[] = [];
  for (let i = 0; i < sent.length; i++) got.push((await a.receive())!);
  await echoing;
  await writing;
  assert(fullSeen, "the write side was never full");
  assertEquals(handled, sent.length);
  assertEquals(got, sent);
  await b.close();
  await a.close();
});
