// Copyright 2026 the netkit authors. MIT license.
// Private: the first-in, first-out queue of waiters behind every waiting
// method of the flow-control tools, and the checks they share.

/** A promise already resolved, returned by waits that need not wait. */
export const RESOLVED: Promise<void> = Promise.resolve();

/** One waiter: a node of the queue, and its own abort listener. */
export class Waiter implements EventListenerObject {
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
export class WaitQueue {
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

/**
 * Throws a `TypeError` when an option that must be a number is not one.
 *
 * @throws {TypeError} `value` is not a number.
 */
export function checkNumber(
  value: unknown,
  name: string,
  what: string,
): void {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${what}: ${name} must be a number, received ${typeof value}`,
    );
  }
}
