// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { InFlightWindow } from "./in_flight_window.ts";
import { tick, track } from "./_test_utils.ts";

Deno.test("`InFlightWindow.acquire()` limits the requests in flight and admits waiters in order", async () => {
  const win = new InFlightWindow(2);
  assertInstanceOf(win, InFlightWindow);
  await win.acquire();
  await win.acquire();
  assertEquals(win.inFlight, 2);
  const order: number[] = [];
  const waits = [1, 2, 3].map((i) => win.acquire().then(() => order.push(i)));
  await tick();
  assertEquals(order, []);
  assertEquals(win.waiting, 3);
  win.release();
  await tick();
  assertEquals(order, [1]);
  assertEquals(win.inFlight, 2);
  win.release();
  win.release();
  await Promise.all(waits);
  assertEquals(order, [1, 2, 3]);
  assertEquals([win.inFlight, win.waiting], [2, 0]);
});

Deno.test("`InFlightWindow.tryAcquire()` does not jump the queue", async () => {
  const win = new InFlightWindow(1);
  assert(win.tryAcquire());
  const waiting = track(win.acquire());
  win.release(); // handed straight to the waiter
  assertFalse(win.tryAcquire());
  await tick();
  assert(waiting.settled);
  assertEquals(win.inFlight, 1);
});

Deno.test("`InFlightWindow.release()` throws when nothing is in flight", () => {
  const win = new InFlightWindow(3);
  assertThrows(
    () => win.release(),
    RangeError,
    "Cannot release: no request is in flight",
  );
  win.tryAcquire();
  win.release();
  assertThrows(() => win.release(), RangeError);
  assertEquals(win.inFlight, 0);
});

Deno.test("`InFlightWindow.acquire()` rejects with signal.reason and leaves the queue when aborted", async () => {
  const win = new InFlightWindow(1);
  await win.acquire();
  const controller = new AbortController();
  const reason = new Error("timeout");
  const first = track(win.acquire({ signal: controller.signal }));
  const second = track(win.acquire());
  controller.abort(reason);
  await tick();
  assertStrictEquals(first.error, reason);
  assertEquals(win.waiting, 1);
  win.release();
  await tick();
  assert(second.settled);
  assertEquals(win.inFlight, 1);
  const err = await assertRejects(() =>
    win.acquire({ signal: AbortSignal.abort(reason) })
  );
  assertStrictEquals(err, reason);
  assertEquals(win.waiting, 0);
});

Deno.test("`InFlightWindow.run()` releases when the function throws", async () => {
  const win = new InFlightWindow(1);
  await assertRejects(
    () =>
      win.run(() => {
        throw new Error("no response");
      }),
    Error,
    "no response",
  );
  assertEquals(win.inFlight, 0);
  assertEquals(await win.run(async () => await Promise.resolve(7)), 7);
});

Deno.test("`InFlightWindow.run()` keeps at most size requests in flight", async () => {
  const win = new InFlightWindow(3);
  let current = 0;
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      win.run(async () => {
        peak = Math.max(peak, ++current);
        await tick();
        current--;
        return i;
      })),
  );
  assertEquals(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(peak, 3);
  assertEquals(win.inFlight, 0);
});

Deno.test("`InFlightWindow` rejects a size that is not a positive integer", () => {
  for (const size of [0, -1, 1.5, NaN, Infinity]) {
    assertThrows(
      () => new InFlightWindow(size),
      RangeError,
      "size must be a positive",
    );
  }
  assertThrows(
    () => new InFlightWindow("2" as unknown as number),
    TypeError,
    "Cannot create window: size must be a number, received string",
  );
});
