// Copyright 2026 the netkit authors. MIT license.

// The shared scheduling state of every connection (_scheduler.ts), on a
// scheduler of the test's own.

import { assert, assertEquals, assertFalse, assertThrows } from "@std/assert";
import { SendBuffer } from "./_send_buffer.ts";
import { collected } from "./_test_utils.ts";
import {
  type Flushable,
  POOL_MAX_BUFFERS,
  POOL_MAX_BYTES,
  Scheduler,
  SWEEP_MS,
} from "./_scheduler.ts";

function writer(log: string[], name: string): Flushable {
  return {
    microFlush: () => log.push(`micro ${name}`),
    sweepFlush: () => log.push(`sweep ${name}`),
    stalled: false,
    listed: false,
  };
}

Deno.test("`Scheduler.queueMicroFlush()` flushes every writer queued in one tick, in order, once", async () => {
  const s = new Scheduler();
  const log: string[] = [];
  s.queueMicroFlush(writer(log, "a"));
  s.queueMicroFlush(writer(log, "b"));
  assertEquals(log, []);
  await Promise.resolve();
  assertEquals(log, ["micro a", "micro b"]);
  await Promise.resolve();
  assertEquals(log, ["micro a", "micro b"]);
});

Deno.test("`Scheduler.flushStalled()` flushes the deferred writers, and the sweep covers a quiet process", async () => {
  const s = new Scheduler();
  const log: string[] = [];
  const a = writer(log, "a");
  s.defer(a);
  s.flushStalled();
  assertEquals(log, ["sweep a"]);
  s.defer(writer(log, "b"));
  await new Promise((resolve) => setTimeout(resolve, SWEEP_MS * 3));
  assertEquals(log, ["sweep a", "sweep b"]);
});

Deno.test("`Scheduler.flushStalled()` skips a writer that flushed on its own, and the list keeps none once no writer is deferred", async () => {
  const s = new Scheduler();
  const log: string[] = [];
  const a = writer(log, "a");
  const b = writer(log, "b");
  s.defer(a);
  s.defer(b);
  s.undefer(a);
  assert(a.listed);
  s.flushStalled();
  assertEquals(log, ["sweep b"]);
  assertFalse(a.listed || a.stalled || b.listed || b.stalled);
  // Deferred again after it flushed on its own: swept once.
  s.defer(a);
  s.undefer(a);
  s.defer(a);
  s.defer(a);
  s.flushStalled();
  s.flushStalled();
  assertEquals(log, ["sweep b", "sweep a"]);
  // The last deferred writer flushing on its own empties the list: a
  // closed connection is not kept alive by it.
  s.defer(a);
  s.defer(b);
  s.undefer(b);
  assert(b.listed);
  s.undefer(a);
  assertFalse(a.listed || b.listed);
  await new Promise((resolve) => setTimeout(resolve, SWEEP_MS * 3));
  assertEquals(log, ["sweep b", "sweep a"]);
});

Deno.test("`Scheduler` lists keep no writer once none is deferred, undeferred or swept", async () => {
  const s1 = new Scheduler();
  const s2 = new Scheduler();
  const log: string[] = [];
  const keep = writer(log, "keep");
  const refs: WeakRef<Flushable>[] = [];
  (() => {
    // Undeferred while another is deferred, then the other undefers.
    const a = writer(log, "a");
    s1.defer(a);
    s1.defer(keep);
    s1.undefer(a);
    s1.undefer(keep);
    // Swept.
    const b = writer(log, "b");
    s2.defer(b);
    s2.flushStalled();
    refs.push(new WeakRef(a), new WeakRef(b));
  })();
  s1.forget(keep); // the sweep timers
  s2.forget(keep);
  assert(await collected(refs[0]!), "an undeferred writer is kept by the list");
  assert(await collected(refs[1]!), "a swept writer is kept by the list");
});

Deno.test("`Scheduler.flushStalled()` lets go of a writer that a sweepFlush deferred and that closed before the loop ended", () => {
  const s = new Scheduler();
  const log: string[] = [];
  const a = writer(log, "a");
  const b = writer(log, "b");
  const c = writer(log, "c");
  // While a's replies go out, c is deferred and then closes (a transport
  // whose write() runs another connection's code synchronously).
  a.sweepFlush = () => {
    log.push("sweep a");
    s.defer(c);
    s.forget(c);
  };
  s.defer(a);
  s.defer(b);
  try {
    s.flushStalled();
    assertEquals(log, ["sweep a", "sweep b"]);
    assertFalse(a.stalled || b.stalled || c.stalled);
    // No writer is deferred: the list must hold none (c is closed).
    assertFalse(c.listed, "a closed writer is kept by the sweep list");
  } finally {
    s.forget(a); // clears the sweep timer (count is 0)
  }
});

Deno.test("`Scheduler.flushStalled()` called from a sweepFlush loses no deferred writer", () => {
  const s = new Scheduler();
  const log: string[] = [];
  const a = writer(log, "a");
  const b = writer(log, "b");
  const c = writer(log, "c");
  // a's flush re-defers itself, then a nested flushStalled() runs, during
  // which b flushes on its own (the last deferred one) and c is deferred.
  a.sweepFlush = () => {
    log.push("sweep a");
    a.sweepFlush = () => {
      log.push("sweep a");
      s.undefer(b);
      s.defer(c);
    };
    s.defer(a);
    s.flushStalled();
  };
  s.defer(a);
  s.defer(b);
  try {
    s.flushStalled();
    s.flushStalled();
    s.flushStalled();
    assertFalse(c.stalled, "c is deferred and never swept");
    assertEquals(log.filter((l) => l === "sweep c").length, 1);
  } finally {
    s.forget(a);
    s.forget(b);
    s.forget(c);
  }
});

Deno.test("`Scheduler.forget()` clears the sweep timer with the last deferred writer", () => {
  // The sanitizers fail this test if a timer is left armed.
  const s = new Scheduler();
  const log: string[] = [];
  const a = writer(log, "a");
  s.defer(a);
  s.forget(a);
  s.flushStalled();
  assertEquals(log, []);
});

Deno.test("`Scheduler.giveBuffer()` pools small buffers, bounded in count, and never a large one", () => {
  const s = new Scheduler();
  const large = new SendBuffer(POOL_MAX_BYTES * 2);
  assertFalse(s.giveBuffer(large));
  const small = new SendBuffer(256);
  small.append(new Uint8Array([1, 2, 3]));
  assert(s.giveBuffer(small));
  const taken = s.takeBuffer();
  assert(taken === small);
  assertEquals(taken.length, 0);
  for (let i = 0; i < POOL_MAX_BUFFERS; i++) s.giveBuffer(new SendBuffer(64));
  assertFalse(s.giveBuffer(new SendBuffer(64)));
});

Deno.test("`Scheduler.yieldReader()` resumes the yielded readers on the next turn; `unyieldReader()` drops one", async () => {
  const s = new Scheduler();
  const resumed: string[] = [];
  const a = { resume: () => resumed.push("a") };
  const b = { resume: () => resumed.push("b") };
  s.yieldReader(a);
  s.yieldReader(b);
  s.unyieldReader(a);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assertEquals(resumed, ["b"]);
  s.yieldReader(a);
  s.unyieldReader(a); // the last one: the timer is cleared
  await new Promise((resolve) => setTimeout(resolve, 5));
  assertEquals(resumed, ["b"]);
});

Deno.test("`Scheduler` flushes every queued writer when one throws, then throws its error", async () => {
  const s = new Scheduler();
  const log: string[] = [];
  const errors: unknown[] = [];
  const onError = (e: ErrorEvent) => {
    errors.push(e.error);
    e.preventDefault();
  };
  globalThis.addEventListener("error", onError);
  try {
    const boom = new Error("boom");
    const bad = writer(log, "bad");
    bad.microFlush = bad.sweepFlush = () => {
      throw boom;
    };
    const a = writer(log, "a");
    const b = writer(log, "b");
    // The end-of-tick flush.
    s.queueMicroFlush(bad);
    s.queueMicroFlush(a);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assertEquals(log, ["micro a"]);
    assertEquals(errors, [boom]);
    // The sweep: b is flushed, and nothing stays listed or counted.
    s.defer(bad);
    s.defer(b);
    assertThrows(() => s.flushStalled(), Error, "boom");
    assertEquals(log, ["micro a", "sweep b"]);
    assertFalse(bad.listed || bad.stalled || b.listed || b.stalled);
    s.defer(b);
    s.flushStalled();
    assertEquals(log, ["micro a", "sweep b", "sweep b"]);
    s.forget(b);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});
