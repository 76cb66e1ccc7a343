// Copyright 2026 the netkit authors. MIT license.
// Each family has its tests beside it in flow/; the clock's are in
// _clock_test.ts. This file tests the face.

import { assertEquals } from "@std/assert";
import * as flow from "./flow.ts";
import * as mod from "./mod.ts";

Deno.test("`flow.ts` re-exports each flow-control family and the shared clock, and mod.ts all of them", () => {
  const names = [
    "InFlightWindow",
    "ManualClock",
    "REAL_CLOCK",
    "Semaphore",
    "TokenBucket",
    "WaterMarks",
    "throttle",
  ];
  assertEquals(Object.keys(flow).sort(), names.sort());
  for (const name of names) {
    assertEquals(
      mod[name as keyof typeof mod],
      flow[name as keyof typeof flow],
      name,
    );
  }
});
