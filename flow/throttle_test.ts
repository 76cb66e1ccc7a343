// Copyright 2026 the netkit authors. MIT license.

import {
  assertEquals,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { ManualClock } from "../_clock.ts";
import { throttle } from "./throttle.ts";
import { advance, tick } from "./_test_utils.ts";

/**
 * Reads a stream to its end while driving the clock in steps of `step`
 * milliseconds; returns each chunk with the virtual time it came out.
 */
async function readTimed<T>(
  readable: ReadableStream<T>,
  clock: ManualClock,
  step: number,
  limit = 100_000,
): Promise<Array<[T, number]>> {
  const out: Array<[T, number]> = [];
  let done = false;
  let failure: unknown = undefined;
  const reading = (async () => {
    for await (const chunk of readable) out.push([chunk, clock.now()]);
  })().then(() => done = true, (err) => {
    failure = err;
    done = true;
  });
  await tick();
  while (!done) {
    if (clock.now() > limit) throw new Error("The stream did not end");
    await advance(clock, step);
  }
  await reading;
  if (failure !== undefined) throw failure;
  return out;
}

Deno.test("`throttle()` emits messages at the rate after the first burst", async () => {
  const clock = new ManualClock();
  const stream = ReadableStream.from(["a", "b", "c", "d", "e"])
    .pipeThrough(
      throttle<string>({ messagesPerSecond: 10, burst: 2, clock }),
    );
  const out = await readTimed(stream, clock, 10);
  assertEquals(out, [["a", 0], ["b", 0], ["c", 100], ["d", 200], [
    "e",
    300,
  ]]);
  assertEquals(clock.pending, 0);
});

Deno.test("`throttle()` charges each chunk its byte length", async () => {
  const clock = new ManualClock();
  const chunks = [new Uint8Array(30), new Uint8Array(50), new Uint8Array(40)];
  const stream = ReadableStream.from(chunks)
    .pipeThrough(throttle({ bytesPerSecond: 100, burst: 50, clock }));
  const out = await readTimed(stream, clock, 10);
  // 30 at once (20 left), 50 needs 30 more: 300 ms; 40 more: 700 ms.
  assertEquals(out.map(([c, t]) => [c.length, t]), [[30, 0], [50, 300], [
    40,
    700,
  ]]);
});

Deno.test("`throttle()` splits a byte chunk larger than the burst into burst-sized pieces", async () => {
  const clock = new ManualClock();
  const data = Uint8Array.from({ length: 250 }, (_, i) => i);
  const stream = ReadableStream.from([data])
    .pipeThrough(throttle({ bytesPerSecond: 100, burst: 100, clock }));
  const out = await readTimed(stream, clock, 50);
  assertEquals(out.map(([c, t]) => [c.length, t]), [[100, 0], [100, 1000], [
    50,
    1500,
  ]]);
  const joined = new Uint8Array(250);
  let offset = 0;
  for (const [chunk] of out) {
    assertStrictEquals(chunk.buffer, data.buffer); // views, not copies
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  assertEquals(joined, data);
});

Deno.test("`throttle()` charges a string its UTF-8 length", async () => {
  const clock = new ManualClock();
  // "héllo" is 6 bytes, "😀" 4, "a\u{7ff}" 3: the second waits 400 ms, the
  // third 300 ms more. A string's .length would give 5, 2 and 2.
  const stream = ReadableStream.from(["héllo", "😀", "a\u{7ff}"])
    .pipeThrough(throttle<string>({ bytesPerSecond: 10, burst: 6, clock }));
  const out = await readTimed(stream, clock, 50);
  assertEquals(out, [["héllo", 0], ["😀", 400], ["a\u{7ff}", 700]]);
});

Deno.test("`throttle()` charges a string what TextEncoder would write", async () => {
  const table = [
    "",
    "abc",
    "é",
    "\u{7ff}\u{800}",
    "😀",
    "\ud800",
    "\udc00x",
    "a\ud83d",
  ];
  for (const text of table) {
    const cost = new TextEncoder().encode(text).length;
    const clock = new ManualClock();
    // The filler empties the bucket; the string then waits 1 ms per byte.
    const stream = ReadableStream.from<Uint8Array | string>([
      new Uint8Array(8),
      text,
    ]).pipeThrough(
      throttle<Uint8Array | string>({ bytesPerSecond: 1000, burst: 8, clock }),
    );
    const out = await readTimed(stream, clock, 1);
    assertEquals(out[1], [text, cost], `for ${JSON.stringify(text)}`);
  }
});

Deno.test("`throttle()` passes empty chunks through at once", async () => {
  const clock = new ManualClock();
  const stream = ReadableStream.from([new Uint8Array(1), new Uint8Array(0)])
    .pipeThrough(throttle({ bytesPerSecond: 1, burst: 1, clock }));
  const out = await readTimed(stream, clock, 10);
  assertEquals(out.map(([c, t]) => [c.length, t]), [[1, 0], [0, 0]]);
});

Deno.test("`throttle()` counts any chunk with a byteLength", async () => {
  const clock = new ManualClock();
  const stream = ReadableStream.from([new ArrayBuffer(4), new Uint16Array(2)])
    .pipeThrough(
      throttle<ArrayBuffer | Uint16Array>({
        bytesPerSecond: 4,
        burst: 4,
        clock,
      }),
    );
  const out = await readTimed(stream, clock, 250);
  assertEquals(out.map(([c, t]) => [c.byteLength, t]), [[4, 0], [4, 1000]]);
});

Deno.test("`throttle()` errors the stream on a chunk without a byte length", async () => {
  const clock = new ManualClock();
  const stream = ReadableStream.from([42 as unknown as Uint8Array])
    .pipeThrough(throttle({ bytesPerSecond: 10, clock }));
  await assertRejects(
    () => readTimed(stream, clock, 10),
    TypeError,
    "Cannot throttle chunk: expected a Uint8Array, a string or an object with a byteLength, received number",
  );
});

Deno.test("`throttle()` requires exactly one of the two rates", () => {
  assertThrows(
    () => throttle({}),
    TypeError,
    "Cannot throttle: exactly one of bytesPerSecond and messagesPerSecond must be given, received neither",
  );
  assertThrows(
    () => throttle({ bytesPerSecond: 1, messagesPerSecond: 1 }),
    TypeError,
    "received both",
  );
  assertThrows(() => throttle({ bytesPerSecond: 0 }), RangeError, "rate");
  assertThrows(
    () => throttle({ messagesPerSecond: 1, burst: 0 }),
    RangeError,
    "burst",
  );
});

Deno.test("`throttle()` errors with signal.reason when the signal aborts during a wait", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  const reason = new Error("stop shaping");
  const stream = ReadableStream.from([1, 2, 3]).pipeThrough(
    throttle<number>({
      messagesPerSecond: 1,
      burst: 1,
      clock,
      signal: controller.signal,
    }),
  );
  const reader = stream.getReader();
  assertEquals(await reader.read(), { value: 1, done: false });
  const next = reader.read();
  await tick();
  assertEquals(clock.pending, 1);
  controller.abort(reason);
  const err = await assertRejects(() => next);
  assertStrictEquals(err, reason);
  assertEquals(clock.pending, 0);
});

Deno.test("`throttle()` errors with signal.reason when the signal aborts while idle", async () => {
  const controller = new AbortController();
  const shaper = throttle<number>({
    messagesPerSecond: 1,
    clock: new ManualClock(),
    signal: controller.signal,
  });
  const reader = shaper.readable.getReader();
  const next = reader.read();
  controller.abort(new Error("idle stop"));
  await assertRejects(() => next, Error, "idle stop");
  await assertRejects(
    () => shaper.writable.getWriter().write(1),
    Error,
    "idle stop",
  );
});

Deno.test("`throttle()` errors at once when the signal is already aborted", async () => {
  const shaper = throttle<number>({
    messagesPerSecond: 1,
    signal: AbortSignal.abort(new Error("too late")),
  });
  await assertRejects(
    () => shaper.readable.getReader().read(),
    Error,
    "too late",
  );
});

Deno.test("`throttle()` clears its timer when the reader cancels during a wait", async () => {
  const clock = new ManualClock();
  const shaper = throttle<number>({ messagesPerSecond: 1, burst: 1, clock });
  const writer = shaper.writable.getWriter();
  writer.write(1).catch(() => {});
  writer.write(2).catch(() => {});
  const reader = shaper.readable.getReader();
  assertEquals((await reader.read()).value, 1);
  const next = reader.read();
  await tick();
  assertEquals(clock.pending, 1);
  await reader.cancel(new Error("enough"));
  assertEquals((await next).done, true);
  await tick();
  assertEquals(clock.pending, 0);
  await assertRejects(() => writer.closed, Error, "enough");
});
