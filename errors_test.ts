// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import {
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  DecodeError,
  FrameTooLargeError,
  isRetryable,
  NetError,
  type NetErrorCode,
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
