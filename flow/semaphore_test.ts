// Copyright 2026 the netkit authors. MIT license.

import { assert, assertEquals, assertFalse, assertThrows } from "@std/assert";
import { Semaphore } from "./semaphore.ts";
import { tick, track } from "./_test_utils.ts";

Deno.test("`Semaphore.acquire()` returns a permit that `using` releases", async () => {
  const sem = new Semaphore(2);
  {
    using a = await sem.acquire();
    using _b = await sem.acquire();
    assertEquals(sem.available, 0);
    assertFalse(a.released);
  }
  assertEquals(sem.available, 2);
  const permit = await sem.acquire();
  permit.release();
  permit.release(); // a second release does nothing
  permit[Symbol.dispose]();
  assert(permit.released);
  assertEquals(sem.available, 2);
});

Deno.test("`Semaphore.acquire()` serves waiters in order as permits come back", async () => {
  const sem = new Semaphore(1);
  const held = await sem.acquire();
  const order: number[] = [];
  const waits = [1, 2, 3].map((i) =>
    sem.acquire().then((permit) => {
      order.push(i);
      return permit;
    })
  );
  assertEquals(sem.waiting, 3);
  held.release();
  const first = await waits[0]!;
  assertEquals(order, [1]);
  first.release();
  (await waits[1]!).release();
  (await waits[2]!).release();
  assertEquals(order, [1, 2, 3]);
  assertEquals([sem.available, sem.waiting], [1, 0]);
});

Deno.test("`Semaphore.tryAcquire()` returns undefined when no permit is free", () => {
  const sem = new Semaphore(1);
  using permit = sem.tryAcquire();
  assert(permit !== undefined);
  assertEquals(sem.tryAcquire(), undefined);
  assertEquals(sem.permits, 1);
});

Deno.test("`Semaphore.acquire()` rejects with signal.reason and holds nothing when aborted", async () => {
  const sem = new Semaphore(1);
  const held = sem.tryAcquire()!;
  const controller = new AbortController();
  const waiting = track(sem.acquire({ signal: controller.signal }));
  controller.abort("stop");
  await tick();
  assertEquals(waiting.error, "stop");
  assertEquals(sem.waiting, 0);
  held.release();
  assertEquals(sem.available, 1);
});

Deno.test("`Semaphore.run()` limits concurrency and releases on error", async () => {
  const sem = new Semaphore(2);
  let current = 0;
  let peak = 0;
  const jobs = Array.from({ length: 6 }, (_, i) =>
    sem.run(async () => {
      peak = Math.max(peak, ++current);
      await tick();
      current--;
      if (i === 3) throw new Error("job 3 failed");
      return i;
    }));
  const settled = await Promise.allSettled(jobs);
  assertEquals(peak, 2);
  assertEquals(settled.filter((s) => s.status === "rejected").length, 1);
  assertEquals(sem.available, 2);
});

Deno.test("`Semaphore` rejects a permit count that is not a positive integer", () => {
  assertThrows(
    () => new Semaphore(0),
    RangeError,
    "Cannot create semaphore: permits must be a positive integer, received 0",
  );
  assertThrows(() => new Semaphore(2.5), RangeError);
});
