// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import fc from "fast-check";
import { DecodeError, TlsError } from "./errors.ts";
import { ManualClock } from "./flow.ts";
import { type Clock, delay, retry, type RetryOptions } from "./retry.ts";

// ---------------------------------------------------------------------------
// retry

interface FakeClock extends Clock {
  /** Every sleep asked for, in order. */
  sleeps: number[];
  /** Moves the clock on, as time spent inside `fn`. */
  advance(ms: number): void;
}

function fakeClock(): FakeClock {
  let t = 1000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) return Promise.reject(signal.reason);
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

/** A function that throws the given errors in turn, then returns `"ok"`. */
function failing(errors: unknown[]): {
  fn: (attempt: number) => Promise<string>;
  attempts: number[];
} {
  const attempts: number[] = [];
  return {
    attempts,
    fn: (attempt: number) => {
      attempts.push(attempt);
      const err = errors[attempts.length - 1];
      return err === undefined ? Promise.resolve("ok") : Promise.reject(err);
    },
  };
}

const refused = (n: number) =>
  new Deno.errors.ConnectionRefused(`refused ${n}`);

Deno.test("`retry()` succeeds after failures, passing the attempt number", async () => {
  const clock = fakeClock();
  const { fn, attempts } = failing([refused(1), refused(2)]);
  const result = await retry(fn, { clock, random: () => 0.5 });
  assertEquals(result, "ok");
  assertEquals(attempts, [1, 2, 3]);
  assertEquals(clock.sleeps, [50, 100]);
});

Deno.test("`retry()` returns the first result without waiting", async () => {
  const clock = fakeClock();
  assertEquals(await retry(() => 7, { clock }), 7);
  assertEquals(clock.sleeps, []);
});

Deno.test("`retry()` stops at maxAttempts and throws the last error unchanged", async () => {
  const clock = fakeClock();
  const errors = [refused(1), refused(2), refused(3), refused(4)];
  const { fn, attempts } = failing(errors);
  const err = await assertRejects(() =>
    retry(fn, { maxAttempts: 3, clock, random: () => 0 })
  );
  assertStrictEquals(err, errors[2]);
  assertEquals(attempts, [1, 2, 3]);
  assertEquals(clock.sleeps.length, 2);
});

Deno.test("`retry()` with maxAttempts 1 calls once", async () => {
  const clock = fakeClock();
  const { fn, attempts } = failing([refused(1)]);
  const err = await assertRejects(() => retry(fn, { maxAttempts: 1, clock }));
  assertEquals(attempts, [1]);
  assertInstanceOf(err, Deno.errors.ConnectionRefused);
  assertEquals(clock.sleeps, []);
});

Deno.test("`retry()` stops at a non-retryable error immediately", async () => {
  for (
    const bad of [
      new TlsError("Cannot connect: invalid peer certificate"),
      new Deno.errors.PermissionDenied("Requires net access"),
      new DecodeError("bad"),
      "not an error",
    ]
  ) {
    const clock = fakeClock();
    const { fn, attempts } = failing([bad]);
    const err = await assertRejects(() => retry(fn, { clock }));
    assertStrictEquals(err, bad);
    assertEquals(attempts, [1]);
    assertEquals(clock.sleeps, []);
  }
});

Deno.test("`retry()` asks the retryable option with the error and the attempt", async () => {
  const clock = fakeClock();
  const asked: [unknown, number][] = [];
  const errors = [new Error("a"), new Error("b"), new Error("c")];
  const { fn, attempts } = failing(errors);
  const err = await assertRejects(() =>
    retry(fn, {
      clock,
      retryable: (e, attempt) => {
        asked.push([e, attempt]);
        return attempt < 2;
      },
    })
  );
  assertStrictEquals(err, errors[1]);
  assertEquals(attempts, [1, 2]);
  assertEquals(asked, [[errors[0], 1], [errors[1], 2]]);
});

Deno.test("`retry()` waits a full-jitter delay below a cap that grows by multiplier up to maxDelay", async () => {
  const options: RetryOptions = {
    maxAttempts: 7,
    minDelay: 100,
    multiplier: 3,
    maxDelay: 1000,
  };
  // Just below 1: the largest wait each cap allows.
  const high = fakeClock();
  await assertRejects(() =>
    retry(failing(Array.from({ length: 7 }, (_, i) => refused(i))).fn, {
      ...options,
      clock: high,
      random: () => 0.999999,
    })
  );
  assertEquals(high.sleeps, [99, 299, 899, 999, 999, 999]);
  // 0: no wait at all.
  const low = fakeClock();
  await assertRejects(() =>
    retry(failing(Array.from({ length: 7 }, (_, i) => refused(i))).fn, {
      ...options,
      clock: low,
      random: () => 0,
    })
  );
  assertEquals(low.sleeps, [0, 0, 0, 0, 0, 0]);
});

Deno.test("`retry()` keeps every wait in [0, cap) for any random numbers", async () => {
  const uniform = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
  await fc.assert(
    fc.asyncProperty(
      fc.array(uniform, { minLength: 9, maxLength: 9 }),
      fc.integer({ min: 0, max: 500 }),
      fc.double({ min: 1, max: 4, noNaN: true }),
      fc.integer({ min: 0, max: 5000 }),
      async (randoms, minDelay, multiplier, extra) => {
        const maxDelay = minDelay + extra;
        const clock = fakeClock();
        let k = 0;
        await assertRejects(() =>
          retry(
            failing(Array.from({ length: 10 }, (_, i) => refused(i))).fn,
            {
              maxAttempts: 10,
              minDelay,
              maxDelay,
              multiplier,
              clock,
              random: () => randoms[k++]!,
            },
          )
        );
        assertEquals(clock.sleeps.length, 9);
        clock.sleeps.forEach((wait, n) => {
          const cap = Math.min(maxDelay, minDelay * multiplier ** n);
          assert(Number.isInteger(wait), `wait ${wait}`);
          assertGreaterOrEqual(wait, 0);
          if (cap >= 1) assertLess(wait, cap, `wait ${n + 1}`);
          else assertEquals(wait, 0);
        });
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("`retry()` stops before a wait that would end past maxElapsed", async () => {
  const clock = fakeClock();
  const errors = [refused(1), refused(2), refused(3), refused(4), refused(5)];
  const { fn, attempts } = failing(errors);
  // Waits 50, 100, 200: the third would end at 350, past 300.
  const err = await assertRejects(() =>
    retry(fn, { clock, random: () => 0.5, maxElapsed: 300 })
  );
  assertStrictEquals(err, errors[2]);
  assertEquals(attempts, [1, 2, 3]);
  assertEquals(clock.sleeps, [50, 100]);
});

Deno.test("`retry()` counts the time spent in attempts against maxElapsed", async () => {
  const clock = fakeClock();
  let calls = 0;
  const err = await assertRejects(() =>
    retry(() => {
      calls++;
      clock.advance(100);
      throw refused(calls);
    }, { clock, random: () => 0, maxElapsed: 250, maxAttempts: 10 })
  );
  assertEquals(calls, 3);
  assertEquals((err as Error).message, "refused 3");
});

Deno.test("`retry()` allows a wait that ends exactly at maxElapsed", async () => {
  const clock = fakeClock();
  const { fn, attempts } = failing([refused(1)]);
  assertEquals(
    await retry(fn, { clock, random: () => 0.5, maxElapsed: 50 }),
    "ok",
  );
  assertEquals(attempts, [1, 2]);
  assertEquals(clock.sleeps, [50]);
});

Deno.test("`retry()` rejects with signal.reason when the signal is already aborted", async () => {
  for (const reason of [new Error("stop"), "a string reason"]) {
    const clock = fakeClock();
    let calls = 0;
    const err = await assertRejects(() =>
      retry(() => {
        calls++;
        return 1;
      }, { clock, signal: AbortSignal.abort(reason) })
    );
    assertStrictEquals(err, reason);
    assertEquals(calls, 0);
  }
});

Deno.test("`retry()` rejects with signal.reason when aborted during a wait", async () => {
  const controller = new AbortController();
  const reason = new Error("shutting down");
  let calls = 0;
  let abortTimer: ReturnType<typeof setTimeout> | undefined;
  const started = performance.now();
  const err = await assertRejects(() =>
    retry(() => {
      calls++;
      throw refused(calls);
    }, {
      minDelay: 20_000,
      maxDelay: 20_000,
      random: () => 0.5,
      signal: controller.signal,
      onRetry: () => {
        abortTimer = setTimeout(() => controller.abort(reason), 10);
      },
    })
  );
  clearTimeout(abortTimer);
  assertStrictEquals(err, reason);
  assertEquals(calls, 1);
  assertLess(performance.now() - started, 5000);
});

Deno.test("`retry()` rejects with signal.reason when aborted during an attempt", async () => {
  const controller = new AbortController();
  const reason = new Error("cancelled");
  const clock = fakeClock();
  let calls = 0;
  const err = await assertRejects(() =>
    retry(() => {
      calls++;
      controller.abort(reason);
      throw refused(calls);
    }, { clock, signal: controller.signal })
  );
  assertStrictEquals(err, reason);
  assertEquals(calls, 1);
  assertEquals(clock.sleeps, []);
  // Also when the attempt was the last one.
  const last = new AbortController();
  const lastErr = await assertRejects(() =>
    retry(() => {
      last.abort(reason);
      throw refused(1);
    }, { clock, signal: last.signal, maxAttempts: 1 })
  );
  assertStrictEquals(lastErr, reason);
});

Deno.test("`retry()` calls onRetry with the error, the attempt and the delay before each wait", async () => {
  const clock = fakeClock();
  const errors = [refused(1), refused(2)];
  const { fn } = failing(errors);
  const seen: [unknown, number, number, number][] = [];
  await retry(fn, {
    clock,
    random: () => 0.25,
    minDelay: 40,
    onRetry: (err, attempt, wait) => {
      seen.push([err, attempt, wait, clock.sleeps.length]);
    },
  });
  assertEquals(seen, [
    [errors[0], 1, 10, 0],
    [errors[1], 2, 20, 1],
  ]);
  assertEquals(clock.sleeps, [10, 20]);
});

Deno.test("`retry()` rejects invalid options with RangeError before calling fn", async () => {
  const bad: RetryOptions[] = [
    { maxAttempts: 0 },
    { maxAttempts: -1 },
    { maxAttempts: NaN },
    { minDelay: -1 },
    { minDelay: NaN },
    { minDelay: 200, maxDelay: 100 },
    { maxDelay: NaN },
    { multiplier: 0.5 },
    { multiplier: NaN },
  ];
  for (const options of bad) {
    let calls = 0;
    await assertRejects(
      () =>
        retry(() => {
          calls++;
        }, { ...options, clock: fakeClock() }),
      RangeError,
      "Cannot retry",
      JSON.stringify(options),
    );
    assertEquals(calls, 0, JSON.stringify(options));
  }
});

Deno.test("`retry()` waits on the real clock by default", async () => {
  const { fn, attempts } = failing([refused(1)]);
  const started = performance.now();
  assertEquals(await retry(fn, { minDelay: 5, random: () => 0.99 }), "ok");
  assertEquals(attempts, [1, 2]);
  assertGreaterOrEqual(performance.now() - started, 3);
});

Deno.test("`retry()` waits on a ManualClock, the clock the flow-control tools take", async () => {
  const clock = new ManualClock();
  const { fn, attempts } = failing([refused(1), refused(2)]);
  const running = retry(fn, { clock, random: () => 0.5 });
  await Promise.resolve();
  await Promise.resolve();
  assertEquals([attempts, clock.pending], [[1], 1]);
  clock.advance(49);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals([attempts, clock.pending], [[1], 1]);
  clock.advance(1);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals([attempts, clock.pending], [[1, 2], 1]);
  clock.advance(100);
  assertEquals(await running, "ok");
  assertEquals(attempts, [1, 2, 3]);
});

// ---------------------------------------------------------------------------
// delay

Deno.test("`delay()` resolves after the time", async () => {
  const started = performance.now();
  await delay(20);
  assertGreaterOrEqual(performance.now() - started, 15);
});

Deno.test("`delay()` rejects with signal.reason when the signal is already aborted", async () => {
  const reason = new Error("stop");
  const err = await assertRejects(() =>
    delay(60_000, AbortSignal.abort(reason))
  );
  assertStrictEquals(err, reason);
});

Deno.test("`delay()` rejects with signal.reason on abort and clears its timer", async () => {
  // The op sanitizer fails this test if the 60 s timer is left behind.
  const controller = new AbortController();
  const reason = new Error("stop");
  const started = performance.now();
  const pending = delay(60_000, controller.signal);
  queueMicrotask(() => controller.abort(reason));
  const err = await assertRejects(() => pending);
  assertStrictEquals(err, reason);
  assertLess(performance.now() - started, 5000);
});

Deno.test("`delay()` removes its abort listener when it resolves", async () => {
  const controller = new AbortController();
  const signal = controller.signal;
  let listening = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listening++;
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listening--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  await delay(1, signal);
  assertEquals(listening, 0);
  // A later abort reaches nothing.
  controller.abort();
});
