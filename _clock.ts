// Copyright 2026 the netkit authors. MIT license.
// Private: the one clock that the flow-control tools and retry share, the
// real one, and one moved by hand for tests. A leaf: it imports nothing.
// flow.ts and retry.ts re-export what is public here.

/**
 * A source of time for the flow-control tools and for `retry`: a monotonic
 * reading in milliseconds and a cancellable sleep. {@linkcode REAL_CLOCK}
 * is the real one; {@linkcode ManualClock} is moved by hand in tests.
 *
 * @example Implement a clock
 * ```ts
 * import { type Clock, TokenBucket } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const frozen: Clock = {
 *   now: () => 0,
 *   sleep: () => new Promise(() => {}),
 * };
 * const bucket = new TokenBucket({ rate: 1, clock: frozen });
 * assertEquals(bucket.tryTake(), true);
 * assertEquals(bucket.tryTake(), false);
 * ```
 */
export interface Clock {
  /**
   * Reads the clock.
   *
   * @returns Milliseconds on a monotonic scale.
   */
  now(): number;
  /**
   * Waits.
   *
   * @param ms Milliseconds to wait.
   * @param signal Cancels the wait.
   * @returns A promise that resolves after `ms` milliseconds, or rejects
   * with `signal.reason` when the signal aborts first.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock: `performance.now()` and a `setTimeout` sleep that removes
 * its timer and its abort listener when it settles.
 *
 * @example Usage
 * ```ts
 * import { REAL_CLOCK } from "@netkit/net/flow";
 * import { assert } from "@std/assert";
 *
 * const start = REAL_CLOCK.now();
 * await REAL_CLOCK.sleep(1);
 * assert(REAL_CLOCK.now() >= start);
 * ```
 */
export const REAL_CLOCK: Clock = Object.freeze({
  now: (): number => performance.now(),
  sleep,
});

/**
 * The real clock's sleep: a `setTimeout` that removes its timer and its
 * abort listener when it settles. Public as `delay` (retry.ts).
 */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface Sleeper {
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

/**
 * A clock that moves only when told to, for deterministic tests of
 * rate-limited code: pass it as `clock` and call
 * {@linkcode ManualClock.prototype.advance} instead of sleeping.
 *
 * @example Test a token bucket without sleeping
 * ```ts
 * import { ManualClock, TokenBucket } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new ManualClock();
 * const bucket = new TokenBucket({ rate: 2, burst: 1, clock });
 * await bucket.take(); // the bucket starts full
 * let done = false;
 * const second = bucket.take().then(() => done = true);
 * clock.advance(499);
 * await Promise.resolve();
 * assertEquals(done, false);
 * clock.advance(1);
 * await second;
 * assertEquals(done, true);
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: Sleeper[] = [];

  /**
   * Constructs a new instance.
   *
   * @param start The first reading, in milliseconds.
   * @throws {RangeError} If `start` is not a finite number.
   */
  constructor(start = 0) {
    if (!Number.isFinite(start)) {
      throw new RangeError(
        `Cannot create clock: start must be a finite number, received ${start}`,
      );
    }
    this.#now = start;
  }

  /**
   * Reads the clock.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new ManualClock(1000);
   * clock.advance(5);
   * assertEquals(clock.now(), 1005);
   * ```
   *
   * @returns The current time in milliseconds.
   */
  now(): number {
    return this.#now;
  }

  /**
   * The number of sleeps that have not settled yet.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new ManualClock();
   * const sleeping = clock.sleep(10);
   * assertEquals(clock.pending, 1);
   * clock.advance(10);
   * await sleeping;
   * assertEquals(clock.pending, 0);
   * ```
   *
   * @returns The number of pending sleeps.
   */
  get pending(): number {
    return this.#sleepers.length;
  }

  /**
   * Waits until the clock has been advanced by `ms` milliseconds. A wait of
   * zero or less resolves at once.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "@netkit/net/flow";
   * import { assertRejects } from "@std/assert";
   *
   * const clock = new ManualClock();
   * const controller = new AbortController();
   * const sleeping = clock.sleep(1000, controller.signal);
   * controller.abort(new Error("stop"));
   * await assertRejects(() => sleeping, Error, "stop");
   * ```
   *
   * @param ms Milliseconds to wait.
   * @param signal Cancels the wait.
   * @returns A promise that resolves when the clock reaches the deadline,
   * or rejects with `signal.reason` when the signal aborts first.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = signal && (() => {
        const i = this.#sleepers.indexOf(sleeper);
        if (i !== -1) this.#sleepers.splice(i, 1);
        reject(signal.reason);
      });
      const sleeper: Sleeper = {
        deadline: this.#now + ms,
        resolve,
        reject,
        signal,
        onAbort,
      };
      // Keep the list sorted by deadline; equal deadlines stay in call order.
      let i = this.#sleepers.length;
      while (i > 0 && this.#sleepers[i - 1]!.deadline > sleeper.deadline) i--;
      this.#sleepers.splice(i, 0, sleeper);
      if (signal) signal.addEventListener("abort", onAbort!, { once: true });
    });
  }

  /**
   * Moves the clock forward and resolves, in deadline order, every sleep
   * whose deadline has been reached. The sleepers' continuations run as
   * microtasks afterwards, all seeing the new time.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new ManualClock();
   * const order: number[] = [];
   * const a = clock.sleep(20).then(() => order.push(20));
   * const b = clock.sleep(10).then(() => order.push(10));
   * clock.advance(25);
   * await Promise.all([a, b]);
   * assertEquals(order, [10, 20]);
   * ```
   *
   * @param ms Milliseconds to move forward.
   * @throws {RangeError} If `ms` is negative or not finite.
   */
  advance(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) {
      throw new RangeError(
        `Cannot advance clock: ms must be a non-negative finite number, received ${ms}`,
      );
    }
    this.#now += ms;
    let due = 0;
    while (
      due < this.#sleepers.length &&
      this.#sleepers[due]!.deadline <= this.#now
    ) due++;
    if (due === 0) return;
    for (const sleeper of this.#sleepers.splice(0, due)) {
      if (sleeper.signal) {
        sleeper.signal.removeEventListener("abort", sleeper.onAbort!);
      }
      sleeper.resolve();
    }
  }
}
