// Copyright 2026 the netkit authors. MIT license.

/**
 * Typed errors for network code, a mapping from `Deno.errors.*` into them,
 * and {@linkcode isRetryable}, which tells the ones worth another attempt
 * (the retry policy itself is `retry` in `retry.ts`).
 *
 * Every error netkit raises is a {@linkcode NetError}: it has a stable
 * {@linkcode NetError.code} and keeps the low-level error as `cause`. The
 * framing errors also extend the closest built-in class, so
 * `err instanceof RangeError` holds for {@linkcode FrameTooLargeError} and
 * `err instanceof SyntaxError` for {@linkcode DecodeError}, while
 * `err instanceof NetError` holds for both.
 *
 * ```ts
 * import { ConnectionRefusedError, isRetryable, NetError, toNetError } from "@netkit/net/errors";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const err = toNetError(new Deno.errors.ConnectionRefused("refused"));
 * assert(err instanceof ConnectionRefusedError);
 * assert(err instanceof NetError);
 * assertEquals(err.code, "ECONNREFUSED");
 * assert(isRetryable(err));
 * ```
 *
 * @module
 */

/**
 * The stable codes carried by {@linkcode NetError}. They follow the POSIX
 * names where one exists.
 */
export type NetErrorCode =
  | "ECONNREFUSED"
  | "ECONNRESET"
  | "ECLOSED"
  | "ETIMEDOUT"
  | "EFRAMETOOLARGE"
  | "EDECODE"
  | "EUNEXPECTEDEOF"
  | "ESERVERCLOSED"
  | "ETLS"
  | "EPROXY"
  | "ECONNLIMIT"
  | "EADDRINUSE"
  | "EADDRNOTAVAIL"
  | "EHOSTUNREACH"
  | "ENETUNREACH"
  | "ENOENT"
  | "EUNKNOWN";

/** Options for {@linkcode NetError}. */
export interface NetErrorOptions {
  /**
   * The stable code of the error.
   *
   * @default {"EUNKNOWN"}
   */
  code?: NetErrorCode;
  /**
   * The underlying error.
   *
   * @default {undefined}
   */
  cause?: unknown;
}

const BRAND = Symbol.for("netkit.NetError");

function brand(err: Error, name: string, code: NetErrorCode): void {
  Object.defineProperty(err, "name", {
    value: name,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  Object.defineProperty(err, "code", {
    value: code,
    writable: false,
    enumerable: true,
    configurable: false,
  });
  Object.defineProperty(err, BRAND, { value: true });
}

/**
 * The base of every error netkit raises. `err instanceof NetError` is true
 * for all of them, including {@linkcode FrameTooLargeError} and
 * {@linkcode DecodeError}, which extend `RangeError` and `SyntaxError`.
 *
 * @example Usage
 * ```ts
 * import { NetError } from "@netkit/net/errors";
 * import { assertEquals } from "@std/assert";
 *
 * const err = new NetError("Cannot bind: address in use", { code: "EADDRINUSE" });
 * assertEquals(err.code, "EADDRINUSE");
 * assertEquals(err.name, "NetError");
 * ```
 */
export class NetError extends Error {
  /** The stable code of the error, such as `"ECONNRESET"`. */
  declare readonly code: NetErrorCode;

  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The code and cause.
   */
  constructor(message: string, options: NetErrorOptions = {}) {
    super(message, { cause: options.cause });
    brand(this, new.target.name, options.code ?? "EUNKNOWN");
  }

  /**
   * Tells whether a value is a netkit error, including the ones that extend
   * `RangeError` or `SyntaxError`.
   *
   * @param value The value to test.
   * @returns Whether `value` is a netkit error.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== NetError) {
      return Function.prototype[Symbol.hasInstance].call(this, value);
    }
    return typeof value === "object" && value !== null && BRAND in value;
  }
}

/**
 * The peer refused the connection (nothing listens there).
 *
 * @example Usage
 * ```ts
 * import { ConnectionRefusedError } from "@netkit/net/errors";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new ConnectionRefusedError("Cannot connect").code, "ECONNREFUSED");
 * ```
 */
export class ConnectionRefusedError extends NetError {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The cause.
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ECONNREFUSED", cause: options.cause });
  }
}

/**
 * The peer reset the connection, or the connection broke mid-stream.
 *
 * @example Usage
 * ```ts
 * import { ConnectionResetError } from "@netkit/net/errors";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new ConnectionResetError("Connection reset").code, "ECONNRESET");
 * ```
 */
export class ConnectionResetError extends NetError {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The cause.
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ECONNRESET", cause: options.cause });
  }
}

/**
 * An operation was attempted on a connection that is already closed.
 *
 * @example Usage
 * ```ts
 * import { ConnectionClosedError } from "@netkit/net/errors";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new ConnectionClosedError("Cannot send: connection closed").code, "ECLOSED");
 * ```
 */
export class ConnectionClosedError extends NetError {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The cause.
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ECLOSED", cause: options.cause });
  }
}

/** What timed out, as carried by {@linkcode TimeoutError.kind}. */
export type TimeoutKind =
  | "connect"
  | "idle"
  | "read"
  | "write"
  | "handshake"
  | "proxy-header"
  | "shutdown"
  | "request"
  | "operation";

/**
 * An operation did not finish in its time.
 *
 * @example Usage
 * ```ts
 * import { TimeoutError } from "@netkit/net/errors";
 * import { assertEquals } from "@std/assert";
 *
 * const err = new TimeoutError("Connection idle for 30000 ms", { kind: "idle", timeout: 30000 });
 * assertEquals([err.code, err.kind, err.timeout], ["ETIMEDOUT", "idle", 30000]);
 * ```
 */
export class TimeoutError extends NetError {
  /** What timed out. */
  readonly kind: TimeoutKind;
  /** The limit that was exceeded, in milliseconds (`NaN` when unknown). */
  readonly timeout: number;

  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options What timed out, the limit and the cause.
   */
  constructor(
    message: string,
    options: { kind?: TimeoutKind; timeout?: number; cause?: unknown } = {},
  ) {
    super(message, { code: "ETIMEDOUT", cause: options.cause });
    this.kind = options.kind ?? "operation";
    this.timeout = options.timeout ?? NaN;
  }
}

/**
 * A frame is longer than the codec allows. Extends `RangeError`;
 * `instanceof NetError` holds too.
 *
 * @example Usage
 * ```ts
 * import { FrameTooLargeError, NetError } from "@netkit/net/errors";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const err = new FrameTooLargeError(9000000, 8388608);
 * assertEquals(err.message, "Cannot decode frame: length 9000000 exceeds maxFrameLength 8388608");
 * assert(err instanceof RangeError && err instanceof NetError);
 * ```
 */
export class FrameTooLargeError extends RangeError {
  /** Always `"EFRAMETOOLARGE"`. */
  declare readonly code: "EFRAMETOOLARGE";
  /** The length of the frame (as announced, or as seen so far). */
  readonly length: number;
  /** The limit it exceeds. */
  readonly limit: number;

  /**
   * Constructs a new instance.
   *
   * @param length The length of the frame, announced or seen so far.
   * @param limit The limit it exceeds.
   * @param options The name of the limit for the message, and the cause.
   */
  constructor(
    length: number,
    limit: number,
    options: {
      limitName?: string | undefined;
      message?: string | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(
      options.message ??
        `Cannot decode frame: length ${length} exceeds ${
          options.limitName ?? "maxFrameLength"
        } ${limit}`,
      { cause: options.cause },
    );
    brand(this, "FrameTooLargeError", "EFRAMETOOLARGE");
    this.length = length;
    this.limit = limit;
  }
}

/**
 * Input bytes cannot be decoded (bad header, invalid UTF-8, invalid JSON, a
 * message the validator refused). Extends `SyntaxError`;
 * `instanceof NetError` holds too.
 *
 * @example Usage
 * ```ts
 * import { DecodeError, NetError } from "@netkit/net/errors";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const err = new DecodeError("Cannot decode netstring: expected ':' at offset 3", { offset: 3 });
 * assertEquals(err.offset, 3);
 * assert(err instanceof SyntaxError && err instanceof NetError);
 * ```
 */
export class DecodeError extends SyntaxError {
  /** Always `"EDECODE"`. */
  declare readonly code: "EDECODE";
  /**
   * How many bytes of the stream the decoder had consumed when it failed,
   * or the offset of the bad byte inside the frame (see the message).
   */
  readonly offset: number;

  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The offset and the cause.
   */
  constructor(
    message: string,
    options: { offset?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    brand(this, "DecodeError", "EDECODE");
    this.offset = options.offset ?? 0;
  }
}

/**
 * The stream ended inside a frame.
 *
 * @example Usage
 * ```ts
 * import { UnexpectedEofError } from "@netkit/net/errors";
 * import { assertEquals } from "@std/assert";
 *
 * const err = new UnexpectedEofError(3);
 * assertEquals(err.message, "Cannot decode frame: stream ended with 3 bytes of a partial frame");
 * assertEquals(err.remaining, 3);
 * ```
 */
export class UnexpectedEofError extends NetError {
  /** How many bytes of the partial frame were left undecoded. */
  readonly remaining: number;

  /**
   * Constructs a new instance.
   *
   * @param remaining How many bytes of the partial frame were left.
   * @param options A message to use instead of the default, and the cause.
   */
  constructor(
    remaining: number,
    options: { message?: string | undefined; cause?: unknown } = {},
  ) {
    super(
      options.message ??
        `Cannot decode frame: stream ended with ${remaining} bytes of a partial frame`,
      { code: "EUNEXPECTEDEOF", cause: options.cause },
    );
    this.remaining = remaining;
  }
}

/**
 * The server is shutting down or closed, so it takes no more work.
 *
 * @example Usage
 * ```ts
 * import { ServerClosedError } from "@netkit/net/errors";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new ServerClosedError("Server is shutting down").code, "ESERVERCLOSED");
 * ```
 */
export class ServerClosedError extends NetError {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The cause.
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ESERVERCLOSED", cause: options.cause });
  }
}

/**
 * A TLS handshake or certificate failed. Never retryable: a bad certificate
 * stays bad.
 *
 * @example Usage
 * ```ts
 * import { isRetryable, TlsError } from "@netkit/net/errors";
 * import { assertEquals } from "@std/assert";
 *
 * const err = new TlsError("Cannot connect: invalid peer certificate");
 * assertEquals([err.code, isRetryable(err)], ["ETLS", false]);
 * ```
 */
export class TlsError extends NetError {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The cause.
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ETLS", cause: options.cause });
  }
}

function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

const TLS_PATTERN =
  /certificate|handshake|tls|ssl|alert|UnknownIssuer|corrupt message|InvalidContentType/i;

/**
 * Maps an error thrown by `Deno.connect`, `Deno.Conn.read` and friends, or
 * an abort reason, into a netkit error, keeping the original as `cause`.
 *
 * - `ConnectionRefused` → {@linkcode ConnectionRefusedError}
 * - `ConnectionReset`, `ConnectionAborted`, `BrokenPipe` →
 *   {@linkcode ConnectionResetError}
 * - `BadResource`, `Interrupted`, `NotConnected` →
 *   {@linkcode ConnectionClosedError}
 * - `TimedOut` and a `DOMException` named `TimeoutError` (from
 *   `AbortSignal.timeout()`) → {@linkcode TimeoutError}
 * - `UnexpectedEof` → {@linkcode UnexpectedEofError}
 * - `InvalidData` about a certificate or handshake → {@linkcode TlsError}
 * - `AddrInUse`, `AddrNotAvailable`, `NotFound` → {@linkcode NetError} with
 *   `EADDRINUSE`, `EADDRNOTAVAIL`, `ENOENT`; a host or network that cannot be
 *   reached → `EHOSTUNREACH` / `ENETUNREACH`
 *
 * A netkit error, and any other `Error` (an abort reason of the caller's
 * own, a `PermissionDenied`), is returned unchanged; a value that is not an
 * `Error` is wrapped in a {@linkcode NetError} with code `EUNKNOWN`.
 *
 * @example Usage
 * ```ts
 * import { ConnectionResetError, toNetError } from "@netkit/net/errors";
 * import { assert } from "@std/assert";
 *
 * const cause = new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)");
 * const err = toNetError(cause);
 * assert(err instanceof ConnectionResetError && err.cause === cause);
 * ```
 *
 * @param err The error or abort reason.
 * @param context A prefix for the message, such as `"Cannot connect to 127.0.0.1:8888"`.
 * @returns The netkit error, or `err` itself when no mapping applies.
 */
export function toNetError(err: unknown, context?: string): Error {
  if (err instanceof NetError) return err as Error;
  if (!(err instanceof Error)) {
    return new NetError(
      `${context ?? "Network operation failed"}: ${describe(err)}`,
      { cause: err },
    );
  }
  const message = context ? `${context}: ${err.message}` : err.message;
  const options = { cause: err };
  const e = Deno.errors;
  if (err instanceof e.ConnectionRefused) {
    return new ConnectionRefusedError(message, options);
  }
  if (
    err instanceof e.ConnectionReset || err instanceof e.ConnectionAborted ||
    err instanceof e.BrokenPipe
  ) {
    return new ConnectionResetError(message, options);
  }
  if (
    err instanceof e.BadResource || err instanceof e.Interrupted ||
    err instanceof e.NotConnected
  ) {
    return new ConnectionClosedError(message, options);
  }
  if (
    err instanceof e.TimedOut ||
    (err instanceof DOMException && err.name === "TimeoutError")
  ) {
    return new TimeoutError(message, options);
  }
  if (err instanceof e.UnexpectedEof) {
    return new UnexpectedEofError(NaN, { message, cause: err });
  }
  if (err instanceof e.InvalidData && TLS_PATTERN.test(err.message)) {
    return new TlsError(message, options);
  }
  if (err instanceof e.AddrInUse) {
    return new NetError(message, { code: "EADDRINUSE", cause: err });
  }
  if (err instanceof e.AddrNotAvailable) {
    return new NetError(message, { code: "EADDRNOTAVAIL", cause: err });
  }
  if (err instanceof e.NotFound) {
    return new NetError(message, { code: "ENOENT", cause: err });
  }
  if (/host is unreachable|no route to host/i.test(err.message)) {
    return new NetError(message, { code: "EHOSTUNREACH", cause: err });
  }
  if (
    (e.NetworkUnreachable && err instanceof e.NetworkUnreachable) ||
    /network is unreachable/i.test(err.message)
  ) {
    return new NetError(message, { code: "ENETUNREACH", cause: err });
  }
  return err;
}

const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
]);

/**
 * Tells whether an operation that failed with `err` may succeed if tried
 * again: refused, reset, timed out, or an unreachable host. A TLS failure,
 * a decode error, an abort by the caller or a permission error never is.
 *
 * @example Usage
 * ```ts
 * import { isRetryable, TimeoutError, TlsError } from "@netkit/net/errors";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(isRetryable(new TimeoutError("Cannot connect: timed out")), true);
 * assertEquals(isRetryable(new TlsError("Cannot connect: bad certificate")), false);
 * assertEquals(isRetryable(new Deno.errors.ConnectionRefused("refused")), true);
 * ```
 *
 * @param err The error.
 * @returns Whether trying again makes sense.
 */
export function isRetryable(err: unknown): boolean {
  const mapped = toNetError(err);
  return mapped instanceof NetError &&
    RETRYABLE_CODES.has((mapped as NetError).code);
}
