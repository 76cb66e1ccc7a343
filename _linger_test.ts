// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertLess,
  assertLessOrEqual,
} from "@std/assert";
import { drainInput, type LingerTransport, sendFin } from "./_linger.ts";
import { transportPair } from "./testing.ts";

const BOUNDS = { lingerTimeout: 200, lingerTime: 2000 };

/** A transport that counts its reads and fails if two overlap. */
class CountingTransport implements LingerTransport {
  reads = 0;
  inFlight = 0;
  maxInFlight = 0;
  closeWrites = 0;
  readonly #inner: LingerTransport;

  constructor(inner: LingerTransport) {
    this.#inner = inner;
  }

  async read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      return await this.#inner.read(p);
    } finally {
      this.inFlight--;
    }
  }

  closeWrite(): Promise<void> {
    this.closeWrites++;
    return this.#inner.closeWrite();
  }
}

Deno.test("`drainInput()` discards what the peer sends until its EOF", async () => {
  const [a, b] = transportPair({ capacity: 4096 });
  const sending = (async () => {
    const chunk = new Uint8Array(1000);
    for (let i = 0; i < 100; i++) {
      let off = 0;
      while (off < chunk.length) off += await b.write(chunk.subarray(off));
    }
    await b.closeWrite();
  })();
  const outcome = await drainInput(a, null, BOUNDS);
  await sending;
  assertEquals(outcome, { end: "eof", discarded: 100_000 });
  a.close();
  b.close();
});

Deno.test("`drainInput()` waits for the read already pending instead of reading alongside it", async () => {
  const [inner, b] = transportPair();
  const a = new CountingTransport(inner);
  // The connection's own read, started before the linger.
  const pending = a.read(new Uint8Array(16));
  const outcome = drainInput(a, pending, BOUNDS);
  await b.write(new Uint8Array(10));
  await b.write(new Uint8Array(20));
  await b.closeWrite();
  assertEquals(await outcome, { end: "eof", discarded: 30 });
  assertEquals(await pending, 10);
  assertEquals(a.maxInFlight, 1);
  inner.close();
  b.close();
});

Deno.test("`drainInput()` ends when the pending read ends the stream", async () => {
  const [inner, b] = transportPair();
  const a = new CountingTransport(inner);
  const pending = a.read(new Uint8Array(16));
  await b.closeWrite();
  assertEquals(await drainInput(a, pending, BOUNDS), {
    end: "eof",
    discarded: 0,
  });
  assertEquals(a.reads, 1);
  inner.close();
  b.close();
});

Deno.test("`drainInput()` gives up after lingerTimeout without a byte", async () => {
  const [a, b] = transportPair();
  const start = performance.now();
  const outcome = await drainInput(a, null, {
    lingerTimeout: 100,
    lingerTime: 5000,
  });
  const elapsed = performance.now() - start;
  assertEquals(outcome, { end: "timeout", discarded: 0 });
  assertGreaterOrEqual(elapsed, 99);
  assertLess(elapsed, 1000);
  // The read left pending fails when the socket closes, unobserved.
  a.close();
  b.close();
});

Deno.test("`drainInput()` gives up after lingerTime however the peer trickles, on few timers", async () => {
  const [a, b] = transportPair();
  let stop = false;
  const trickle = (async () => {
    while (!stop) {
      await b.write(new Uint8Array(1)).catch(() => (stop = true));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const realSetTimeout = globalThis.setTimeout;
  let timers = 0;
  const start = performance.now();
  const outcome = drainInput(a, null, { lingerTimeout: 50, lingerTime: 300 });
  // Count the linger's timers only: the trickle's are made before the stub.
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    if (args[1] !== 10) timers++;
    return realSetTimeout(...args);
  }) as typeof setTimeout;
  let result;
  try {
    result = await outcome;
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  const elapsed = performance.now() - start;
  stop = true;
  assertEquals(result.end, "time");
  assertGreaterOrEqual(result.discarded, 5);
  assertGreaterOrEqual(elapsed, 299);
  assertLess(elapsed, 2000);
  // 300 ms of lingerTimeout 50: one timer per 50 ms period at most (the
  // first was made before the stub), never one per byte.
  assertLessOrEqual(timers, 300 / 50);
  a.close();
  await trickle;
  b.close();
});

Deno.test("`drainInput()` ends on a read error", async () => {
  const failing: LingerTransport = {
    read: () => Promise.reject(new Deno.errors.ConnectionReset("reset")),
    closeWrite: () => Promise.resolve(),
  };
  assertEquals(await drainInput(failing, null, BOUNDS), {
    end: "error",
    discarded: 0,
  });
});

Deno.test("`drainInput()` does nothing when lingering is off", async () => {
  const [inner, b] = transportPair();
  const a = new CountingTransport(inner);
  for (
    const bounds of [{ lingerTimeout: 0, lingerTime: 1000 }, {
      lingerTimeout: 1000,
      lingerTime: 0,
    }]
  ) {
    assertEquals(await drainInput(a, null, bounds), {
      end: "off",
      discarded: 0,
    });
  }
  assertEquals(a.reads, 0);
  inner.close();
  b.close();
});

Deno.test("`sendFin()` shuts the write side: the peer reads EOF", async () => {
  const [inner, b] = transportPair();
  const a = new CountingTransport(inner);
  assert(await sendFin(a, BOUNDS));
  assertEquals(a.closeWrites, 1);
  assertEquals(await b.read(new Uint8Array(1)), null);
  inner.close();
  b.close();
});

Deno.test("`sendFin()` reports a write side that cannot be shut, and bounds one that hangs", async () => {
  const refused: LingerTransport = {
    read: () => Promise.resolve(null),
    closeWrite: () => Promise.reject(new Deno.errors.NotConnected("gone")),
  };
  assertEquals(await sendFin(refused, BOUNDS), false);
  const hanging: LingerTransport = {
    read: () => Promise.resolve(null),
    closeWrite: () => new Promise(() => {}),
  };
  const start = performance.now();
  assert(await sendFin(hanging, { lingerTimeout: 50, lingerTime: 1000 }));
  assertGreaterOrEqual(performance.now() - start, 49);
});
