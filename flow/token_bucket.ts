// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode TokenBucket}: a rate limiter modelled on Go's
 * `golang.org/x/time/rate`.
 *
 * @module
 */

import { type Clock, REAL_CLOCK } from "../_clock.ts";
import {
  checkNumber,
  RESOLVED,
  type Waiter,
  type WaitOptions,
  WaitQueue,
} from "./_wait_queue.ts";

/** Options for {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /**
   * Tokens added per second, continuously. `Infinity` means no limit:
   * every take succeeds at once.
   */
  rate: number;
  /**
   * The size of the bucket: the most tokens that can be taken at once. A
   * positive integer.
   *
   * @default {one second's worth: Math.floor(rate), at least 1 (Infinity when rate is Infinity)}
   */
  burst?: number;
  /**
   * The clock; tests pass a {@linkcode ManualClock}.
   *
   * @default {REAL_CLOCK}
   */
  clock?: Clock;
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(
      `Cannot ${what}: n must be a non-negative integer, received ${n}`,
    );
  }
}

/** Whether `tokens` covers `n`, forgiving floating-point rounding. */
function covers(tokens: number, n: number): boolean {
  return tokens + 1e-9 * (n > 1 ? n : 1) >= n;
}

/**
 * A token bucket rate limiter, modelled on Go's `golang.org/x/time/rate`.
 *
 * Tokens refill continuously at `rate` per second up to `burst`, and the
 * bucket starts full. {@linkcode TokenBucket.prototype.tryTake} takes
 * tokens now or not at all; {@linkcode TokenBucket.prototype.take} waits
 * for them.
 *
 * Waiters are served first in, first out: while anyone waits, `tryTake()`
 * fails and a new `take()` queues behind, so a large request is never
 * starved by a stream of small ones. A request larger than the burst is
 * split into burst-sized pieces taken one after another, so `take(n)`
 * completes `(n - available) / rate` seconds after an idle start, just as if
 * the bucket could go into debt.
 *
 * @example Limit a loop to 100 operations per second
 * ```ts
 * import { ManualClock, TokenBucket } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new ManualClock();
 * const bucket = new TokenBucket({ rate: 100, burst: 10, clock });
 * assertEquals(bucket.available, 10);
 * assertEquals(bucket.delayFor(30), 200); // 20 more tokens at 100 per second
 * const taking = bucket.take(30);
 * clock.advance(200);
 * await taking;
 * assertEquals(bucket.available, 0);
 * ```
 */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #clock: Clock;
  #tokens: number;
  #last: number;
  /** Tokens still owed to the waiters. */
  #queued = 0;
  #waiters: WaitQueue;
  #timer: AbortController | undefined = undefined;

  /**
   * Constructs a new instance, with a full bucket.
   *
   * @param options The rate, the burst and the clock.
   * @throws {TypeError} If `rate` or `burst` is not a number.
   * @throws {RangeError} If `rate` is not positive, or `burst` is not a
   * positive integer (`Infinity` is allowed only with an infinite rate).
   */
  constructor(options: TokenBucketOptions) {
    const { rate, clock = REAL_CLOCK } = options;
    checkNumber(rate, "rate", "create token bucket");
    if (!(rate > 0)) {
      throw new RangeError(
        `Cannot create token bucket: rate must be a positive number or Infinity, received ${rate}`,
      );
    }
    const burst = options.burst ??
      (rate === Infinity ? Infinity : Math.max(1, Math.floor(rate)));
    checkNumber(burst, "burst", "create token bucket");
    if (
      !(burst >= 1) ||
      (!Number.isSafeInteger(burst) &&
        !(burst === Infinity && rate === Infinity))
    ) {
      throw new RangeError(
        `Cannot create token bucket: burst must be an integer of at least 1, received ${burst}`,
      );
    }
    this.#rate = rate;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
    this.#waiters = new WaitQueue((waiter, wasFirst) => {
      this.#queued -= waiter.amount;
      if (wasFirst) {
        this.#cancelTimer();
        this.#update();
      }
    });
  }

  /**
   * The refill rate, in tokens per second.
   *
   * @example Usage
   * ```ts
   * import { TokenBucket } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new TokenBucket({ rate: 50 }).rate, 50);
   * ```
   *
   * @returns The rate.
   */
  get rate(): number {
    return this.#rate;
  }

  /**
   * The size of the bucket.
   *
   * @example Usage
   * ```ts
   * import { TokenBucket } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new TokenBucket({ rate: 50 }).burst, 50);
   * assertEquals(new TokenBucket({ rate: 0.5 }).burst, 1);
   * ```
   *
   * @returns The burst.
   */
  get burst(): number {
    return this.#burst;
  }

  /**
   * The tokens in the bucket now; a fraction while it refills. `Infinity`
   * when the rate is.
   *
   * @example Usage
   * ```ts
   * import { ManualClock, TokenBucket } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new ManualClock();
   * const bucket = new TokenBucket({ rate: 10, clock });
   * bucket.tryTake(10);
   * clock.advance(50);
   * assertEquals(bucket.available, 0.5);
   * ```
   *
   * @returns The tokens available.
   */
  get available(): number {
    if (this.#rate === Infinity) return Infinity;
    this.#update();
    return this.#tokens;
  }

  /**
   * The number of `take()` calls waiting for tokens.
   *
   * @example Usage
   * ```ts
   * import { ManualClock, TokenBucket } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new ManualClock();
   * const bucket = new TokenBucket({ rate: 1, clock });
   * await bucket.take();
   * const waiting = bucket.take();
   * assertEquals(bucket.waiting, 1);
   * clock.advance(1000);
   * await waiting;
   * assertEquals(bucket.waiting, 0);
   * ```
   *
   * @returns The number of waiters.
   */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Takes `n` tokens if they are available now and nobody is waiting;
   * otherwise takes nothing. A request larger than the burst is never
   * split here, so it always fails (unless the rate is infinite).
   *
   * @example Usage
   * ```ts
   * import { ManualClock, TokenBucket } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new ManualClock();
   * const bucket = new TokenBucket({ rate: 1, burst: 3, clock });
   * assertEquals(bucket.tryTake(4), false);
   * assertEquals(bucket.tryTake(3), true);
   * assertEquals(bucket.tryTake(), false);
   * ```
   *
   * @param n The number of tokens.
   * @returns Whether the tokens were taken.
   * @throws {RangeError} If `n` is not a non-negative integer.
   */
  tryTake(n = 1): boolean {
    checkCount(n, "take tokens");
    if (n === 0 || this.#rate === Infinity) return true;
    if (n > this.#burst) return false;
    this.#update();
    if (this.#waiters.length > 0 || !covers(this.#tokens, n)) return false;
    this.#tokens = Math.max(0, this.#tokens - n);
    return true;
  }

  /**
   * Waits until `n` tokens have been taken. Waiters are served in call
   * order. A request larger than the burst is split into burst-sized pieces
   * taken one after another.
   *
   * When `signal` aborts, the promise rejects with `signal.reason` and the
   * waiter leaves the queue: pieces already taken stay spent, the rest is
   * never taken, and the next waiter is served.
   *
   * @example Usage
   * ```ts
   * import { ManualClock, TokenBucket } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new ManualClock();
   * const bucket = new TokenBucket({ rate: 10, burst: 10, clock });
   * const start = clock.now();
   * const taking = bucket.take(25); // 10 now, then 10 and 5 more
   * clock.advance(1500);
   * await taking;
   * assertEquals(clock.now() - start, 1500);
   * ```
   *
   * @param n The number of tokens.
   * @param options The abort signal.
   * @returns A promise that resolves when the tokens have been taken.
   * @throws {RangeError} If `n` is not a non-negative integer.
   */
  take(n = 1, options: WaitOptions = {}): Promise<void> {
    checkCount(n, "take tokens");
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (n === 0 || this.#rate === Infinity) return RESOLVED;
    this.#update();
    if (
      this.#waiters.length === 0 && n <= this.#burst &&
      covers(this.#tokens, n)
    ) {
      this.#tokens = Math.max(0, this.#tokens - n);
      return RESOLVED;
    }
    this.#queued += n;
    const promise = this.#waiters.wait(n, signal);
    this.#update();
    return promise;
  }

  /**
   * Tells how long a `take(n)` started now would wait: the time for the
   * bucket to refill the tokens owed to the waiters already queued plus
   * `n`, less what it holds.
   *
   * @example Usage
   * ```ts
   * import { ManualClock, TokenBucket } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new ManualClock();
   * const bucket = new TokenBucket({ rate: 4, clock });
   * assertEquals(bucket.delayFor(4), 0);
   * assertEquals(bucket.delayFor(6), 500);
   * ```
   *
   * @param n The number of tokens.
   * @returns The wait in milliseconds; 0 when the tokens are there now.
   * @throws {RangeError} If `n` is not a non-negative integer.
   */
  delayFor(n = 1): number {
    checkCount(n, "compute delay");
    if (n === 0 || this.#rate === Infinity) return 0;
    this.#update();
    const owed = this.#queued + n;
    if (covers(this.#tokens, owed)) return 0;
    return (owed - this.#tokens) * 1000 / this.#rate;
  }

  /**
   * Brings the bucket up to now: serves the due waiters in order, each
   * piece at the moment its tokens were complete (so a late timer loses
   * nothing to the burst cap), then refills. Sets a timer for the head of
   * the queue when it changed or has none.
   */
  #update(): void {
    const now = this.#clock.now();
    const before = this.#waiters.first;
    for (let w = before; w; w = this.#waiters.first) {
      const piece = w.amount < this.#burst ? w.amount : this.#burst;
      if (!covers(this.#tokens, piece)) {
        const ready = this.#last + (piece - this.#tokens) * 1000 / this.#rate;
        if (ready > now + 1e-6) break;
        this.#tokens = piece;
        if (ready > this.#last) this.#last = ready;
      }
      this.#tokens = Math.max(0, this.#tokens - piece);
      w.amount -= piece;
      this.#queued -= piece;
      if (w.amount === 0) this.#waiters.resolve(w);
    }
    if (now > this.#last) {
      const tokens = this.#tokens + (now - this.#last) * this.#rate / 1000;
      this.#tokens = tokens < this.#burst ? tokens : this.#burst;
      this.#last = now;
    }
    const head = this.#waiters.first;
    if (head !== before || (head && !this.#timer)) this.#schedule(head);
  }

  #schedule(head: Waiter | undefined): void {
    this.#cancelTimer();
    if (!head) return;
    const piece = head.amount < this.#burst ? head.amount : this.#burst;
    const wait = (piece - this.#tokens) * 1000 / this.#rate;
    const timer = new AbortController();
    this.#timer = timer;
    this.#clock.sleep(wait, timer.signal).then(() => {
      if (this.#timer !== timer) return;
      this.#timer = undefined;
      this.#update();
    }, () => {});
  }

  #cancelTimer(): void {
    const timer = this.#timer;
    if (timer) {
      this.#timer = undefined;
      timer.abort();
    }
  }
}
