// Copyright 2026 the netkit authors. MIT license.

import { assertEquals, assertLessOrEqual } from "@std/assert";
import { type DeadlineClock, Deadlines } from "./_deadlines.ts";
import type { TimeoutError } from "./errors.ts";

/** A clock that moves only when told, and counts the timers it makes. */
class ManualClock implements DeadlineClock {
  time = 0;
  timersMade = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #nextId = 1;

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): unknown {
    this.timersMade++;
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.time + ms, fn });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves the time forward by `ms`, firing the timers due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | null = null;
      for (const entry of this.#timers) {
        if (
          entry[1].at <= end && (first === null || entry[1].at < first[1].at)
        ) {
          first = entry;
        }
      }
      if (first === null) break;
      this.#timers.delete(first[0]);
      this.time = Math.max(this.time, first[1].at);
      first[1].fn();
    }
    this.time = end;
  }
}

function setup(idle: number, read: number, write: number) {
  const clock = new ManualClock();
  const expired: TimeoutError[] = [];
  const deadlines = new Deadlines(
    idle,
    read,
    write,
    (err) => expired.push(err),
    clock,
  );
  return { clock, expired, deadlines };
}

Deno.test("`Deadlines` fires the idle timeout once when a write makes no progress", () => {
  const { clock, expired, deadlines } = setup(100, 0, 0);
  deadlines.writeBegin(); // The peer stopped reading: this write never ends.
  clock.advance(99);
  assertEquals(expired, []);
  clock.advance(1);
  assertEquals(expired.length, 1);
  assertEquals(expired[0]!.kind, "idle");
  assertEquals(expired[0]!.timeout, 100);
  assertEquals(
    expired[0]!.message,
    "Connection idle for 100 ms: nothing read or written",
  );
  // Ten more periods: nothing more fires, no timer is left.
  clock.advance(1000);
  assertEquals(expired.length, 1);
  assertEquals(clock.timersMade, 1);
  assertEquals(clock.pending, 0);
});

Deno.test("`Deadlines` makes at most two timers per idle period while a write trickles", () => {
  const { clock, expired, deadlines } = setup(100, 0, 0);
  deadlines.writeBegin();
  // The peer takes a few bytes every 7 ms for 20 periods.
  for (let t = 0; t < 2000; t += 7) {
    clock.advance(7);
    deadlines.writeProgress();
  }
  assertEquals(expired, []);
  assertLessOrEqual(clock.timersMade, 2 * 20 + 1);
  // Then it stops: the idle timeout fires one period after the last bytes.
  const last = clock.time;
  clock.advance(99);
  assertEquals(expired, []);
  clock.advance(1);
  assertEquals(expired.length, 1);
  assertEquals(clock.time - last, 100);
  assertEquals(clock.pending, 0);
});

Deno.test("`Deadlines` makes at most two timers per period over ten periods of reads and writes", () => {
  const periods = 10;
  const { clock, expired, deadlines } = setup(50, 80, 30);
  for (let t = 0; t < periods * 80; t++) {
    clock.advance(1);
    // A busy connection: a read every ms, a write every 3 ms.
    deadlines.readWait();
    deadlines.activity();
    deadlines.readDone();
    if (t % 3 === 0) {
      deadlines.writeBegin();
      deadlines.writeProgress();
      deadlines.writeDone();
      deadlines.writeStopped();
    }
  }
  assertEquals(expired, []);
  // 800 ms: the idle (50 ms), read (80 ms) and write (30 ms) timeouts
  // would cost 16 + 10 + 27 periods; the one timer serves them all.
  assertLessOrEqual(clock.timersMade, 2 * (16 + 10 + 27));
  deadlines.stop();
  assertEquals(clock.pending, 0);
});

Deno.test("`Deadlines` fires the write timeout when the peer takes nothing", () => {
  const { clock, expired, deadlines } = setup(0, 0, 30);
  deadlines.writeBegin();
  clock.advance(20);
  deadlines.writeProgress();
  clock.advance(29);
  assertEquals(expired, []);
  clock.advance(1);
  assertEquals(expired.map((e) => e.kind), ["write"]);
  assertEquals(clock.timersMade, 2);
});

Deno.test("`Deadlines` fires the read timeout when a message takes too long", () => {
  const { clock, expired, deadlines } = setup(1000, 40, 0);
  deadlines.readWait();
  // Bytes trickle in (activity) without a whole message.
  for (let i = 0; i < 39; i++) {
    clock.advance(1);
    deadlines.activity();
  }
  assertEquals(expired, []);
  clock.advance(1);
  assertEquals(expired.map((e) => e.kind), ["read"]);
  assertEquals(clock.pending, 0);
});

Deno.test("`Deadlines.stop()` clears the timer", () => {
  const { clock, expired, deadlines } = setup(10, 10, 10);
  deadlines.readWait();
  deadlines.writeBegin();
  deadlines.stop();
  assertEquals(clock.pending, 0);
  clock.advance(100);
  assertEquals(expired, []);
});
