// Copyright 2026 the netkit authors. MIT license.

/**
 * Flow control without I/O: how fast, how many at once, and how much may be
 * buffered. Each question has one tool.
 *
 * - **Rate** — {@linkcode TokenBucket}, modelled on Go's
 *   `golang.org/x/time/rate`: tokens refill continuously at `rate` per
 *   second into a bucket that holds at most `burst`, and starts full. Over
 *   any interval of `t` seconds at most `burst + rate × t` tokens are
 *   taken. {@linkcode throttle} shapes a stream of bytes or messages with
 *   one.
 * - **In flight** — {@linkcode InFlightWindow}: for pipelined
 *   request/response, throughput ≈ window / round-trip time. A window of 8
 *   over a 20 ms round trip carries about 8 / 0.020 = 400 requests per
 *   second; to go faster, widen the window or shorten the trip.
 * - **Concurrency** — {@linkcode Semaphore}: at most `permits` handlers run
 *   at once. The window and the semaphore share one FIFO permit queue: a
 *   released permit passes straight to the oldest waiter, so nobody is
 *   starved by latecomers.
 * - **Backpressure** — {@linkcode WaterMarks}: a write buffer stops taking
 *   data at the high mark and starts again only at the low mark. The gap
 *   (hysteresis) keeps a busy writer from flapping between the two states on
 *   every byte.
 *
 * Every wait takes a `signal`: an aborted waiter rejects with
 * `signal.reason` and leaves its queue at once, so it never holds a token
 * or a permit. Waiters are served first in, first out.
 *
 * The states and their transitions:
 *
 * ```text
 * TokenBucket waiter   queued ──tokens for each piece──▶ resolved
 *                      queued ──signal aborts─────────▶ rejected
 *                      (pieces already taken stay spent; the rest is never taken)
 *
 * permit (window,      waiting ──a permit is free──▶ held ──release()──▶ free
 * semaphore)           waiting ──signal aborts─────▶ rejected (holds nothing)
 *
 * WaterMarks           writable ──add(): buffered >= high──▶ blocked
 *                      blocked  ──remove(): buffered <= low──▶ writable (waiters resolve)
 *                      any      ──close(reason)─────────────▶ closed (waiters reject)
 * ```
 *
 * Time comes from a {@linkcode Clock}, the same one `retry` takes. The
 * default is the real one ({@linkcode REAL_CLOCK}); tests pass a
 * {@linkcode ManualClock} and move time by hand, so rate-limited code is
 * tested without sleeping.
 *
 * This module only re-exports: each family lives in its own file under
 * `flow/` (`token_bucket.ts`, `throttle.ts`, `in_flight_window.ts`,
 * `semaphore.ts`, `water_marks.ts`), with its tests beside it.
 *
 * ```ts
 * import { ManualClock, TokenBucket } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new ManualClock();
 * const bucket = new TokenBucket({ rate: 10, burst: 5, clock });
 * assertEquals(bucket.tryTake(5), true); // the bucket starts full
 * assertEquals(bucket.tryTake(1), false);
 * clock.advance(100); // 100 ms at 10 tokens per second refills 1 token
 * assertEquals(bucket.tryTake(1), true);
 * ```
 *
 * @module
 */

export { type Clock, ManualClock, REAL_CLOCK } from "./_clock.ts";
export * from "./flow/in_flight_window.ts";
export * from "./flow/semaphore.ts";
export * from "./flow/throttle.ts";
export * from "./flow/token_bucket.ts";
export * from "./flow/water_marks.ts";
export type { WaitOptions } from "./flow/_wait_queue.ts";
