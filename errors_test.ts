// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import fc from "fast-check";
import {
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  DecodeError,
  delay,
  FrameTooLargeError,
  isRetryable,
  NetError,
  type NetErrorCode,
  retry,
  type RetryClock,
  type RetryOptions,
  ServerClosedError,
  TimeoutError,
  TlsError,
  toNetError,
  UnexpectedEofError,
} from "./errors.ts";

// ---------------------------------------------------------------------------
// The NetError brand and the codes

Deno.test("`NetError` holds for FrameTooLargeError and DecodeError, which keep their built-in bases", () => {
  const tooLarge = new FrameTooLargeError(9, 4);
  const decode = new DecodeError("Cannot decode: bad byte");
  assert(tooLarge instanceof NetError);
  assert(tooLarge instanceof RangeError);
  assert(tooLarge instanceof FrameTooLargeError);
  assertFalse(tooLarge instanceof SyntaxError);
  assert(decode instanceof NetError);
  assert(decode instanceof SyntaxError);
  assert(decode instanceof DecodeError);
  assertFalse(decode instanceof RangeError);
  assertFalse(decode instanceof FrameTooLargeError);
});

Deno.test("`NetError` subclasses keep their own instanceof", () => {
  const reset = new ConnectionResetError("Connection reset");
  assert(reset instanceof ConnectionResetError);
  assert(reset instanceof NetError);
  assert(reset instanceof Error);
  assertFalse(reset instanceof TimeoutError);
  assertFalse(reset instanceof ConnectionRefusedError);
  assertFalse(new NetError("x") instanceof ConnectionResetError);
});

Deno.test("`NetError` does not hold for other values", () => {
  for (
    const value of [
      new Error("x"),
      new RangeError("x"),
      new SyntaxError("x"),
      new Deno.errors.ConnectionReset("x"),
      null,
      undefined,
      "ECONNRESET",
      { code: "ECONNRESET" },
    ]
  ) {
    assertFalse(value instanceof NetError, String(value));
  }
});

Deno.test("`NetError` recognises an error branded by another copy of the module", () => {
  // Two copies of netkit in one program share the brand (Symbol.for).
  const foreign = Object.assign(new Error("x"), {
    [Symbol.for("netkit.NetError")]: true,
  });
  assert(foreign instanceof NetError);
});

Deno.test("`NetError` subclasses defined by a user keep their name and brand", () => {
  class ProtocolError extends NetError {}
  const err = new ProtocolError("Cannot parse greeting", { code: "EDECODE" });
  assert(err instanceof ProtocolError);
  assert(err instanceof NetError);
  assertEquals(err.name, "ProtocolError");
  assertEquals(err.code, "EDECODE");
});

Deno.test("`NetError` classes carry their codes and names", () => {
  const table: [Error & { code: NetErrorCode }, string, NetErrorCode][] = [
    [new NetError("x"), "NetError", "EUNKNOWN"],
    [new NetError("x", { code: "EADDRINUSE" }), "NetError", "EADDRINUSE"],
    [new ConnectionRefusedError("x"), "ConnectionRefusedError", "ECONNREFUSED"],
    [new ConnectionResetError("x"), "ConnectionResetError", "ECONNRESET"],
    [new ConnectionClosedError("x"), "ConnectionClosedError", "ECLOSED"],
    [new TimeoutError("x"), "TimeoutError", "ETIMEDOUT"],
    [new FrameTooLargeError(2, 1), "FrameTooLargeError", "EFRAMETOOLARGE"],
    [new DecodeError("x"), "DecodeError", "EDECODE"],
    [new UnexpectedEofError(1), "UnexpectedEofError", "EUNEXPECTEDEOF"],
    [new ServerClosedError("x"), "ServerClosedError", "ESERVERCLOSED"],
    [new TlsError("x"), "TlsError", "ETLS"],
  ];
  for (const [err, name, code] of table) {
    assertEquals(err.name, name);
    assertEquals(err.code, code, name);
    assert(err instanceof NetError, name);
    assert(err instanceof Error, name);
    assertEquals(String(err).split(":")[0], name);
  }
});

Deno.test("`NetError.code` is read-only", () => {
  const err = new ConnectionResetError("x");
  assertThrows(() => {
    (err as { code: string }).code = "EUNKNOWN";
  }, TypeError);
  assertEquals(err.code, "ECONNRESET");
});

Deno.test("`NetError` classes keep the cause", () => {
  const cause = new Error("low level");
  const errors = [
    new NetError("x", { cause }),
    new ConnectionRefusedError("x", { cause }),
    new ConnectionResetError("x", { cause }),
    new ConnectionClosedError("x", { cause }),
    new TimeoutError("x", { cause }),
    new FrameTooLargeError(2, 1, { cause }),
    new DecodeError("x", { cause }),
    new UnexpectedEofError(1, { cause }),
    new ServerClosedError("x", { cause }),
    new TlsError("x", { cause }),
  ];
  for (const err of errors) assertStrictEquals(err.cause, cause, err.name);
});

Deno.test("`FrameTooLargeError` exposes the length and limit in its message", () => {
  const err = new FrameTooLargeError(9000000, 8388608);
  assertEquals(
    err.message,
    "Cannot decode frame: length 9000000 exceeds maxFrameLength 8388608",
  );
  assertEquals([err.length, err.limit], [9000000, 8388608]);
  assertEquals(
    new FrameTooLargeError(70000, 65536, { limitName: "maxLength" }).message,
    "Cannot decode frame: length 70000 exceeds maxLength 65536",
  );
  assertEquals(
    new FrameTooLargeError(5, 4, { message: "Cannot encode frame: too big" })
      .message,
    "Cannot encode frame: too big",
  );
});

Deno.test("`DecodeError` exposes the offset, 0 by default", () => {
  assertEquals(new DecodeError("x", { offset: 17 }).offset, 17);
  assertEquals(new DecodeError("x").offset, 0);
});

Deno.test("`UnexpectedEofError` exposes the bytes remaining", () => {
  const err = new UnexpectedEofError(3);
  assertEquals(err.remaining, 3);
  assertEquals(
    err.message,
    "Cannot decode frame: stream ended with 3 bytes of a partial frame",
  );
  assertEquals(
    new UnexpectedEofError(1, { message: "Cannot read: early EOF" }).message,
    "Cannot read: early EOF",
  );
});

Deno.test("`TimeoutError` exposes kind and timeout, with defaults", () => {
  const err = new TimeoutError("Connection idle for 30000 ms", {
    kind: "idle",
    timeout: 30000,
  });
  assertEquals([err.kind, err.timeout], ["idle", 30000]);
  const plain = new TimeoutError("x");
  assertEquals(plain.kind, "operation");
  assert(Number.isNaN(plain.timeout));
});

// ---------------------------------------------------------------------------
// toNetError

type ErrorClass = abstract new (...args: never[]) => Error;

const MAPPINGS: [string, () => unknown, ErrorClass, NetErrorCode][] = [
  [
    "ConnectionRefused",
    () =>
      new Deno.errors.ConnectionRefused("Connection refused (os error 111)"),
    ConnectionRefusedError,
    "ECONNREFUSED",
  ],
  [
    "ConnectionReset",
    () =>
      new Deno.errors.ConnectionReset(
        "Connection reset by peer (os error 104)",
      ),
    ConnectionResetError,
    "ECONNRESET",
  ],
  [
    "ConnectionAborted",
    () => new Deno.errors.ConnectionAborted("Software caused connection abort"),
    ConnectionResetError,
    "ECONNRESET",
  ],
  [
    "BrokenPipe",
    () => new Deno.errors.BrokenPipe("Broken pipe (os error 32)"),
    ConnectionResetError,
    "ECONNRESET",
  ],
  [
    "BadResource",
    () => new Deno.errors.BadResource("Bad resource ID"),
    ConnectionClosedError,
    "ECLOSED",
  ],
  [
    "Interrupted",
    () => new Deno.errors.Interrupted("operation canceled"),
    ConnectionClosedError,
    "ECLOSED",
  ],
  [
    "NotConnected",
    () => new Deno.errors.NotConnected("Transport endpoint is not connected"),
    ConnectionClosedError,
    "ECLOSED",
  ],
  [
    "TimedOut",
    () => new Deno.errors.TimedOut("Connection timed out (os error 110)"),
    TimeoutError,
    "ETIMEDOUT",
  ],
  [
    "DOMException TimeoutError",
    () => new DOMException("Signal timed out.", "TimeoutError"),
    TimeoutError,
    "ETIMEDOUT",
  ],
  [
    "UnexpectedEof",
    () => new Deno.errors.UnexpectedEof("early eof"),
    UnexpectedEofError,
    "EUNEXPECTEDEOF",
  ],
  [
    "InvalidData about a certificate",
    () =>
      new Deno.errors.InvalidData(
        "invalid peer certificate: UnknownIssuer",
      ),
    TlsError,
    "ETLS",
  ],
  [
    "InvalidData about a handshake",
    () => new Deno.errors.InvalidData("TLS handshake failed"),
    TlsError,
    "ETLS",
  ],
  [
    "InvalidData from bytes that are not TLS",
    () =>
      new Deno.errors.InvalidData(
        "received corrupt message of type InvalidContentType",
      ),
    TlsError,
    "ETLS",
  ],
  [
    "AddrInUse",
    () => new Deno.errors.AddrInUse("Address already in use (os error 98)"),
    NetError,
    "EADDRINUSE",
  ],
  [
    "AddrNotAvailable",
    () =>
      new Deno.errors.AddrNotAvailable(
        "Cannot assign requested address (os error 99)",
      ),
    NetError,
    "EADDRNOTAVAIL",
  ],
  [
    "NotFound",
    () => new Deno.errors.NotFound("No such file or directory (os error 2)"),
    NetError,
    "ENOENT",
  ],
  [
    "an error about a host with no route",
    () => new Error("No route to host (os error 113)"),
    NetError,
    "EHOSTUNREACH",
  ],
  [
    "an error about an unreachable host",
    () => new Error("Host is unreachable (os error 113)"),
    NetError,
    "EHOSTUNREACH",
  ],
  [
    "NetworkUnreachable",
    () =>
      new Deno.errors.NetworkUnreachable(
        "Network is unreachable (os error 101)",
      ),
    NetError,
    "ENETUNREACH",
  ],
  [
    "NetworkUnreachable with the Windows message",
    () =>
      new Deno.errors.NetworkUnreachable(
        "A socket operation was attempted to an unreachable network. (os error 10051)",
      ),
    NetError,
    "ENETUNREACH",
  ],
];

for (const [what, make, ErrorClass, code] of MAPPINGS) {
  Deno.test(`\`toNetError()\` maps ${what} to ${ErrorClass.name} ${code}, keeping the cause`, () => {
    const cause = make();
    const err = toNetError(cause);
    assertInstanceOf(err, ErrorClass);
    assert(err instanceof NetError);
    assertEquals((err as NetError).code, code);
    assertStrictEquals(err.cause, cause);
    assertEquals(err.message, (cause as Error).message);
    const withContext = toNetError(make(), "Cannot connect to 127.0.0.1:8888");
    assertEquals(
      withContext.message,
      `Cannot connect to 127.0.0.1:8888: ${(cause as Error).message}`,
    );
    assertEquals((withContext as NetError).code, code);
  });
}

Deno.test("`toNetError()` gives UnexpectedEof no remaining count", () => {
  const err = toNetError(new Deno.errors.UnexpectedEof("early eof"));
  assertInstanceOf(err, UnexpectedEofError);
  assert(Number.isNaN(err.remaining));
});

Deno.test("`toNetError()` returns other errors unchanged", () => {
  const unchanged = [
    new Deno.errors.PermissionDenied("Requires net access"),
    new Deno.errors.InvalidData("stream did not contain valid UTF-8"),
    new DOMException("The signal has been aborted", "AbortError"),
    new Error("my own abort reason"),
    new TypeError("bad argument"),
  ];
  for (const err of unchanged) {
    assertStrictEquals(toNetError(err), err, err.message);
    assertStrictEquals(toNetError(err, "Cannot connect"), err, err.message);
  }
});

Deno.test("`toNetError()` returns a netkit error unchanged, ignoring the context", () => {
  for (
    const err of [
      new ConnectionResetError("Connection reset"),
      new FrameTooLargeError(9, 4),
      new DecodeError("bad"),
    ]
  ) {
    assertStrictEquals(toNetError(err), err);
    assertStrictEquals(toNetError(err, "Cannot read"), err);
  }
});

Deno.test("`toNetError()` wraps a value that is not an Error in NetError EUNKNOWN", () => {
  const table: [unknown, string][] = [
    ["boom", "boom"],
    [42, "42"],
    [undefined, "undefined"],
    [null, "null"],
    [{ reason: 1 }, "[object Object]"],
  ];
  for (const [value, shown] of table) {
    const err = toNetError(value);
    assertInstanceOf(err, NetError);
    assertEquals(err.code, "EUNKNOWN");
    assertEquals(err.message, `Network operation failed: ${shown}`);
    assertStrictEquals(err.cause, value);
    assertEquals(
      toNetError(value, "Cannot connect").message,
      `Cannot connect: ${shown}`,
    );
  }
});

Deno.test("`toNetError()` wraps a value that cannot be converted to a string", () => {
  const value = Object.create(null);
  const err = toNetError(value);
  assertInstanceOf(err, NetError);
  assertEquals(err.code, "EUNKNOWN");
  assertStrictEquals(err.cause, value);
});

// ---------------------------------------------------------------------------
// isRetryable

Deno.test("`isRetryable()` tells which failures may succeed on another try", () => {
  const table: [string, unknown, boolean][] = [
    ["ConnectionRefused", new Deno.errors.ConnectionRefused("x"), true],
    ["ConnectionReset", new Deno.errors.ConnectionReset("x"), true],
    ["ConnectionAborted", new Deno.errors.ConnectionAborted("x"), true],
    ["BrokenPipe", new Deno.errors.BrokenPipe("x"), true],
    ["TimedOut", new Deno.errors.TimedOut("x"), true],
    ["AbortSignal.timeout()", new DOMException("x", "TimeoutError"), true],
    ["AddrNotAvailable", new Deno.errors.AddrNotAvailable("x"), true],
    ["no route to host", new Error("No route to host (os error 113)"), true],
    [
      "network unreachable",
      new Deno.errors.NetworkUnreachable("Network is unreachable"),
      true,
    ],
    ["ConnectionRefusedError", new ConnectionRefusedError("x"), true],
    ["ConnectionResetError", new ConnectionResetError("x"), true],
    ["TimeoutError", new TimeoutError("x", { kind: "connect" }), true],
    ["TlsError", new TlsError("x"), false],
    [
      "InvalidData certificate",
      new Deno.errors.InvalidData("bad certificate"),
      false,
    ],
    ["DecodeError", new DecodeError("x"), false],
    ["FrameTooLargeError", new FrameTooLargeError(2, 1), false],
    ["UnexpectedEofError", new UnexpectedEofError(1), false],
    ["ConnectionClosedError", new ConnectionClosedError("x"), false],
    ["BadResource", new Deno.errors.BadResource("x"), false],
    ["ServerClosedError", new ServerClosedError("x"), false],
    ["AddrInUse", new Deno.errors.AddrInUse("x"), false],
    ["NotFound", new Deno.errors.NotFound("x"), false],
    ["PermissionDenied", new Deno.errors.PermissionDenied("x"), false],
    ["AbortError", new DOMException("x", "AbortError"), false],
    ["a plain Error", new Error("x"), false],
    ["a string", "ECONNREFUSED", false],
    ["undefined", undefined, false],
  ];
  for (const [what, err, expected] of table) {
    assertEquals(isRetryable(err), expected, what);
  }
});

// ---------------------------------------------------------------------------
// retry

interface FakeClock extends RetryClock {
  /** Every sleep asked for, in order. */
  sleeps: number[];
  /** Moves the clock on, as time spent inside `fn`. */
  advance(ms: number): void;
}

function fakeClock(): FakeClock {
  let t = 1000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) return Promise.reject(signal.reason);
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

/** A function that throws the given errors in turn, then returns `"ok"`. */
function failing(errors: unknown[]): {
  fn: (attempt: number) => Promise<string>;
  attempts: number[];
} {
  const attempts: number[] = [];
  return {
    attempts,
    fn: (attempt: number) => {
      attempts.push(attempt);
      const err = errors[attempts.length - 1];
      return err === undefined ? Promise.resolve("ok") : Promise.reject(err);
    },
  };
}

const refused = (n: number) =>
  new Deno.errors.ConnectionRefused(`refused ${n}`);

Deno.test("`retry()` succeeds after failures, passing the attempt number", async () => {
  const clock = fakeClock();
  const { fn, attempts } = failing([refused(1), refused(2)]);
  const result = await retry(fn, { clock, random: () => 0.5 });
  assertEquals(result, "ok");
  assertEquals(attempts, [1, 2, 3]);
  assertEquals(clock.sleeps, [50, 100]);
});

Deno.test("`retry()` returns the first result without waiting", async () => {
  const clock = fakeClock();
  assertEquals(await retry(() => 7, { clock }), 7);
  assertEquals(clock.sleeps, []);
});

Deno.test("`retry()` stops at maxAttempts and throws the last error unchanged", async () => {
  const clock = fakeClock();
  const errors = [refused(1), refused(2), refused(3), refused(4)];
  const { fn, attempts } = failing(errors);
  const err = await assertRejects(() =>
    retry(fn, { maxAttempts: 3, clock, random: () => 0 })
  );
  assertStrictEquals(err, errors[2]);
  assertEquals(attempts, [1, 2, 3]);
  assertEquals(clock.sleeps.length, 2);
});

Deno.test("`retry()` with maxAttempts 1 calls once", async () => {
  const clock = fakeClock();
  const { fn, attempts } = failing([refused(1)]);
  const err = await assertRejects(() => retry(fn, { maxAttempts: 1, clock }));
  assertEquals(attempts, [1]);
  assertInstanceOf(err, Deno.errors.ConnectionRefused);
  assertEquals(clock.sleeps, []);
});

Deno.test("`retry()` stops at a non-retryable error immediately", async () => {
  for (
    const bad of [
      new TlsError("Cannot connect: invalid peer certificate"),
      new Deno.errors.PermissionDenied("Requires net access"),
      new DecodeError("bad"),
      "not an error",
    ]
  ) {
    const clock = fakeClock();
    const { fn, attempts } = failing([bad]);
    const err = await assertRejects(() => retry(fn, { clock }));
    assertStrictEquals(err, bad);
    assertEquals(attempts, [1]);
    assertEquals(clock.sleeps, []);
  }
});

Deno.test("`retry()` asks the retryable option with the error and the attempt", async () => {
  const clock = fakeClock();
  const asked: [unknown, number][] = [];
  const errors = [new Error("a"), new Error("b"), new Error("c")];
  const { fn, attempts } = failing(errors);
  const err = await assertRejects(() =>
    retry(fn, {
      clock,
      retryable: (e, attempt) => {
        asked.push([e, attempt]);
        return attempt < 2;
      },
    })
  );
  assertStrictEquals(err, errors[1]);
  assertEquals(attempts, [1, 2]);
  assertEquals(asked, [[errors[0], 1], [errors[1], 2]]);
});

Deno.test("`retry()` waits a full-jitter delay below a cap that grows by multiplier up to maxDelay", async () => {
  const options: RetryOptions = {
    maxAttempts: 7,
    minDelay: 100,
    multiplier: 3,
    maxDelay: 1000,
  };
  // Just below 1: the largest wait each cap allows.
  const high = fakeClock();
  await assertRejects(() =>
    retry(failing(Array.from({ length: 7 }, (_, i) => refused(i))).fn, {
      ...options,
      clock: high,
      random: () => 0.999999,
    })
  );
  assertEquals(high.sleeps, [99, 299, 899, 999, 999, 999]);
  // 0: no wait at all.
  const low = fakeClock();
  await assertRejects(() =>
    retry(failing(Array.from({ length: 7 }, (_, i) => refused(i))).fn, {
      ...options,
      clock: low,
      random: () => 0,
    })
  );
  assertEquals(low.sleeps, [0, 0, 0, 0, 0, 0]);
});

Deno.test("`retry()` keeps every wait in [0, cap) for any random numbers", async () => {
  const uniform = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
  await fc.assert(
    fc.asyncProperty(
      fc.array(uniform, { minLength: 9, maxLength: 9 }),
      fc.integer({ min: 0, max: 500 }),
      fc.double({ min: 1, max: 4, noNaN: true }),
      fc.integer({ min: 0, max: 5000 }),
      async (randoms, minDelay, multiplier, extra) => {
        const maxDelay = minDelay + extra;
        const clock = fakeClock();
        let k = 0;
        await assertRejects(() =>
          retry(
            failing(Array.from({ length: 10 }, (_, i) => refused(i))).fn,
            {
              maxAttempts: 10,
              minDelay,
              maxDelay,
              multiplier,
              clock,
              random: () => randoms[k++]!,
            },
          )
        );
        assertEquals(clock.sleeps.length, 9);
        clock.sleeps.forEach((wait, n) => {
          const cap = Math.min(maxDelay, minDelay * multiplier ** n);
          assert(Number.isInteger(wait), `wait ${wait}`);
          assertGreaterOrEqual(wait, 0);
          if (cap >= 1) assertLess(wait, cap, `wait ${n + 1}`);
          else assertEquals(wait, 0);
        });
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("`retry()` stops before a wait that would end past maxElapsed", async () => {
  const clock = fakeClock();
  const errors = [refused(1), refused(2), refused(3), refused(4), refused(5)];
  const { fn, attempts } = failing(errors);
  // Waits 50, 100, 200: the third would end at 350, past 300.
  const err = await assertRejects(() =>
    retry(fn, { clock, random: () => 0.5, maxElapsed: 300 })
  );
  assertStrictEquals(err, errors[2]);
  assertEquals(attempts, [1, 2, 3]);
  assertEquals(clock.sleeps, [50, 100]);
});

Deno.test("`retry()` counts the time spent in attempts against maxElapsed", async () => {
  const clock = fakeClock();
  let calls = 0;
  const err = await assertRejects(() =>
    retry(() => {
      calls++;
      clock.advance(100);
      throw refused(calls);
    }, { clock, random: () => 0, maxElapsed: 250, maxAttempts: 10 })
  );
  assertEquals(calls, 3);
  assertEquals((err as Error).message, "refused 3");
});

Deno.test("`retry()` allows a wait that ends exactly at maxElapsed", async () => {
  const clock = fakeClock();
  const { fn, attempts } = failing([refused(1)]);
  assertEquals(
    await retry(fn, { clock, random: () => 0.5, maxElapsed: 50 }),
    "ok",
  );
  assertEquals(attempts, [1, 2]);
  assertEquals(clock.sleeps, [50]);
});

Deno.test("`retry()` rejects with signal.reason when the signal is already aborted", async () => {
  for (const reason of [new Error("stop"), "a string reason"]) {
    const clock = fakeClock();
    let calls = 0;
    const err = await assertRejects(() =>
      retry(() => {
        calls++;
        return 1;
      }, { clock, signal: AbortSignal.abort(reason) })
    );
    assertStrictEquals(err, reason);
    assertEquals(calls, 0);
  }
});

Deno.test("`retry()` rejects with signal.reason when aborted during a wait", async () => {
  const controller = new AbortController();
  const reason = new Error("shutting down");
  let calls = 0;
  let abortTimer: ReturnType<typeof setTimeout> | undefined;
  const started = performance.now();
  const err = await assertRejects(() =>
    retry(() => {
      calls++;
      throw refused(calls);
    }, {
      minDelay: 20_000,
      maxDelay: 20_000,
      random: () => 0.5,
      signal: controller.signal,
      onRetry: () => {
        abortTimer = setTimeout(() => controller.abort(reason), 10);
      },
    })
  );
  clearTimeout(abortTimer);
  assertStrictEquals(err, reason);
  assertEquals(calls, 1);
  assertLess(performance.now() - started, 5000);
});

Deno.test("`retry()` rejects with signal.reason when aborted during an attempt", async () => {
  const controller = new AbortController();
  const reason = new Error("cancelled");
  const clock = fakeClock();
  let calls = 0;
  const err = await assertRejects(() =>
    retry(() => {
      calls++;
      controller.abort(reason);
      throw refused(calls);
    }, { clock, signal: controller.signal })
  );
  assertStrictEquals(err, reason);
  assertEquals(calls, 1);
  assertEquals(clock.sleeps, []);
  // Also when the attempt was the last one.
  const last = new AbortController();
  const lastErr = await assertRejects(() =>
    retry(() => {
      last.abort(reason);
      throw refused(1);
    }, { clock, signal: last.signal, maxAttempts: 1 })
  );
  assertStrictEquals(lastErr, reason);
});

Deno.test("`retry()` calls onRetry with the error, the attempt and the delay before each wait", async () => {
  const clock = fakeClock();
  const errors = [refused(1), refused(2)];
  const { fn } = failing(errors);
  const seen: [unknown, number, number, number][] = [];
  await retry(fn, {
    clock,
    random: () => 0.25,
    minDelay: 40,
    onRetry: (err, attempt, wait) => {
      seen.push([err, attempt, wait, clock.sleeps.length]);
    },
  });
  assertEquals(seen, [
    [errors[0], 1, 10, 0],
    [errors[1], 2, 20, 1],
  ]);
  assertEquals(clock.sleeps, [10, 20]);
});

Deno.test("`retry()` rejects invalid options with RangeError before calling fn", async () => {
  const bad: RetryOptions[] = [
    { maxAttempts: 0 },
    { maxAttempts: -1 },
    { maxAttempts: NaN },
    { minDelay: -1 },
    { minDelay: NaN },
    { minDelay: 200, maxDelay: 100 },
    { maxDelay: NaN },
    { multiplier: 0.5 },
    { multiplier: NaN },
  ];
  for (const options of bad) {
    let calls = 0;
    await assertRejects(
      () =>
        retry(() => {
          calls++;
        }, { ...options, clock: fakeClock() }),
      RangeError,
      "Cannot retry",
      JSON.stringify(options),
    );
    assertEquals(calls, 0, JSON.stringify(options));
  }
});

Deno.test("`retry()` waits on the real clock by default", async () => {
  const { fn, attempts } = failing([refused(1)]);
  const started = performance.now();
  assertEquals(await retry(fn, { minDelay: 5, random: () => 0.99 }), "ok");
  assertEquals(attempts, [1, 2]);
  assertGreaterOrEqual(performance.now() - started, 3);
});

// ---------------------------------------------------------------------------
// delay

Deno.test("`delay()` resolves after the time", async () => {
  const started = performance.now();
  await delay(20);
  assertGreaterOrEqual(performance.now() - started, 15);
});

Deno.test("`delay()` rejects with signal.reason when the signal is already aborted", async () => {
  const reason = new Error("stop");
  const err = await assertRejects(() =>
    delay(60_000, AbortSignal.abort(reason))
  );
  assertStrictEquals(err, reason);
});

Deno.test("`delay()` rejects with signal.reason on abort and clears its timer", async () => {
  // The op sanitizer fails this test if the 60 s timer is left behind.
  const controller = new AbortController();
  const reason = new Error("stop");
  const started = performance.now();
  const pending = delay(60_000, controller.signal);
  queueMicrotask(() => controller.abort(reason));
  const err = await assertRejects(() => pending);
  assertStrictEquals(err, reason);
  assertLess(performance.now() - started, 5000);
});

Deno.test("`delay()` removes its abort listener when it resolves", async () => {
  const controller = new AbortController();
  const signal = controller.signal;
  let listening = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listening++;
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listening--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  await delay(1, signal);
  assertEquals(listening, 0);
  // A later abort reaches nothing.
  controller.abort();
});
