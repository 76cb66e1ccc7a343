// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode Semaphore}: a concurrency limit, with permits that `using`
 * releases.
 *
 * @module
 */

import { PermitQueue } from "./_permit_queue.ts";
import type { WaitOptions } from "./_wait_queue.ts";

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
  run<T>(
    fn: () => T | PromiseLike<T>,
    options: WaitOptions = {},
  ): Promise<T> {
    return this.#queue.run(fn, options.signal);
  }
}
