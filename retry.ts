// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode retry}: call an operation again after a retryable failure,
 * waiting with exponential backoff and full jitter, within an attempt and a
 * time budget; and {@linkcode delay}, the cancellable wait it uses.
 *
 * What is worth retrying is decided by `isRetryable` (in `errors.ts`) by
 * default: refused, reset, timed out, an unreachable host; never a bad
 * certificate, a decode error or an abort by the caller. Time comes from a
 * {@linkcode Clock}, the same one the flow-control tools take, so tests move
 * it by hand instead of sleeping.
 *
 * ```ts
 * import { retry } from "@netkit/net/retry";
 * import { ManualClock } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new ManualClock();
 * const waits: number[] = [];
 * let calls = 0;
 * const running = retry(() => {
 *   if (++calls < 3) throw new Deno.errors.ConnectionRefused("refused");
 *   return "connected";
 * }, {
 *   clock,
 *   random: () => 0.5,
 *   onRetry: (_err, _attempt, wait) => {
 *     waits.push(wait);
 *     queueMicrotask(() => clock.advance(wait));
 *   },
 * });
 * assertEquals(await running, "connected");
 * assertEquals(waits, [50, 100]); // half of the 100 ms cap, then of 200 ms
 * ```
 *
 * @module
 */

import { type Clock, REAL_CLOCK } from "./_clock.ts";
import { isRetryable } from "./errors.ts";

export type { Clock } from "./_clock.ts";

/**
 * The clock {@linkcode retry} takes.
 *
 * @deprecated Use {@linkcode Clock}, the one clock that `retry` and the
 * flow-control tools share.
 */
export type RetryClock = Clock;

/** Options for {@linkcode retry}. */
export interface RetryOptions {
  /**
   * How many times `fn` is called at the most, the first call included.
   *
   * @default {5}
   */
  maxAttempts?: number;
  /**
   * The cap on the backoff before the second attempt, in milliseconds.
   *
   * @default {100}
   */
  minDelay?: number;
  /**
   * The largest backoff cap, in milliseconds.
   *
   * @default {10000}
   */
  maxDelay?: number;
  /**
   * The growth of the backoff cap from one attempt to the next.
   *
   * @default {2}
   */
  multiplier?: number;
  /**
   * The time budget for all attempts and the waits between them, in
   * milliseconds. No wait is started that would end past it.
   *
   * @default {Infinity}
   */
  maxElapsed?: number;
  /**
   * Cancels the attempts and the waits; the promise rejects with
   * `signal.reason`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Decides whether an error is worth another attempt.
   *
   * @default {isRetryable}
   */
  retryable?: (err: unknown, attempt: number) => boolean;
  /**
   * Called before each wait, with the error, the attempt that failed
   * (1-based) and the wait in milliseconds.
   *
   * @default {undefined}
   */
  onRetry?: (err: unknown, attempt: number, delay: number) => void;
  /**
   * The clock; tests pass a {@linkcode ManualClock} or one of their own.
   *
   * @default {REAL_CLOCK}
   */
  clock?: Clock;
  /**
   * A source of uniform numbers in [0, 1) for the jitter.
   *
   * @default {Math.random}
   */
  random?: () => number;
}

/**
 * Resolves after `ms` milliseconds, or rejects with `signal.reason` when the
 * signal aborts first. The timer and the listener are both removed when it
 * settles. It is the sleep of {@linkcode REAL_CLOCK}.
 *
 * @example Usage
 * ```ts
 * import { delay } from "@netkit/net/retry";
 * import { assertRejects } from "@std/assert";
 *
 * await delay(1);
 * await assertRejects(() => delay(1000, AbortSignal.abort(new Error("stop"))), Error, "stop");
 * ```
 *
 * @param ms Milliseconds to wait.
 * @param signal Cancels the wait.
 * @returns A promise that resolves after the wait.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return REAL_CLOCK.sleep(ms, signal);
}

/**
 * Calls `fn` until it succeeds, waiting between attempts with exponential
 * backoff and full jitter: before attempt `n + 1` it waits a uniform random
 * time in `[0, min(maxDelay, minDelay × multiplier^(n−1)))`. It stops at
 * the first error that `retryable` refuses, after `maxAttempts`, or when the
 * next wait would end past `maxElapsed`, and then throws the last error
 * unchanged.
 *
 * @example Retry a flaky operation
 * ```ts
 * import { retry } from "@netkit/net/retry";
 * import { assertEquals } from "@std/assert";
 *
 * let calls = 0;
 * const result = await retry(() => {
 *   if (++calls < 3) throw new Deno.errors.ConnectionRefused("refused");
 *   return "ok";
 * }, { minDelay: 1 });
 * assertEquals([result, calls], ["ok", 3]);
 * ```
 *
 * @typeParam T The result of `fn`.
 * @param fn The operation; it receives the attempt number (1-based).
 * @param options The policy.
 * @returns The first result of `fn` that does not throw.
 * @throws {Error} The last error of `fn`, or `signal.reason`.
 */
export async function retry<T>(
  fn: (attempt: number) => T | Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const {
    maxAttempts = 5,
    minDelay = 100,
    maxDelay = 10_000,
    multiplier = 2,
    maxElapsed = Infinity,
    signal,
    retryable = isRetryable,
    onRetry,
    clock = REAL_CLOCK,
    random = Math.random,
  } = options;
  if (!(maxAttempts >= 1)) {
    throw new RangeError(
      `Cannot retry: maxAttempts must be at least 1, received ${maxAttempts}`,
    );
  }
  if (!(minDelay >= 0) || !(maxDelay >= minDelay) || !(multiplier >= 1)) {
    throw new RangeError(
      `Cannot retry: expected 0 <= minDelay <= maxDelay and multiplier >= 1, received minDelay ${minDelay}, maxDelay ${maxDelay}, multiplier ${multiplier}`,
    );
  }
  const start = clock.now();
  for (let attempt = 1;; attempt++) {
    if (signal?.aborted) throw signal.reason;
    try {
      return await fn(attempt);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (attempt >= maxAttempts || !retryable(err, attempt)) throw err;
      const cap = Math.min(maxDelay, minDelay * multiplier ** (attempt - 1));
      const wait = Math.floor(random() * cap);
      if (clock.now() - start + wait > maxElapsed) throw err;
      onRetry?.(err, attempt, wait);
      await clock.sleep(wait, signal);
    }
  }
}
