// Copyright 2026 the netkit authors. MIT license.
// Helpers shared by the flow-control tests (not part of the package).

import type { ManualClock } from "../_clock.ts";

/** Lets every pending microtask run (one macrotask hop). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Watches a promise without awaiting it. */
export function track<T>(promise: Promise<T>) {
  const state = {
    settled: false,
    value: undefined as T | undefined,
    error: undefined as unknown,
  };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

/** Advances the clock, then lets the continuations run. */
export async function advance(clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await tick();
}
