// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import fc from "fast-check";
import { ConnectionClosedError } from "./errors.ts";
import {
  InFlightWindow,
  ManualClock,
  REAL_CLOCK,
  Semaphore,
  throttle,
  TokenBucket,
  WaterMarks,
  window,
} from "./flow.ts";

/** Lets every pending microtask run (one macrotask hop). */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Watches a promise without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state = {
    settled: false,
    value: undefined as T | undefined,
    error: undefined as unknown,
  };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

/** Advances the clock, then lets the continuations run. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await tick();
}

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

// ---------------------------------------------------------------------------
// ManualClock and REAL_CLOCK

Deno.test("`ManualClock.advance()` resolves only due sleepers, in deadline order", async () => {
  const clock = new ManualClock(100);
  const order: string[] = [];
  const c = clock.sleep(30).then(() => order.push("c"));
  const a = clock.sleep(10).then(() => order.push("a"));
  const b = clock.sleep(10).then(() => order.push("b"));
  assertEquals(clock.pending, 3);
  await advance(clock, 9);
  assertEquals(order, []);
  await advance(clock, 1);
  assertEquals(order, ["a", "b"]);
  assertEquals(clock.pending, 1);
  await advance(clock, 100);
  await Promise.all([a, b, c]);
  assertEquals(order, ["a", "b", "c"]);
  assertEquals(clock.now(), 210);
  assertEquals(clock.pending, 0);
});

Deno.test("`ManualClock.sleep()` rejects with signal.reason and forgets the sleeper", async () => {
  const clock = new ManualClock();
  const reason = new Error("stop");
  await assertRejects(
    () => clock.sleep(10, AbortSignal.abort(reason)),
    Error,
    "stop",
  );
  assertEquals(clock.pending, 0);
  const controller = new AbortController();
  const sleeping = track(clock.sleep(10, controller.signal));
  assertEquals(clock.pending, 1);
  controller.abort(reason);
  await tick();
  assertStrictEquals(sleeping.error, reason);
  assertEquals(clock.pending, 0);
});

Deno.test("`ManualClock.sleep()` resolves at once for a wait of zero", async () => {
  const clock = new ManualClock();
  await clock.sleep(0);
  await clock.sleep(-5);
  assertEquals(clock.pending, 0);
});

Deno.test("`ManualClock` rejects a bad start or step", () => {
  assertThrows(() => new ManualClock(NaN), RangeError, "start");
  const clock = new ManualClock();
  assertThrows(
    () => clock.advance(-1),
    RangeError,
    "Cannot advance clock: ms must be a non-negative finite number, received -1",
  );
  assertThrows(() => clock.advance(Infinity), RangeError);
});

Deno.test("`REAL_CLOCK.sleep()` waits, and rejects with signal.reason when aborted", async () => {
  const start = REAL_CLOCK.now();
  await REAL_CLOCK.sleep(5);
  assert(REAL_CLOCK.now() - start >= 4);
  const controller = new AbortController();
  const sleeping = REAL_CLOCK.sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assertRejects(() => sleeping, Error, "stop");
});

// ---------------------------------------------------------------------------
// TokenBucket

Deno.test("`TokenBucket` starts full", () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 5, burst: 3, clock });
  assertEquals(bucket.available, 3);
  assertEquals([bucket.rate, bucket.burst], [5, 3]);
  assert(bucket.tryTake(3));
  assertEquals(bucket.available, 0);
});

Deno.test("`TokenBucket` refills at the rate, up to the burst", () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 10, burst: 4, clock });
  assert(bucket.tryTake(4));
  clock.advance(100);
  assertEquals(bucket.available, 1);
  clock.advance(150);
  assertEquals(bucket.available, 2.5);
  clock.advance(10_000);
  assertEquals(bucket.available, 4);
});

Deno.test("`TokenBucket.tryTake()` fails when short, then succeeds after the clock moves", () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 2, burst: 2, clock });
  assert(bucket.tryTake(2));
  assertFalse(bucket.tryTake());
  clock.advance(499);
  assertFalse(bucket.tryTake());
  assertEquals(bucket.available, 0.998);
  clock.advance(1);
  assert(bucket.tryTake());
  assertFalse(bucket.tryTake());
});

Deno.test("`TokenBucket.tryTake()` never splits a request larger than the burst", () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 100, burst: 10, clock });
  assertFalse(bucket.tryTake(11));
  assertEquals(bucket.available, 10);
  assert(bucket.tryTake(0));
});

Deno.test("`TokenBucket` defaults the burst to one second's worth, at least 1", () => {
  assertEquals(new TokenBucket({ rate: 100 }).burst, 100);
  assertEquals(new TokenBucket({ rate: 2.5 }).burst, 2);
  assertEquals(new TokenBucket({ rate: 0.25 }).burst, 1);
  assertEquals(new TokenBucket({ rate: Infinity }).burst, Infinity);
});

Deno.test("`TokenBucket.take()` resolves at once when the tokens are there", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 1, burst: 5, clock });
  const taking = track(bucket.take(3));
  assertEquals(bucket.available, 2);
  await tick();
  assert(taking.settled);
  assertEquals(clock.pending, 0);
});

Deno.test("`TokenBucket.take()` waits exactly until the tokens have refilled", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 4, burst: 4, clock });
  await bucket.take(4);
  const taking = track(bucket.take(2));
  await advance(clock, 499);
  assertFalse(taking.settled);
  assertEquals(bucket.waiting, 1);
  await advance(clock, 1);
  assert(taking.settled);
  assertEquals(taking.error, undefined);
  assertEquals(bucket.available, 0);
  assertEquals(bucket.waiting, 0);
  assertEquals(clock.pending, 0);
});

Deno.test("`TokenBucket.take()` splits a request larger than the burst", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 10, burst: 10, clock });
  const taking = track(bucket.take(35));
  // 10 at once, then 10, 10 and 5 more at 10 per second: done at 2500 ms.
  assertEquals(bucket.available, 0);
  assertEquals(bucket.delayFor(0), 0);
  for (let t = 0; t < 2400; t += 100) {
    await advance(clock, 100);
    assertFalse(taking.settled, `settled early at ${clock.now()} ms`);
    assert(bucket.available < 10);
  }
  await advance(clock, 99);
  assertFalse(taking.settled);
  await advance(clock, 1);
  assert(taking.settled);
  assertEquals(taking.error, undefined);
  assertEquals(bucket.available, 0);
});

Deno.test("`TokenBucket.take()` loses no tokens when the clock jumps past several pieces", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 100, burst: 10, clock });
  const taking = track(bucket.take(30));
  await advance(clock, 250); // the pieces were due at 100 and 200 ms
  assert(taking.settled);
  // Since 200 ms the bucket has refilled for 50 ms: 5 tokens.
  assertEquals(bucket.available, 5);
  assertEquals(clock.pending, 0);
});

Deno.test("`TokenBucket.take()` serves waiters first in, first out", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 10, burst: 10, clock });
  await bucket.take(10);
  const order: string[] = [];
  const big = bucket.take(10).then(() => order.push(`big@${clock.now()}`));
  const small = bucket.take(1).then(() => order.push(`small@${clock.now()}`));
  await advance(clock, 500);
  // 5 tokens are there, but the big request came first: nobody jumps it.
  assertFalse(bucket.tryTake(1));
  assertEquals(bucket.waiting, 2);
  assertEquals(order, []);
  for (let i = 0; i < 6; i++) await advance(clock, 100);
  await Promise.all([big, small]);
  assertEquals(order, ["big@1000", "small@1100"]);
});

Deno.test("`TokenBucket.take()` rejects with signal.reason when aborted while waiting, and frees the queue", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 10, burst: 10, clock });
  await bucket.take(10);
  const controller = new AbortController();
  const reason = new Error("gave up");
  const first = track(bucket.take(5, { signal: controller.signal }));
  const second = track(bucket.take(1));
  await advance(clock, 200);
  assertFalse(first.settled);
  assertFalse(second.settled);
  controller.abort(reason);
  await tick();
  assertStrictEquals(first.error, reason);
  // The 2 tokens refilled so far go to the next waiter at once.
  assert(second.settled);
  assertEquals(second.error, undefined);
  assertEquals(bucket.waiting, 0);
  assertEquals(bucket.available, 1);
  assertEquals(clock.pending, 0);
});

Deno.test("`TokenBucket.take()` cancels its timer when the only waiter aborts", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 1, burst: 1, clock });
  await bucket.take();
  const controller = new AbortController();
  const taking = track(bucket.take(1, { signal: controller.signal }));
  assertEquals(clock.pending, 1);
  controller.abort();
  await tick();
  assertInstanceOf(taking.error, DOMException);
  assertEquals(clock.pending, 0);
  assertEquals(bucket.waiting, 0);
  assertEquals(bucket.delayFor(1), 1000);
});

Deno.test("`TokenBucket.take()` keeps the pieces already taken when a split request aborts", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 10, burst: 10, clock });
  const controller = new AbortController();
  const taking = track(bucket.take(25, { signal: controller.signal }));
  assertEquals(bucket.available, 0); // the first piece is spent
  await advance(clock, 500);
  controller.abort(new Error("stop"));
  await tick();
  assert(taking.error instanceof Error);
  // The first piece stays spent; the 5 tokens refilled towards the second
  // piece were never taken.
  assertEquals(bucket.available, 5);
  assert(bucket.tryTake(5));
});

Deno.test("`TokenBucket.take()` rejects with signal.reason when the signal is already aborted", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 1, burst: 2, clock });
  const reason = new Error("already");
  const err = await assertRejects(() =>
    bucket.take(1, { signal: AbortSignal.abort(reason) })
  );
  assertStrictEquals(err, reason);
  assertEquals(bucket.available, 2);
  assertEquals(bucket.waiting, 0);
});

Deno.test("`TokenBucket.take()` of zero tokens resolves at once, even behind waiters", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 1, burst: 1, clock });
  await bucket.take();
  const waiting = track(bucket.take());
  await bucket.take(0);
  assert(bucket.tryTake(0));
  assertFalse(waiting.settled);
  await advance(clock, 1000);
  assert(waiting.settled);
});

Deno.test("`TokenBucket.delayFor()` counts the tokens owed to the waiters", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 10, burst: 10, clock });
  assertEquals(bucket.delayFor(10), 0);
  assertEquals(bucket.delayFor(11), 100);
  assertEquals(bucket.delayFor(30), 2000);
  await bucket.take(10);
  const waiting = track(bucket.take(6));
  assertEquals(bucket.delayFor(1), 700);
  await advance(clock, 200);
  assertEquals(bucket.delayFor(1), 500);
  await advance(clock, 400);
  assert(waiting.settled);
  assertEquals(bucket.delayFor(1), 100);
});

Deno.test("`TokenBucket` with a fractional rate waits seconds per token", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: 0.5, clock });
  const taking = track(bucket.take(2)); // 1 now, 1 more after 2 s
  await advance(clock, 1999);
  assertFalse(taking.settled);
  await advance(clock, 1);
  assert(taking.settled);
});

Deno.test("`TokenBucket` with an infinite rate never waits", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rate: Infinity, clock });
  assert(bucket.tryTake(1e9));
  await bucket.take(Number.MAX_SAFE_INTEGER);
  assertEquals(bucket.available, Infinity);
  assertEquals(bucket.delayFor(1e12), 0);
  assertEquals(clock.pending, 0);
});

Deno.test("`TokenBucket` rejects invalid options and counts", () => {
  const table: Array<[() => unknown, ErrorConstructor, string]> = [
    [() => new TokenBucket({ rate: 0 }), RangeError, "rate must be a positive"],
    [() => new TokenBucket({ rate: -1 }), RangeError, "received -1"],
    [() => new TokenBucket({ rate: NaN }), RangeError, "received NaN"],
    [
      () => new TokenBucket({ rate: "10" as unknown as number }),
      TypeError,
      "Cannot create token bucket: rate must be a number, received string",
    ],
    [
      () => new TokenBucket({ rate: 10, burst: 0 }),
      RangeError,
      "Cannot create token bucket: burst must be an integer of at least 1, received 0",
    ],
    [() => new TokenBucket({ rate: 10, burst: 1.5 }), RangeError, "1.5"],
    [() => new TokenBucket({ rate: 10, burst: Infinity }), RangeError, "burst"],
    [() => new TokenBucket({ rate: 1 }).tryTake(-1), RangeError, "-1"],
    [() => new TokenBucket({ rate: 1 }).take(1.5), RangeError, "1.5"],
    [
      () => new TokenBucket({ rate: 1 }).delayFor(NaN),
      RangeError,
      "Cannot compute delay: n must be a non-negative integer, received NaN",
    ],
    [
      () => new TokenBucket({ rate: 1 }).tryTake(2.5),
      RangeError,
      "Cannot take tokens: n must be a non-negative integer, received 2.5",
    ],
  ];
  for (const [fn, ErrorClass, message] of table) {
    assertThrows(fn, ErrorClass, message);
  }
});

Deno.test("`TokenBucket` on the real clock waits for its tokens and leaks no timer when aborted", async () => {
  const bucket = new TokenBucket({ rate: 200, burst: 1 });
  const start = performance.now();
  await bucket.take(3); // 1 now, 2 more at 200 per second: 10 ms
  assert(performance.now() - start >= 9.9);
  const controller = new AbortController();
  const waiting = bucket.take(1000, { signal: controller.signal });
  controller.abort(new Error("stop"));
  await assertRejects(() => waiting, Error, "stop");
  assertEquals(bucket.waiting, 0);
});

Deno.test("`TokenBucket.take()` completes each request when the bucket has refilled the demand up to it (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 20 }),
      fc.oneof(fc.integer({ min: 1, max: 50 }), fc.constant(0.5)),
      fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 8 }),
      async (burst, rate, sizes) => {
        const clock = new ManualClock();
        const bucket = new TokenBucket({ rate, burst, clock });
        const done = sizes.map(() => false);
        const all = Promise.all(
          sizes.map((n, i) => bucket.take(n).then(() => done[i] = true)),
        );
        // Request i is due once the bucket has paid out everything asked up
        // to and including it: (demand - burst) / rate seconds after start.
        let demand = 0;
        const due = sizes.map((n) => {
          demand += n;
          return n === 0 ? 0 : Math.max(0, (demand - burst) * 1000 / rate);
        });
        await tick();
        for (let i = 0; i < sizes.length; i++) {
          const before = due[i]! - 0.01;
          if (before > clock.now()) {
            await advance(clock, before - clock.now());
            assertFalse(done[i], `request ${i} of ${sizes} done early`);
          }
          const after = due[i]! + 0.01;
          if (after > clock.now()) await advance(clock, after - clock.now());
          assert(done[i], `request ${i} of ${sizes} not done at ${after}`);
        }
        await all;
        assertEquals(clock.pending, 0);
        assertEquals(bucket.waiting, 0);
      },
    ),
    { numRuns: 100 },
  );
});

// ---------------------------------------------------------------------------
// throttle

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

// ---------------------------------------------------------------------------
// InFlightWindow

Deno.test("`InFlightWindow.acquire()` limits the requests in flight and admits waiters in order", async () => {
  const win = window(2);
  assertInstanceOf(win, InFlightWindow);
  await win.acquire();
  await win.acquire();
  assertEquals(win.inFlight, 2);
  const order: number[] = [];
  const waits = [1, 2, 3].map((i) => win.acquire().then(() => order.push(i)));
  await tick();
  assertEquals(order, []);
  assertEquals(win.waiting, 3);
  win.release();
  await tick();
  assertEquals(order, [1]);
  assertEquals(win.inFlight, 2);
  win.release();
  win.release();
  await Promise.all(waits);
  assertEquals(order, [1, 2, 3]);
  assertEquals([win.inFlight, win.waiting], [2, 0]);
});

Deno.test("`InFlightWindow.tryAcquire()` does not jump the queue", async () => {
  const win = new InFlightWindow(1);
  assert(win.tryAcquire());
  const waiting = track(win.acquire());
  win.release(); // handed straight to the waiter
  assertFalse(win.tryAcquire());
  await tick();
  assert(waiting.settled);
  assertEquals(win.inFlight, 1);
});

Deno.test("`InFlightWindow.release()` throws when nothing is in flight", () => {
  const win = new InFlightWindow(3);
  assertThrows(
    () => win.release(),
    RangeError,
    "Cannot release: no request is in flight",
  );
  win.tryAcquire();
  win.release();
  assertThrows(() => win.release(), RangeError);
  assertEquals(win.inFlight, 0);
});

Deno.test("`InFlightWindow.acquire()` rejects with signal.reason and leaves the queue when aborted", async () => {
  const win = new InFlightWindow(1);
  await win.acquire();
  const controller = new AbortController();
  const reason = new Error("timeout");
  const first = track(win.acquire({ signal: controller.signal }));
  const second = track(win.acquire());
  controller.abort(reason);
  await tick();
  assertStrictEquals(first.error, reason);
  assertEquals(win.waiting, 1);
  win.release();
  await tick();
  assert(second.settled);
  assertEquals(win.inFlight, 1);
  const err = await assertRejects(() =>
    win.acquire({ signal: AbortSignal.abort(reason) })
  );
  assertStrictEquals(err, reason);
  assertEquals(win.waiting, 0);
});

Deno.test("`InFlightWindow.run()` releases when the function throws", async () => {
  const win = new InFlightWindow(1);
  await assertRejects(
    () =>
      win.run(() => {
        throw new Error("no response");
      }),
    Error,
    "no response",
  );
  assertEquals(win.inFlight, 0);
  assertEquals(await win.run(async () => await Promise.resolve(7)), 7);
});

Deno.test("`InFlightWindow.run()` keeps at most size requests in flight", async () => {
  const win = new InFlightWindow(3);
  let current = 0;
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      win.run(async () => {
        peak = Math.max(peak, ++current);
        await tick();
        current--;
        return i;
      })),
  );
  assertEquals(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(peak, 3);
  assertEquals(win.inFlight, 0);
});

Deno.test("`window()` rejects a size that is not a positive integer", () => {
  for (const size of [0, -1, 1.5, NaN, Infinity]) {
    assertThrows(() => window(size), RangeError, "size must be a positive");
  }
  assertThrows(
    () => window("2" as unknown as number),
    TypeError,
    "Cannot create window: size must be a number, received string",
  );
});

// ---------------------------------------------------------------------------
// Semaphore

Deno.test("`Semaphore.acquire()` returns a permit that `using` releases", async () => {
  const sem = new Semaphore(2);
  {
    using a = await sem.acquire();
    using _b = await sem.acquire();
    assertEquals(sem.available, 0);
    assertFalse(a.released);
  }
  assertEquals(sem.available, 2);
  const permit = await sem.acquire();
  permit.release();
  permit.release(); // a second release does nothing
  permit[Symbol.dispose]();
  assert(permit.released);
  assertEquals(sem.available, 2);
});

Deno.test("`Semaphore.acquire()` serves waiters in order as permits come back", async () => {
  const sem = new Semaphore(1);
  const held = await sem.acquire();
  const order: number[] = [];
  const waits = [1, 2, 3].map((i) =>
    sem.acquire().then((permit) => {
      order.push(i);
      return permit;
    })
  );
  assertEquals(sem.waiting, 3);
  held.release();
  const first = await waits[0]!;
  assertEquals(order, [1]);
  first.release();
  (await waits[1]!).release();
  (await waits[2]!).release();
  assertEquals(order, [1, 2, 3]);
  assertEquals([sem.available, sem.waiting], [1, 0]);
});

Deno.test("`Semaphore.tryAcquire()` returns undefined when no permit is free", () => {
  const sem = new Semaphore(1);
  using permit = sem.tryAcquire();
  assert(permit !== undefined);
  assertEquals(sem.tryAcquire(), undefined);
  assertEquals(sem.permits, 1);
});

Deno.test("`Semaphore.acquire()` rejects with signal.reason and holds nothing when aborted", async () => {
  const sem = new Semaphore(1);
  const held = sem.tryAcquire()!;
  const controller = new AbortController();
  const waiting = track(sem.acquire({ signal: controller.signal }));
  controller.abort("stop");
  await tick();
  assertEquals(waiting.error, "stop");
  assertEquals(sem.waiting, 0);
  held.release();
  assertEquals(sem.available, 1);
});

Deno.test("`Semaphore.run()` limits concurrency and releases on error", async () => {
  const sem = new Semaphore(2);
  let current = 0;
  let peak = 0;
  const jobs = Array.from({ length: 6 }, (_, i) =>
    sem.run(async () => {
      peak = Math.max(peak, ++current);
      await tick();
      current--;
      if (i === 3) throw new Error("job 3 failed");
      return i;
    }));
  const settled = await Promise.allSettled(jobs);
  assertEquals(peak, 2);
  assertEquals(settled.filter((s) => s.status === "rejected").length, 1);
  assertEquals(sem.available, 2);
});

Deno.test("`Semaphore` rejects a permit count that is not a positive integer", () => {
  assertThrows(
    () => new Semaphore(0),
    RangeError,
    "Cannot create semaphore: permits must be a positive integer, received 0",
  );
  assertThrows(() => new Semaphore(2.5), RangeError);
});

// ---------------------------------------------------------------------------
// WaterMarks

Deno.test("`WaterMarks.writable` turns false at the high mark and true only at the low mark", () => {
  const marks = new WaterMarks({ high: 100, low: 40 });
  marks.add(99);
  assert(marks.writable);
  marks.add(1);
  assertFalse(marks.writable);
  marks.remove(30); // 70: between the marks, still blocked
  assertFalse(marks.writable);
  marks.add(10); // 80
  assertFalse(marks.writable);
  marks.remove(40); // 40: the low mark
  assert(marks.writable);
  marks.add(50); // 90: between the marks, but writable
  assert(marks.writable);
  assertEquals(marks.buffered, 90);
});

Deno.test("`WaterMarks` defaults to 64 KiB and 16 KiB, and low to a quarter of high", () => {
  const marks = new WaterMarks();
  assertEquals([marks.high, marks.low], [65536, 16384]);
  assertEquals(new WaterMarks({ high: 1000 }).low, 250);
  assertEquals(new WaterMarks({ high: 10, low: 10 }).low, 10);
});

Deno.test("`WaterMarks.waitWritable()` resolves at once when writable, else at the low mark", async () => {
  const marks = new WaterMarks({ high: 10, low: 2 });
  await marks.waitWritable();
  marks.add(10);
  const a = track(marks.waitWritable());
  const b = track(marks.waitWritable());
  marks.remove(5);
  await tick();
  assertFalse(a.settled);
  marks.remove(3);
  await tick();
  assert(a.settled && b.settled);
  assertEquals([a.error, b.error], [undefined, undefined]);
});

Deno.test("`WaterMarks.close()` rejects the waiters and later waits with the reason", async () => {
  const marks = new WaterMarks({ high: 1, low: 0 });
  marks.add(1);
  const reason = new Error("connection reset");
  const waiting = track(marks.waitWritable());
  marks.close(reason);
  await tick();
  assertStrictEquals(waiting.error, reason);
  assert(marks.closed);
  assertFalse(marks.writable);
  const err = await assertRejects(() => marks.waitWritable());
  assertStrictEquals(err, reason);
  marks.close(new Error("again")); // ignored
  assertStrictEquals(await assertRejects(() => marks.waitWritable()), reason);
  marks.remove(1); // the count goes on
  assertEquals(marks.buffered, 0);
  assertFalse(marks.writable);
});

Deno.test("`WaterMarks.close()` rejects with a ConnectionClosedError by default", async () => {
  const marks = new WaterMarks();
  marks.close();
  await assertRejects(
    () => marks.waitWritable(),
    ConnectionClosedError,
    "Cannot write: the connection is closed",
  );
});

Deno.test("`WaterMarks.waitWritable()` rejects with signal.reason and leaves the queue when aborted", async () => {
  const marks = new WaterMarks({ high: 4, low: 0 });
  marks.add(4);
  const controller = new AbortController();
  const waiting = track(marks.waitWritable({ signal: controller.signal }));
  controller.abort("gone");
  await tick();
  assertEquals(waiting.error, "gone");
  await assertRejects(() =>
    marks.waitWritable({ signal: AbortSignal.abort(new Error("early")) })
  );
  marks.remove(4);
  assert(marks.writable);
});

Deno.test("`WaterMarks` rejects bad marks and bad counts", () => {
  assertThrows(
    () => new WaterMarks({ high: 10, low: 11 }),
    RangeError,
    "Cannot create water marks: expected 0 <= low <= high and high > 0, received low 11, high 10",
  );
  assertThrows(() => new WaterMarks({ high: 0, low: 0 }), RangeError);
  assertThrows(() => new WaterMarks({ low: -1 }), RangeError);
  assertThrows(
    () => new WaterMarks({ high: "1" as unknown as number }),
    TypeError,
  );
  const marks = new WaterMarks();
  assertThrows(() => marks.add(-1), RangeError, "Cannot add bytes");
  assertThrows(() => marks.add(1.5), RangeError, "received 1.5");
  assertThrows(
    () => marks.remove(-1),
    RangeError,
    "Cannot remove bytes: n must be a non-negative integer, received -1",
  );
  marks.add(3);
  assertThrows(
    () => marks.remove(4),
    RangeError,
    "Cannot remove bytes: n 4 exceeds the 3 bytes buffered",
  );
  assertEquals(marks.buffered, 3);
});
