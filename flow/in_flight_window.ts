// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode InFlightWindow}: an in-flight limit for pipelined
 * request/response.
 *
 * @module
 */

import { PermitQueue } from "./_permit_queue.ts";
import type { WaitOptions } from "./_wait_queue.ts";

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
  run<T>(
    fn: () => T | PromiseLike<T>,
    options: WaitOptions = {},
  ): Promise<T> {
    return this.#queue.run(fn, options.signal);
  }
}
