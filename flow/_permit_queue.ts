// Copyright 2026 the netkit authors. MIT license.
// Private: the FIFO permit queue that both InFlightWindow and Semaphore
// are, so a released permit passes straight to the oldest waiter.

import { checkNumber, RESOLVED, WaitQueue } from "./_wait_queue.ts";

/** The FIFO permit queue that both the window and the semaphore are. */
export class PermitQueue {
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

  /** Acquires, calls `fn`, and releases when it settles. */
  async run<T>(
    fn: () => T | PromiseLike<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
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
