// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { ManualClock, REAL_CLOCK } from "./_clock.ts";
import { advance, tick, track } from "./flow/_test_utils.ts";

Deno.test("`ManualClock.advance()` resolves only due sleepers, in deadline order", async () => {
  const clock = new ManualClock(100);
  const order: string[] = [];
  const c = clock.sleep(30).then(() => order.push("c"));
  const a = clock.sleep(10).then(() => order.push("a"));
  const b = clock.sleep(10).then(() => order.push("b"));
  assertEquals(clock.pending, 3);
  await advance(clock, 9);
  assertEquals(order, []);
  await advance(clock, 1);
  assertEquals(order, ["a", "b"]);
  assertEquals(clock.pending, 1);
  await advance(clock, 100);
  await Promise.all([a, b, c]);
  assertEquals(order, ["a", "b", "c"]);
  assertEquals(clock.now(), 210);
  assertEquals(clock.pending, 0);
});

Deno.test("`ManualClock.sleep()` rejects with signal.reason and forgets the sleeper", async () => {
  const clock = new ManualClock();
  const reason = new Error("stop");
  await assertRejects(
    () => clock.sleep(10, AbortSignal.abort(reason)),
    Error,
    "stop",
  );
  assertEquals(clock.pending, 0);
  const controller = new AbortController();
  const sleeping = track(clock.sleep(10, controller.signal));
  assertEquals(clock.pending, 1);
  controller.abort(reason);
  await tick();
  assertStrictEquals(sleeping.error, reason);
  assertEquals(clock.pending, 0);
});

Deno.test("`ManualClock.sleep()` resolves at once for a wait of zero", async () => {
  const clock = new ManualClock();
  await clock.sleep(0);
  await clock.sleep(-5);
  assertEquals(clock.pending, 0);
});

Deno.test("`ManualClock` rejects a bad start or step", () => {
  assertThrows(() => new ManualClock(NaN), RangeError, "start");
  const clock = new ManualClock();
  assertThrows(
    () => clock.advance(-1),
    RangeError,
    "Cannot advance clock: ms must be a non-negative finite number, received -1",
  );
  assertThrows(() => clock.advance(Infinity), RangeError);
});

Deno.test("`REAL_CLOCK.sleep()` waits, and rejects with signal.reason when aborted", async () => {
  const start = REAL_CLOCK.now();
  await REAL_CLOCK.sleep(5);
  assert(REAL_CLOCK.now() - start >= 4);
  const controller = new AbortController();
  const sleeping = REAL_CLOCK.sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assertRejects(() => sleeping, Error, "stop");
});
