// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode WaterMarks}: write backpressure with hysteresis.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import {
  checkNumber,
  RESOLVED,
  type WaitOptions,
  WaitQueue,
} from "./_wait_queue.ts";

/**
 * The default low mark for a high mark: a quarter of it, at most 16 KiB.
 * A quarter leaves a gap of three quarters, so a busy writer does not flap
 * between the two states; the cap keeps a large high mark (a buffer sized
 * for bursts) from resuming writers while hundreds of KiB are still queued.
 * With the default high mark of 64 KiB both give 16 KiB. This is the one
 * rule: a `Connection`'s marks are `WaterMarks` made without a `low`.
 */
function defaultLow(high: number): number {
  return Math.min(16384, Math.floor(high / 4));
}

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
   * @default {Math.min(16384, Math.floor(high / 4)), which is 16384 with the default high}
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
    const low = options.low ?? defaultLow(high);
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
   * assertEquals(new WaterMarks({ high: 1 << 20 }).low, 16384);
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
    if (this.#closed) return Promise.reject(this.#closeReason());
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
    this.#reason = reason;
    // The default error is made only for someone who waits: a clean close
    // of an idle connection captures no stack.
    if (this.#waiters !== null && this.#waiters.length > 0) {
      this.#waiters.rejectAll(this.#closeReason());
    }
  }

  #closeReason(): unknown {
    return this.#reason ??= new ConnectionClosedError(
      "Cannot write: the connection is closed",
    );
  }
}
