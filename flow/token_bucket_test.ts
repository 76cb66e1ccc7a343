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
import { ManualClock } from "../_clock.ts";
import { TokenBucket } from "./token_bucket.ts";
import { advance, tick, track } from "./_test_utils.ts";

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
