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
 * Time comes from a {@linkcode Clock}. The default is the real one
 * ({@linkcode REAL_CLOCK}); tests pass a {@linkcode ManualClock} and move
 * time by hand, so rate-limited code is tested without sleeping.
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

import { type Clock, REAL_CLOCK } from "./_clock.ts";
import { ConnectionClosedError } from "./errors.ts";

export { type Clock, ManualClock, REAL_CLOCK } from "./_clock.ts";

// ---------------------------------------------------------------------------
// The FIFO wait queue behind every waiting method

const RESOLVED: Promise<void> = Promise.resolve();

/** One waiter: a node of the queue, and its own abort listener. */
class Waiter implements EventListenerObject {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  linked = true;
  constructor(
    readonly queue: WaitQueue,
    public amount: number,
    readonly resolve: () => void,
    readonly reject: (reason: unknown) => void,
    readonly signal: AbortSignal | undefined,
  ) {}
  handleEvent(): void {
    this.queue.abort(this);
  }
}

/**
 * A first-in, first-out queue of waiters (a doubly linked list, so an
 * aborted waiter leaves from anywhere in O(1)).
 */
class WaitQueue {
  #head: Waiter | undefined = undefined;
  #tail: Waiter | undefined = undefined;
  #length = 0;
  #onAbort: ((waiter: Waiter, wasFirst: boolean) => void) | undefined;

  constructor(onAbort?: (waiter: Waiter, wasFirst: boolean) => void) {
    this.#onAbort = onAbort;
  }

  get length(): number {
    return this.#length;
  }

  get first(): Waiter | undefined {
    return this.#head;
  }

  /** Queues a waiter; the caller has checked that `signal` is not aborted. */
  wait(amount: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = new Waiter(this, amount, resolve, reject, signal);
      waiter.prev = this.#tail;
      if (this.#tail) this.#tail.next = waiter;
      else this.#head = waiter;
      this.#tail = waiter;
      this.#length++;
      signal?.addEventListener("abort", waiter, { once: true });
    });
  }

  resolve(waiter: Waiter): void {
    this.#unlink(waiter);
    waiter.resolve();
  }

  resolveAll(): void {
    while (this.#head) this.resolve(this.#head);
  }

  rejectAll(reason: unknown): void {
    while (this.#head) {
      const waiter = this.#head;
      this.#unlink(waiter);
      waiter.reject(reason);
    }
  }

  abort(waiter: Waiter): void {
    if (!waiter.linked) return;
    const wasFirst = waiter === this.#head;
    this.#unlink(waiter);
    waiter.reject(waiter.signal!.reason);
    this.#onAbort?.(waiter, wasFirst);
  }

  #unlink(waiter: Waiter): void {
    waiter.linked = false;
    if (waiter.prev) waiter.prev.next = waiter.next;
    else this.#head = waiter.next;
    if (waiter.next) waiter.next.prev = waiter.prev;
    else this.#tail = waiter.prev;
    waiter.prev = waiter.next = undefined;
    this.#length--;
    waiter.signal?.removeEventListener("abort", waiter);
  }
}

/** Options for the methods that wait. */
export interface WaitOptions {
  /**
   * Cancels the wait: the promise rejects with `signal.reason` and the
   * waiter leaves the queue, holding nothing.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------
// Token bucket

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

function checkNumber(value: unknown, name: string, what: string): void {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${what}: ${name} must be a number, received ${typeof value}`,
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

// ---------------------------------------------------------------------------
// throttle

/** Options for {@linkcode throttle}. Give exactly one of the two rates. */
export interface ThrottleOptions {
  /**
   * Shape by bytes: each chunk costs its byte length (a string its UTF-8
   * length). A `Uint8Array` larger than the burst is passed on in
   * burst-sized pieces so the output stays smooth; other chunks are held
   * whole until their cost is paid.
   *
   * @default {undefined}
   */
  bytesPerSecond?: number;
  /**
   * Shape by messages: each chunk costs 1.
   *
   * @default {undefined}
   */
  messagesPerSecond?: number;
  /**
   * The size of the bucket: how many bytes or messages may pass at once
   * after a quiet spell.
   *
   * @default {one second's worth: Math.floor(rate), at least 1}
   */
  burst?: number;
  /**
   * The clock; tests pass a {@linkcode ManualClock}.
   *
   * @default {REAL_CLOCK}
   */
  clock?: Clock;
  /**
   * Errors the stream with `signal.reason` when it aborts, also in the
   * middle of a wait.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

function byteCost(chunk: unknown): number {
  if (typeof chunk === "string") return utf8Length(chunk);
  if (typeof chunk === "object" && chunk !== null) {
    const length = (chunk as { byteLength?: unknown }).byteLength;
    if (typeof length === "number" && Number.isSafeInteger(length)) {
      return length;
    }
  }
  throw new TypeError(
    `Cannot throttle chunk: expected a Uint8Array, a string or an object with a byteLength, received ${
      chunk === null ? "null" : typeof chunk
    }`,
  );
}

/**
 * Makes a `TransformStream` that passes chunks through unchanged, no faster
 * than the given rate: a {@linkcode TokenBucket} sits between its sides,
 * and each chunk waits for its cost. Backpressure does the rest: while a
 * chunk waits, writes to the stream wait too.
 *
 * @example Shape a byte stream
 * ```ts
 * import { ManualClock, throttle } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new ManualClock();
 * const stream = ReadableStream.from([new Uint8Array(250)])
 *   .pipeThrough(throttle({ bytesPerSecond: 100, clock }));
 * const reader = stream.getReader();
 * assertEquals((await reader.read()).value?.length, 100); // the first burst
 * const next = reader.read();
 * clock.advance(1000);
 * assertEquals((await next).value?.length, 100);
 * const last = reader.read();
 * clock.advance(500);
 * assertEquals((await last).value?.length, 50);
 * assertEquals((await reader.read()).done, true);
 * ```
 *
 * @example Shape a stream of messages
 * ```ts
 * import { ManualClock, throttle } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new ManualClock();
 * const stream = ReadableStream.from(["a", "b"])
 *   .pipeThrough(throttle<string>({ messagesPerSecond: 10, burst: 1, clock }));
 * const reader = stream.getReader();
 * assertEquals((await reader.read()).value, "a");
 * const next = reader.read();
 * clock.advance(100);
 * assertEquals((await next).value, "b");
 * ```
 *
 * @typeParam T The chunk type.
 * @param options The rate (exactly one of `bytesPerSecond` and
 * `messagesPerSecond`), the burst, the clock and the signal.
 * @returns The shaping stream.
 * @throws {TypeError} If neither or both of the rates are given, or a rate
 * or the burst is not a number.
 * @throws {RangeError} If the rate is not positive or the burst is not a
 * positive integer.
 */
export function throttle<T = Uint8Array>(
  options: ThrottleOptions,
): TransformStream<T, T> {
  const { bytesPerSecond, messagesPerSecond, burst, clock, signal } = options;
  if ((bytesPerSecond === undefined) === (messagesPerSecond === undefined)) {
    throw new TypeError(
      `Cannot throttle: exactly one of bytesPerSecond and messagesPerSecond must be given, received ${
        bytesPerSecond === undefined ? "neither" : "both"
      }`,
    );
  }
  const bytes = bytesPerSecond !== undefined;
  const rate = bytes ? bytesPerSecond : messagesPerSecond!;
  const bucket = new TokenBucket({
    rate,
    ...(burst !== undefined ? { burst } : {}),
    ...(clock !== undefined ? { clock } : {}),
  });
  const size = bucket.burst;
  const cancel = new AbortController();
  const waitSignal = signal
    ? AbortSignal.any([signal, cancel.signal])
    : cancel.signal;
  let onAbort: (() => void) | undefined;
  const stop = () => {
    if (onAbort) signal!.removeEventListener("abort", onAbort);
    onAbort = undefined;
  };
  return new TransformStream<T, T>({
    start(controller) {
      if (!signal) return;
      if (signal.aborted) return controller.error(signal.reason);
      onAbort = () => {
        onAbort = undefined;
        controller.error(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    },
    async transform(chunk, controller) {
      try {
        if (!bytes) {
          await bucket.take(1, { signal: waitSignal });
          controller.enqueue(chunk);
          return;
        }
        const cost = byteCost(chunk);
        if (chunk instanceof Uint8Array && cost > size) {
          for (let offset = 0; offset < cost; offset += size) {
            const end = Math.min(cost, offset + size);
            await bucket.take(end - offset, { signal: waitSignal });
            controller.enqueue(chunk.subarray(offset, end) as T);
          }
          return;
        }
        await bucket.take(cost, { signal: waitSignal });
        controller.enqueue(chunk);
      } catch (err) {
        stop();
        throw err;
      }
    },
    flush() {
      stop();
    },
    cancel(reason) {
      stop();
      cancel.abort(reason);
    },
  });
}

// ---------------------------------------------------------------------------
// Permits: the window and the semaphore

/** The FIFO permit queue that both the window and the semaphore are. */
class PermitQueue {
  readonly size: number;
  #held = 0;
  #waiters = new WaitQueue();

  constructor(size: number, what: string, name: string) {
    checkNumber(size, name, what);
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(
        `Cannot ${what}: ${name} must be a positive integer, received ${size}`,
      );
    }
    this.size = size;
  }

  get held(): number {
    return this.#held;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  tryAcquire(): boolean {
    if (this.#held < this.size && this.#waiters.length === 0) {
      this.#held++;
      return true;
    }
    return false;
  }

  acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return RESOLVED;
    return this.#waiters.wait(1, signal);
  }

  /** Frees a permit, handing it straight to the oldest waiter if any. */
  release(): boolean {
    if (this.#held === 0) return false;
    const next = this.#waiters.first;
    if (next) this.#waiters.resolve(next);
    else this.#held--;
    return true;
  }
}

/**
 * An in-flight limit for pipelined request/response: at most `size`
 * requests are sent and not yet answered. Throughput ≈ size / round-trip
 * time, so a window of 8 over a 20 ms round trip carries about 400
 * requests per second.
 *
 * Acquire before sending a request and release when its response arrives;
 * or wrap both in {@linkcode InFlightWindow.prototype.run}. Waiters are
 * served first in, first out.
 *
 * @example Pipeline requests, at most two in flight
 * ```ts
 * import { InFlightWindow } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const win = new InFlightWindow(2);
 * let peak = 0;
 * const results = await Promise.all([1, 2, 3, 4, 5].map((id) =>
 *   win.run(async () => {
 *     peak = Math.max(peak, win.inFlight);
 *     await Promise.resolve(); // the round trip
 *     return id * 10;
 *   })
 * ));
 * assertEquals(results, [10, 20, 30, 40, 50]);
 * assertEquals(peak, 2);
 * assertEquals(win.inFlight, 0);
 * ```
 */
export class InFlightWindow {
  #queue: PermitQueue;

  /**
   * Constructs a new instance.
   *
   * @param size The most requests in flight at once.
   * @throws {RangeError} If `size` is not a positive integer.
   */
  constructor(size: number) {
    this.#queue = new PermitQueue(size, "create window", "size");
  }

  /**
   * The most requests in flight at once.
   *
   * @example Usage
   * ```ts
   * import { InFlightWindow } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new InFlightWindow(16).size, 16);
   * ```
   *
   * @returns The window size.
   */
  get size(): number {
    return this.#queue.size;
  }

  /**
   * The requests in flight now.
   *
   * @example Usage
   * ```ts
   * import { InFlightWindow } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const win = new InFlightWindow(4);
   * win.tryAcquire();
   * assertEquals(win.inFlight, 1);
   * ```
   *
   * @returns The number in flight.
   */
  get inFlight(): number {
    return this.#queue.held;
  }

  /**
   * The requests waiting for room in the window.
   *
   * @example Usage
   * ```ts
   * import { InFlightWindow } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const win = new InFlightWindow(1);
   * await win.acquire();
   * const next = win.acquire();
   * assertEquals(win.waiting, 1);
   * win.release();
   * await next;
   * assertEquals(win.waiting, 0);
   * ```
   *
   * @returns The number of waiters.
   */
  get waiting(): number {
    return this.#queue.waiting;
  }

  /**
   * Waits until fewer than `size` requests are in flight, then counts one
   * more. Waiters are served in call order.
   *
   * @example Usage
   * ```ts
   * import { InFlightWindow } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const win = new InFlightWindow(1);
   * await win.acquire();
   * const next = win.acquire();
   * win.release(); // the first response arrived
   * await next;
   * assertEquals(win.inFlight, 1);
   * ```
   *
   * @param options The abort signal.
   * @returns A promise that resolves when the request may be sent, or
   * rejects with `signal.reason`.
   */
  acquire(options: WaitOptions = {}): Promise<void> {
    return this.#queue.acquire(options.signal);
  }

  /**
   * Counts one more request in flight if there is room now and nobody is
   * waiting.
   *
   * @example Usage
   * ```ts
   * import { InFlightWindow } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const win = new InFlightWindow(1);
   * assertEquals(win.tryAcquire(), true);
   * assertEquals(win.tryAcquire(), false);
   * ```
   *
   * @returns Whether a request may be sent.
   */
  tryAcquire(): boolean {
    return this.#queue.tryAcquire();
  }

  /**
   * Counts one request fewer in flight, letting the oldest waiter in.
   *
   * @example Usage
   * ```ts
   * import { InFlightWindow } from "@netkit/net/flow";
   * import { assertEquals, assertThrows } from "@std/assert";
   *
   * const win = new InFlightWindow(1);
   * win.tryAcquire();
   * win.release();
   * assertEquals(win.inFlight, 0);
   * assertThrows(() => win.release(), RangeError);
   * ```
   *
   * @throws {RangeError} If no request is in flight.
   */
  release(): void {
    if (!this.#queue.release()) {
      throw new RangeError("Cannot release: no request is in flight");
    }
  }

  /**
   * Acquires, calls `fn`, and releases when it settles.
   *
   * @example Usage
   * ```ts
   * import { InFlightWindow } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const win = new InFlightWindow(1);
   * assertEquals(await win.run(() => "pong"), "pong");
   * assertEquals(win.inFlight, 0);
   * ```
   *
   * @typeParam T The result of `fn`.
   * @param fn The request and its response.
   * @param options The abort signal, for the wait only.
   * @returns The result of `fn`.
   * @throws {Error} What `fn` throws, or `signal.reason`.
   */
  async run<T>(
    fn: () => T | PromiseLike<T>,
    options: WaitOptions = {},
  ): Promise<T> {
    await this.#queue.acquire(options.signal);
    try {
      return await fn();
    } finally {
      this.#queue.release();
    }
  }
}

/**
 * Makes an {@linkcode InFlightWindow}: an in-flight limit for pipelined
 * request/response.
 *
 * @example Usage
 * ```ts
 * import { window } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const win = window(8);
 * assertEquals([win.size, win.inFlight], [8, 0]);
 * ```
 *
 * @param size The most requests in flight at once.
 * @returns The window.
 * @throws {RangeError} If `size` is not a positive integer.
 */
export function window(size: number): InFlightWindow {
  return new InFlightWindow(size);
}

/**
 * A permit from a {@linkcode Semaphore}. Release it once, by hand or with
 * `using`; releasing again does nothing.
 */
export interface Permit extends Disposable {
  /** Whether the permit has been released. */
  readonly released: boolean;
  /** Gives the permit back to its semaphore; later calls do nothing. */
  release(): void;
}

class SemaphorePermit implements Permit {
  #queue: PermitQueue | undefined;

  constructor(queue: PermitQueue) {
    this.#queue = queue;
  }

  get released(): boolean {
    return this.#queue === undefined;
  }

  release(): void {
    const queue = this.#queue;
    this.#queue = undefined;
    queue?.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A concurrency limit: at most `permits` holders at once, such as
 * connection handlers doing expensive work. A released permit passes
 * straight to the oldest waiter.
 *
 * @example Limit handlers with `using`
 * ```ts
 * import { Semaphore } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const sem = new Semaphore(2);
 * let running = 0;
 * let peak = 0;
 * async function handle() {
 *   using _permit = await sem.acquire();
 *   peak = Math.max(peak, ++running);
 *   await Promise.resolve();
 *   running--;
 * }
 * await Promise.all([handle(), handle(), handle(), handle()]);
 * assertEquals(peak, 2);
 * assertEquals(sem.available, 2);
 * ```
 */
export class Semaphore {
  #queue: PermitQueue;

  /**
   * Constructs a new instance.
   *
   * @param permits The most holders at once.
   * @throws {RangeError} If `permits` is not a positive integer.
   */
  constructor(permits: number) {
    this.#queue = new PermitQueue(permits, "create semaphore", "permits");
  }

  /**
   * The number of permits in all.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new Semaphore(3).permits, 3);
   * ```
   *
   * @returns The permits.
   */
  get permits(): number {
    return this.#queue.size;
  }

  /**
   * The permits free now.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const sem = new Semaphore(3);
   * using _permit = sem.tryAcquire();
   * assertEquals(sem.available, 2);
   * ```
   *
   * @returns The free permits.
   */
  get available(): number {
    return this.#queue.size - this.#queue.held;
  }

  /**
   * The callers waiting for a permit.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const sem = new Semaphore(1);
   * const first = await sem.acquire();
   * const second = sem.acquire();
   * assertEquals(sem.waiting, 1);
   * first.release();
   * (await second).release();
   * assertEquals(sem.waiting, 0);
   * ```
   *
   * @returns The number of waiters.
   */
  get waiting(): number {
    return this.#queue.waiting;
  }

  /**
   * Waits for a permit. Waiters are served in call order.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const sem = new Semaphore(1);
   * {
   *   using _permit = await sem.acquire();
   *   assertEquals(sem.available, 0);
   * }
   * assertEquals(sem.available, 1);
   * ```
   *
   * @param options The abort signal.
   * @returns A promise of the permit, or one that rejects with
   * `signal.reason`.
   */
  async acquire(options: WaitOptions = {}): Promise<Permit> {
    await this.#queue.acquire(options.signal);
    return new SemaphorePermit(this.#queue);
  }

  /**
   * Takes a permit if one is free now and nobody is waiting.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@netkit/net/flow";
   * import { assert, assertEquals } from "@std/assert";
   *
   * const sem = new Semaphore(1);
   * using permit = sem.tryAcquire();
   * assert(permit !== undefined);
   * assertEquals(sem.tryAcquire(), undefined);
   * ```
   *
   * @returns The permit, or `undefined` when none is free.
   */
  tryAcquire(): Permit | undefined {
    return this.#queue.tryAcquire()
      ? new SemaphorePermit(this.#queue)
      : undefined;
  }

  /**
   * Acquires a permit, calls `fn`, and releases the permit when it settles.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const sem = new Semaphore(1);
   * assertEquals(await sem.run(() => 42), 42);
   * assertEquals(sem.available, 1);
   * ```
   *
   * @typeParam T The result of `fn`.
   * @param fn The work.
   * @param options The abort signal, for the wait only.
   * @returns The result of `fn`.
   * @throws {Error} What `fn` throws, or `signal.reason`.
   */
  async run<T>(
    fn: () => T | PromiseLike<T>,
    options: WaitOptions = {},
  ): Promise<T> {
    await this.#queue.acquire(options.signal);
    try {
      return await fn();
    } finally {
      this.#queue.release();
    }
  }
}

// ---------------------------------------------------------------------------
// Water marks

/** Options for {@linkcode WaterMarks}. */
export interface WaterMarksOptions {
  /**
   * Writing stops once this many bytes are buffered.
   *
   * @default {65536}
   */
  high?: number;
  /**
   * Writing starts again once no more than this many bytes are buffered.
   * At most `high`.
   *
   * @default {Math.floor(high / 4), which is 16384 with the default high}
   */
  low?: number;
}

/**
 * Write backpressure with hysteresis: counts the bytes in a write buffer,
 * turns not writable once `buffered >= high`, and writable again only when
 * `buffered <= low`.
 *
 * ```text
 * writable ──add(): buffered >= high──▶ blocked
 * blocked  ──remove(): buffered <= low──▶ writable (every waiter resolves)
 * any      ──close(reason)─────────────▶ closed (every waiter rejects with reason)
 * ```
 *
 * `add()` and `remove()` only do arithmetic unless someone waits, so they
 * suit a hot write path.
 *
 * @example Block a writer between the marks
 * ```ts
 * import { WaterMarks } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const marks = new WaterMarks({ high: 100, low: 20 });
 * marks.add(100);
 * assertEquals(marks.writable, false);
 * const ready = marks.waitWritable();
 * marks.remove(50); // 50 left: still above the low mark
 * assertEquals(marks.writable, false);
 * marks.remove(30); // 20 left
 * await ready;
 * assertEquals(marks.writable, true);
 * ```
 */
export class WaterMarks {
  #high: number;
  #low: number;
  #buffered = 0;
  #writable = true;
  #closed = false;
  #reason: unknown = undefined;
  /** Made when a writer first has to wait: most marks never do. */
  #waiters: WaitQueue | null = null;

  /**
   * Constructs a new instance, writable and empty.
   *
   * @param options The high and low marks.
   * @throws {TypeError} If a mark is not a number.
   * @throws {RangeError} If `high` is not positive or `low` is not between
   * 0 and `high`.
   */
  constructor(options: WaterMarksOptions = {}) {
    const { high = 65536 } = options;
    checkNumber(high, "high", "create water marks");
    const low = options.low ?? Math.floor(high / 4);
    checkNumber(low, "low", "create water marks");
    if (!(high > 0) || !(low >= 0) || !(low <= high)) {
      throw new RangeError(
        `Cannot create water marks: expected 0 <= low <= high and high > 0, received low ${low}, high ${high}`,
      );
    }
    this.#high = high;
    this.#low = low;
  }

  /**
   * The high mark.
   *
   * @example Usage
   * ```ts
   * import { WaterMarks } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new WaterMarks().high, 65536);
   * ```
   *
   * @returns The high mark in bytes.
   */
  get high(): number {
    return this.#high;
  }

  /**
   * The low mark.
   *
   * @example Usage
   * ```ts
   * import { WaterMarks } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * assertEquals(new WaterMarks().low, 16384);
   * assertEquals(new WaterMarks({ high: 1000 }).low, 250);
   * ```
   *
   * @returns The low mark in bytes.
   */
  get low(): number {
    return this.#low;
  }

  /**
   * The bytes counted as buffered.
   *
   * @example Usage
   * ```ts
   * import { WaterMarks } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const marks = new WaterMarks();
   * marks.add(10);
   * marks.remove(4);
   * assertEquals(marks.buffered, 6);
   * ```
   *
   * @returns The buffered bytes.
   */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Whether a writer may go on: false from the moment `buffered` reaches
   * `high` until it falls to `low`, and always false once closed.
   *
   * @example Usage
   * ```ts
   * import { WaterMarks } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const marks = new WaterMarks({ high: 10, low: 5 });
   * marks.add(10);
   * marks.remove(4);
   * assertEquals(marks.writable, false); // 6 is above the low mark
   * marks.remove(1);
   * assertEquals(marks.writable, true);
   * ```
   *
   * @returns Whether writing may go on.
   */
  get writable(): boolean {
    return this.#writable && !this.#closed;
  }

  /**
   * Whether {@linkcode WaterMarks.prototype.close} has been called.
   *
   * @example Usage
   * ```ts
   * import { WaterMarks } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const marks = new WaterMarks();
   * marks.close();
   * assertEquals(marks.closed, true);
   * ```
   *
   * @returns Whether closed.
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Counts `n` more bytes as buffered.
   *
   * @example Usage
   * ```ts
   * import { WaterMarks } from "@netkit/net/flow";
   * import { assertEquals } from "@std/assert";
   *
   * const marks = new WaterMarks({ high: 8, low: 0 });
   * marks.add(7);
   * assertEquals(marks.writable, true);
   * marks.add(1);
   * assertEquals(marks.writable, false);
   * ```
   *
   * @param n The number of bytes.
   * @throws {RangeError} If `n` is not a non-negative integer.
   */
  add(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot add bytes: n must be a non-negative integer, received ${n}`,
      );
    }
    this.#buffered += n;
    if (this.#buffered >= this.#high) this.#writable = false;
  }

  /**
   * Counts `n` bytes fewer as buffered (they were written out). Reaching the
   * low mark makes the marks writable and resolves every waiter.
   *
   * @example Usage
   * ```ts
   * import { WaterMarks } from "@netkit/net/flow";
   * import { assertThrows } from "@std/assert";
   *
   * const marks = new WaterMarks();
   * marks.add(3);
   * assertThrows(() => marks.remove(4), RangeError, "n 4 exceeds the 3 bytes buffered");
   * ```
   *
   * @param n The number of bytes.
   * @throws {RangeError} If `n` is not a non-negative integer or exceeds
   * the bytes buffered.
   */
  remove(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot remove bytes: n must be a non-negative integer, received ${n}`,
      );
    }
    if (n > this.#buffered) {
      throw new RangeError(
        `Cannot remove bytes: n ${n} exceeds the ${this.#buffered} bytes buffered`,
      );
    }
    this.#buffered -= n;
    if (!this.#writable && this.#buffered <= this.#low) {
      this.#writable = true;
      if (this.#waiters !== null && this.#waiters.length > 0) {
        this.#waiters.resolveAll();
      }
    }
  }

  /**
   * Waits until the marks are writable.
   *
   * @example Usage
   * ```ts
   * import { WaterMarks } from "@netkit/net/flow";
   * import { assertRejects } from "@std/assert";
   *
   * const marks = new WaterMarks({ high: 1, low: 0 });
   * marks.add(1);
   * const ready = marks.waitWritable();
   * marks.close(new Error("connection closed"));
   * await assertRejects(() => ready, Error, "connection closed");
   * ```
   *
   * @param options The abort signal.
   * @returns A promise that resolves at once when writable, otherwise when
   * `buffered` falls to `low`; it rejects with the reason given to
   * `close()`, or with `signal.reason`.
   */
  waitWritable(options: WaitOptions = {}): Promise<void> {
    const { signal } = options;
    if (this.#closed) return Promise.reject(this.#reason);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#writable) return RESOLVED;
    return (this.#waiters ??= new WaitQueue()).wait(0, signal);
  }

  /**
   * Closes the marks: every waiter, and every later
   * {@linkcode WaterMarks.prototype.waitWritable}, rejects with `reason`.
   * Calling it again does nothing. The byte count goes on working.
   *
   * @example Usage
   * ```ts
   * import { WaterMarks } from "@netkit/net/flow";
   * import { assertEquals, assertRejects } from "@std/assert";
   *
   * const marks = new WaterMarks();
   * marks.close();
   * assertEquals(marks.writable, false);
   * await assertRejects(() => marks.waitWritable(), Error, "closed");
   * ```
   *
   * @param reason The rejection for the waiters; by default a
   * `ConnectionClosedError`.
   */
  close(reason?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = reason ??
      new ConnectionClosedError("Cannot write: the connection is closed");
    this.#waiters?.rejectAll(this.#reason);
  }
}
