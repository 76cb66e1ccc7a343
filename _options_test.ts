// Copyright 2026 the netkit authors. MIT license.

import { assertEquals, assertThrows } from "@std/assert";
import { lines } from "./codec.ts";
import {
  checkConnectionOptions,
  connectionOptions,
  DEFAULT_LINGER_TIME,
  DEFAULT_LINGER_TIMEOUT,
  makeTimeouts,
  makeWaterMarks,
} from "./_options.ts";

Deno.test("`connectionOptions()` passes on the connection options present, and nothing else", () => {
  const codec = lines();
  const picked = connectionOptions(
    {
      codec,
      idleTimeout: 5,
      lingerTime: 0,
      borrow: true,
      highWaterMark: 1024,
      // Options of serve() that are not a connection's:
      port: 0,
      maxConnections: 3,
    } as Parameters<typeof connectionOptions>[0],
  );
  assertEquals(picked, {
    codec,
    idleTimeout: 5,
    lingerTime: 0,
    borrow: true,
    highWaterMark: 1024,
  });
});

Deno.test("`makeTimeouts()` gives the linger defaults and 0 for the rest", () => {
  assertEquals(makeTimeouts({}), {
    idle: 0,
    read: 0,
    write: 0,
    lingerTimeout: DEFAULT_LINGER_TIMEOUT,
    lingerTime: DEFAULT_LINGER_TIME,
  });
});

Deno.test("`makeWaterMarks()` keeps the one low-mark rule of WaterMarks", () => {
  assertEquals(makeWaterMarks({}).high, 65536);
  assertEquals(makeWaterMarks({}).low, 16384);
  assertEquals(makeWaterMarks({ highWaterMark: 8192 }).low, 2048);
});

Deno.test("`checkConnectionOptions()` throws RangeError for a bad timeout or water mark", () => {
  assertThrows(
    () => checkConnectionOptions({ idleTimeout: -1 }),
    RangeError,
    "idleTimeout",
  );
  assertThrows(
    () => checkConnectionOptions({ lingerTime: Infinity }),
    RangeError,
    "lingerTime",
  );
  assertThrows(
    () => checkConnectionOptions({ highWaterMark: 10, lowWaterMark: 20 }),
    RangeError,
  );
  checkConnectionOptions({ idleTimeout: 0, highWaterMark: 10 });
});
