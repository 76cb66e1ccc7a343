// Copyright 2026 the netkit authors. MIT license.
// Private: the idle, read and write deadlines of one connection (a leaf).

import { TimeoutError } from "./errors.ts";

/**
 * The clock and timers {@linkcode Deadlines} runs on: the real ones by
 * default, a manual one in tests.
 */
export interface DeadlineClock {
  /** The time now, in milliseconds (`performance.now()`). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle. */
  setTimer(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by `setTimer`. */
  clearTimer(handle: unknown): void;
}

/** `performance.now()` and `setTimeout`. */
export const SYSTEM_CLOCK: DeadlineClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The idle, read and write deadlines of one connection on one timer. A
 * connection makes one only when a timeout is set.
 *
 * What each measures:
 *
 * - idle: the time since bytes last moved either way (read, or taken by
 *   the peer from a write). A write that makes no progress is idle time:
 *   a peer that stops reading is idle even while a write waits.
 * - read: the time a reader has waited for a whole message.
 * - write: the time a write has waited without the peer taking a byte.
 *
 * The timer is armed at the nearest deadline and is not moved when
 * activity pushes a deadline later: when it fires, it re-arms at the
 * deadline as it stands then, which is always in the future. So each
 * timeout costs at most two timers per period of its length, however busy
 * or stuck the connection is (a fired timer re-arms only after activity
 * since the previous firing, and then a full period after that activity).
 */
export class Deadlines {
  readonly #idle: number;
  readonly #read: number;
  readonly #write: number;
  readonly #expire: (error: TimeoutError) => void;
  readonly #clock: DeadlineClock;
  #timer: unknown = undefined;
  /** When the armed timer fires; `Infinity` when none is armed. */
  #due = Infinity;
  #lastActivity: number;
  #readWaitSince = -1;
  #writeSince = -1;
  #stopped = false;

  /**
   * Starts the idle deadline (when `idle` is set).
   *
   * @param idle The idle timeout in milliseconds; `0` turns it off.
   * @param read The read timeout in milliseconds; `0` turns it off.
   * @param write The write timeout in milliseconds; `0` turns it off.
   * @param expire Called once, with the error, when a deadline passes.
   * @param clock The clock and timers.
   */
  constructor(
    idle: number,
    read: number,
    write: number,
    expire: (error: TimeoutError) => void,
    clock: DeadlineClock = SYSTEM_CLOCK,
  ) {
    this.#idle = idle;
    this.#read = read;
    this.#write = write;
    this.#expire = expire;
    this.#clock = clock;
    this.#lastActivity = clock.now();
    if (idle > 0) this.#arm(this.#lastActivity + idle);
  }

  /** Bytes were read: the idle deadline counts from now. */
  activity(): void {
    if (this.#idle > 0) this.#lastActivity = this.#clock.now();
  }

  /** A reader waits for a whole message; the read deadline counts from its first wait. */
  readWait(): void {
    if (this.#read > 0 && this.#readWaitSince < 0) {
      this.#readWaitSince = this.#clock.now();
      this.#arm(this.#readWaitSince + this.#read);
    }
  }

  /** A whole message arrived, or the stream ended. */
  readDone(): void {
    this.#readWaitSince = -1;
  }

  /** A buffer's write starts: the write deadline counts from now. */
  writeBegin(): void {
    if (this.#write > 0) {
      this.#writeSince = this.#clock.now();
      this.#arm(this.#writeSince + this.#write);
    }
  }

  /** The peer took some bytes: the write and idle deadlines count from now. */
  writeProgress(): void {
    if (this.#writeSince >= 0) this.#writeSince = this.#clock.now();
    this.activity();
  }

  /** A buffer is written. */
  writeDone(): void {
    this.#writeSince = -1;
    this.activity();
  }

  /** No write is under way. */
  writeStopped(): void {
    this.#writeSince = -1;
  }

  /** The connection is closing or closed: no deadline fires any more. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) {
      this.#clock.clearTimer(this.#timer);
      this.#timer = undefined;
    }
    this.#due = Infinity;
  }

  /** Arms the timer at `due` unless it already fires sooner. */
  #arm(due: number): void {
    if (this.#stopped || due >= this.#due) return;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#due = due;
    // Whole milliseconds, rounded up: the timer never fires before `due`.
    this.#timer = this.#clock.setTimer(
      this.#onTimer,
      Math.max(0, Math.ceil(due - this.#clock.now())),
    );
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#due = Infinity;
    if (this.#stopped) return;
    const now = this.#clock.now();
    let next = Infinity;
    if (this.#write > 0 && this.#writeSince >= 0) {
      const due = this.#writeSince + this.#write;
      if (now >= due) {
        return this.#fire(
          new TimeoutError(
            `Cannot write: the peer read nothing for ${this.#write} ms`,
            { kind: "write", timeout: this.#write },
          ),
        );
      }
      next = Math.min(next, due);
    }
    if (this.#read > 0 && this.#readWaitSince >= 0) {
      const due = this.#readWaitSince + this.#read;
      if (now >= due) {
        return this.#fire(
          new TimeoutError(
            `Cannot read: no whole message arrived within ${this.#read} ms`,
            { kind: "read", timeout: this.#read },
          ),
        );
      }
      next = Math.min(next, due);
    }
    if (this.#idle > 0) {
      const due = this.#lastActivity + this.#idle;
      if (now >= due) {
        return this.#fire(
          new TimeoutError(
            `Connection idle for ${this.#idle} ms: nothing read or written`,
            { kind: "idle", timeout: this.#idle },
          ),
        );
      }
      next = Math.min(next, due);
    }
    // Every deadline left is in the future: the next timer waits for it.
    if (next < Infinity) this.#arm(next);
  };

  #fire(error: TimeoutError): void {
    this.stop();
    this.#expire(error);
  }
}
