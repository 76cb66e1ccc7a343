// Copyright 2026 the netkit authors. MIT license.

/**
 * Private: the one piece of mutable state that every connection of the
 * process shares — {@linkcode scheduler}. A leaf (it imports the write
 * buffer's class only).
 *
 * Four things live here, and nowhere else at module level:
 *
 * 1. **The end-of-tick flush.** The writers that queued bytes in this tick
 *    are flushed by one microtask at its end, in the order they queued:
 *    every message a handler sends in one tick goes out in one socket
 *    write. A writer is queued at most once a tick (it keeps its own
 *    "queued" flag); the list is emptied by the microtask.
 * 2. **The stalled-reply sweep.** A writer whose replies wait for the
 *    application to take the rest of a read's messages is *deferred*. One
 *    still deferred when a later task starts has an application that
 *    stopped taking them (it awaits something else): its replies go out
 *    then. Any connection's read completing starts such a task
 *    ({@linkcode Scheduler.flushStalled}), so a busy process flushes them
 *    at once; one timer shared by every connection covers a quiet one
 *    within {@linkcode SWEEP_MS}. (A shorter timer costs a pipelining
 *    connection 5–10% of its throughput: it is re-armed for almost every
 *    read.) A writer that flushes on its own is no longer deferred but
 *    stays in the list, without clearing the timer (a no-op firing is
 *    cheaper than a clear and a re-arm per read); the list is emptied
 *    when no writer in it is deferred, and the timer is cleared when a
 *    closing writer was the last deferred one, so neither holds on to
 *    connections that need it no more.
 * 3. **The write-buffer pool.** Writers take a buffer for the messages
 *    they encode and give it back once its bytes are written, so an idle
 *    connection holds no write buffer. At most {@linkcode POOL_MAX_BUFFERS}
 *    buffers of at most {@linkcode POOL_MAX_BYTES} each are kept; a larger
 *    buffer is never pooled (its writer keeps it only while its queue is
 *    not empty).
 * 4. **The yielded readers.** A reader that decoded its budget of
 *    messages from bytes already buffered lets other work run: it waits
 *    for one immediate (`node:timers`' `setImmediate`), shared by every
 *    such reader, and at least every 10 ms for one timer turn instead,
 *    which lets the reads of other connections in. Only a timer turn
 *    does that (measured: 25 flooding peers starved a normal client with
 *    immediates alone), but Deno's `setTimeout(0)` costs 1–2.5 ms: a peer
 *    flooding tiny messages was served ten times slower with a timer per
 *    yield than without a budget. Armed only while a reader waits.
 *
 * Nothing here allocates per message: each entry point is a push or a flag
 * test on an object that already exists.
 *
 * @module
 */

import { clearImmediate, setImmediate } from "node:timers";
import { SendBuffer } from "./_send_buffer.ts";

/** A writer that the shared flushes reach. */
export interface Flushable {
  /** Called by the end-of-tick microtask it was queued for. */
  microFlush(): void;
  /** Called by the sweep, when its replies stalled. */
  sweepFlush(): void;
  /** Whether the writer is deferred (kept by the scheduler). */
  stalled: boolean;
  /** Whether the writer is in the sweep's list (kept by the scheduler). */
  listed: boolean;
}

/** A reader that spent its budget and waits for the next turn. */
export interface Resumable {
  /** Called on the next turn of the event loop. */
  resume(): void;
}

/**
 * How long yielded readers resume through immediates (cheap, but they do
 * not wait for the event loop to poll for I/O) before one timer turn lets
 * other connections' reads in, in milliseconds.
 */
const YIELD_IMMEDIATE_MS = 10;

/** The longest a stalled reply waits on a quiet process, in milliseconds. */
export const SWEEP_MS = 10;
/** How many buffers the pool keeps. */
export const POOL_MAX_BUFFERS = 64;
/**
 * The largest buffer the pool keeps, in bytes: one that held a 64 KiB
 * message with its header (a buffer grows by doubling) is pooled, so
 * such messages reuse buffers. The pool holds at most
 * `POOL_MAX_BUFFERS × POOL_MAX_BYTES` (8 MiB) for the whole process.
 */
export const POOL_MAX_BYTES = 131072;
/** The capacity of a new write buffer. */
const NEW_BUFFER_BYTES = 256;

/**
 * A list of writers that keeps its memory when emptied. An array emptied
 * with `length = 0` lets its store go and the next push allocates one
 * again (about 50 ns in V8), and a set that goes from one member to none
 * and back rehashes (about 45 ns): these lists are emptied on every read.
 */
class WriterList {
  readonly #items: Array<Flushable | undefined> = [];
  /** How many writers are in the list. */
  length = 0;

  /** The writer at `i`, below `length`. */
  at(i: number): Flushable {
    return this.#items[i]!;
  }

  /** Adds `w` at the end; returns the new length. */
  push(w: Flushable): number {
    this.#items[this.length] = w;
    return ++this.length;
  }

  /** Empties the list, keeping its memory and no writer. */
  clear(): void {
    const items = this.#items;
    for (let i = 0; i < this.length; i++) items[i] = undefined;
    this.length = 0;
  }
}

/** The shared scheduling state of every connection (see the module doc). */
export class Scheduler {
  /** The writers to flush at the end of this tick. */
  readonly #micro = new WriterList();
  /**
   * The deferred writers, flushed by the next task or the sweep, and
   * writers that flushed on their own since (skipped).
   */
  #stalled = new WriterList();
  /** The list not in use, swapped in by `flushStalled()`. */
  #stalledSpare = new WriterList();
  /** How many writers in the list are still deferred. */
  #stalledCount = 0;
  #sweepTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Write buffers not in use. */
  readonly #pool: SendBuffer[] = [];
  /** The readers waiting for the next turn. */
  #yielded: Resumable[] = [];
  #yieldTimer: ReturnType<typeof setImmediate> | undefined = undefined;
  #yieldTimeout: ReturnType<typeof setTimeout> | undefined = undefined;
  /** When readers last resumed from a timer, which lets I/O in first. */
  #lastTimerTurn = 0;

  // 1. The end-of-tick flush.

  /** Flushes `writer` at the end of this tick; call at most once a tick. */
  queueMicroFlush(writer: Flushable): void {
    if (this.#micro.push(writer) === 1) queueMicrotask(this.#runMicro);
  }

  readonly #runMicro = (): void => {
    const micro = this.#micro;
    // A flush may queue another writer: the loop reaches it too. One that
    // throws leaves the others to flush; the first error is thrown after.
    let failure: { error: unknown } | null = null;
    for (let i = 0; i < micro.length; i++) {
      try {
        micro.at(i).microFlush();
      } catch (error) {
        failure ??= { error };
      }
    }
    micro.clear();
    if (failure !== null) throw failure.error;
  };

  // 2. The stalled-reply sweep.

  /** Flushes `writer` in a later task unless it flushes first. */
  defer(writer: Flushable): void {
    if (!writer.stalled) {
      writer.stalled = true;
      this.#stalledCount++;
    }
    if (!writer.listed) {
      writer.listed = true;
      this.#stalled.push(writer);
    }
    this.#sweepTimer ??= setTimeout(this.#sweep, SWEEP_MS);
  }

  /**
   * `writer` flushed on its own; the timer is left to fire as a no-op.
   * With the last deferred writer gone, the list lets go of the others.
   */
  undefer(writer: Flushable): void {
    if (!writer.stalled) return;
    writer.stalled = false;
    if (--this.#stalledCount === 0) {
      const list = this.#stalled;
      for (let i = 0; i < list.length; i++) list.at(i).listed = false;
      list.clear();
    }
  }

  /** `writer` closed: forgotten, and the timer cleared with the last one. */
  forget(writer: Flushable): void {
    this.undefer(writer);
    if (this.#stalledCount === 0 && this.#sweepTimer !== undefined) {
      clearTimeout(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }

  /** Flushes the writers deferred in an earlier task (a read completed). */
  flushStalled(): void {
    // Not from within a sweepFlush: the lists are being swapped; what it
    // deferred meanwhile waits for the next read or the timer.
    if (this.#stalledCount === 0 || this.#sweeping) return;
    this.#sweeping = true;
    const list = this.#stalled;
    this.#stalled = this.#stalledSpare;
    this.#stalledSpare = list;
    // A writer whose flush throws leaves the others to flush (none is left
    // listed in the list let go); the first error is thrown after.
    let failure: { error: unknown } | null = null;
    for (let i = 0; i < list.length; i++) {
      const w = list.at(i);
      w.listed = false;
      if (!w.stalled) continue;
      w.stalled = false;
      this.#stalledCount--;
      try {
        w.sweepFlush();
      } catch (error) {
        failure ??= { error };
      }
    }
    this.#sweeping = false;
    list.clear();
    // A sweepFlush deferred writers that flushed or closed since: with
    // none deferred, the list lets go of them too.
    if (this.#stalledCount === 0 && this.#stalled.length > 0) {
      const active = this.#stalled;
      for (let i = 0; i < active.length; i++) active.at(i).listed = false;
      active.clear();
    }
    if (failure !== null) throw failure.error;
  }

  #sweeping = false;

  readonly #sweep = (): void => {
    this.#sweepTimer = undefined;
    this.flushStalled();
  };

  // 3. The write-buffer pool.

  /** A cleared write buffer: a pooled one, or a new small one. */
  takeBuffer(): SendBuffer {
    return this.#pool.pop() ?? new SendBuffer(NEW_BUFFER_BYTES);
  }

  /**
   * Takes back a buffer whose bytes are written.
   *
   * @returns `false` when the pool keeps it not (too large, or the pool
   * is full): the caller drops it, or keeps it while it has more to write.
   */
  giveBuffer(buf: SendBuffer): boolean {
    if (
      buf.capacity > POOL_MAX_BYTES || this.#pool.length >= POOL_MAX_BUFFERS
    ) {
      return false;
    }
    buf.clear();
    this.#pool.push(buf);
    return true;
  }

  // 4. The yielded readers.

  /** Resumes `reader` on the next turn of the event loop. */
  yieldReader(reader: Resumable): void {
    this.#yielded.push(reader);
    if (this.#yieldTimer !== undefined || this.#yieldTimeout !== undefined) {
      return;
    }
    if (performance.now() - this.#lastTimerTurn < YIELD_IMMEDIATE_MS) {
      this.#yieldTimer = setImmediate(this.#runYielded);
    } else {
      this.#yieldTimeout = setTimeout(this.#runYielded, 0);
    }
  }

  /** `reader` no longer waits (it stopped or failed). */
  unyieldReader(reader: Resumable): void {
    const i = this.#yielded.indexOf(reader);
    if (i !== -1) this.#yielded.splice(i, 1);
    if (this.#yielded.length === 0) {
      if (this.#yieldTimer !== undefined) clearImmediate(this.#yieldTimer);
      if (this.#yieldTimeout !== undefined) clearTimeout(this.#yieldTimeout);
      this.#yieldTimer = this.#yieldTimeout = undefined;
    }
  }

  readonly #runYielded = (): void => {
    const readers = this.#yielded;
    this.#yielded = [];
    if (this.#yieldTimeout !== undefined) {
      this.#lastTimerTurn = performance.now();
    }
    this.#yieldTimer = this.#yieldTimeout = undefined;
    for (const r of readers) r.resume();
  };
}

/** The one scheduler of the process, shared by every connection. */
export const scheduler: Scheduler = new Scheduler();
