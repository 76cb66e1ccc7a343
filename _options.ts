// Copyright 2026 the netkit authors. MIT license.

/**
 * Private: the options a {@linkcode Connection} shares with `serve` and
 * `connect` — their types (each property documented here, once), their
 * defaults and their validation. A leaf: it imports the codec's types and
 * `WaterMarks` (whose one rule sets the low mark) from
 * `flow/water_marks.ts`; never `connection.ts`, `server.ts` or `client.ts`,
 * which import it. The public modules re-export the types.
 *
 * `ServeOptions` and `ConnectOptions` extend
 * {@linkcode CommonConnectionOptions}; {@linkcode connectionOptions} picks
 * those properties out of them for each connection made.
 *
 * @module
 */

import type { Codec } from "./codec/decoder.ts";
import { WaterMarks } from "./flow/water_marks.ts";

/** The default of {@linkcode TimeoutOptions.lingerTimeout}, in milliseconds. */
export const DEFAULT_LINGER_TIMEOUT = 5000;
/** The default of {@linkcode TimeoutOptions.lingerTime}, in milliseconds. */
export const DEFAULT_LINGER_TIME = 30_000;
/** The default of {@linkcode CommonConnectionOptions.highWaterMark}. */
export const DEFAULT_HIGH_WATER_MARK = 65536;

/** Timeouts of a connection, in milliseconds; `0` turns one off. */
export interface TimeoutOptions {
  /**
   * Ends the connection with a {@linkcode TimeoutError} (`kind: "idle"`)
   * when nothing was read or written for this long. A write the peer takes
   * no byte of counts as idle time: a peer that stops reading is idle even
   * while a write waits for it.
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * Ends the connection with a {@linkcode TimeoutError} (`kind: "read"`)
   * when a whole message takes longer than this to arrive while the
   * application waits for one; guards against peers that trickle bytes.
   *
   * @default {0}
   */
  readTimeout?: number;
  /**
   * Ends the connection with a {@linkcode TimeoutError} (`kind: "write"`)
   * when a socket write takes longer than this (the peer stopped reading).
   *
   * @default {0}
   */
  writeTimeout?: number;
  /**
   * A graceful close (`close()`, a server's shutdown, an idle timeout)
   * sends FIN after the last byte written, then reads and discards what
   * the peer still sends until its EOF, and only then closes the socket:
   * closing with unread bytes would send RST, and the peer's kernel would
   * drop the replies it has not read yet. This is the longest wait for the
   * peer's next bytes, in milliseconds (nginx's `lingering_timeout`); `0`
   * closes right after the FIN.
   *
   * @default {5000}
   */
  lingerTimeout?: number;
  /**
   * The longest a graceful close lingers in all, in milliseconds, however
   * much the peer sends (nginx's `lingering_time`); `0` closes right after
   * the FIN.
   *
   * @default {30000}
   */
  lingerTime?: number;
}

/**
 * The options of a connection that `serve` and `connect` take too and
 * pass on to each connection they make.
 */
export interface CommonConnectionOptions<In, Out> extends TimeoutOptions {
  /**
   * The codec that frames messages.
   *
   * @default {raw()}
   */
  codec?: Codec<In, Out>;
  /**
   * Receives byte messages as views into the connection's read buffer
   * instead of copies: no allocation per read, but each message is valid
   * only until the next message is asked for (`receive()`, the next loop
   * of `for await`). For handlers that use or copy a message before taking
   * the next — an echo that writes it back, a parser that decodes it.
   * The `readable` face always copies. Text and JSON codecs gain nothing:
   * they borrow inside already.
   *
   * @default {false}
   */
  borrow?: boolean;
  /**
   * Bytes queued for writing at or above which `send()` waits and
   * `write()` returns `false`.
   *
   * @default {65536}
   */
  highWaterMark?: number;
  /**
   * Bytes queued at or below which waiting senders resume.
   *
   * @default {Math.min(16384, Math.floor(highWaterMark / 4)), which is 16384 with the default highWaterMark}
   */
  lowWaterMark?: number;
}

/** Options for a `Connection`. */
export interface ConnectionOptions<In, Out>
  extends CommonConnectionOptions<In, Out> {
  /**
   * The peer's address to report instead of the socket's (the client's
   * real address read from a PROXY protocol header).
   *
   * @default {transport.remoteAddr}
   */
  remoteAddr?: Deno.Addr;
  /**
   * Bytes already read from the transport that belong to the stream
   * (what followed a PROXY header in the same read).
   *
   * @default {undefined}
   */
  initialBytes?: Uint8Array;
}

/** The options `serve` and `connect` pass on to each `Connection`. */
const PASSED_ON = [
  "codec",
  "idleTimeout",
  "readTimeout",
  "writeTimeout",
  "lingerTimeout",
  "lingerTime",
  "borrow",
  "highWaterMark",
  "lowWaterMark",
] as const satisfies ReadonlyArray<
  keyof CommonConnectionOptions<unknown, unknown>
>;

/**
 * The connection options present in the options of `serve` or `connect`,
 * for passing on to each `Connection`.
 */
export function connectionOptions<In, Out>(
  options: CommonConnectionOptions<In, Out>,
): ConnectionOptions<In, Out> {
  const out: Record<string, unknown> = {};
  for (const key of PASSED_ON) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out as ConnectionOptions<In, Out>;
}

/**
 * A timeout option's value in milliseconds, `0` when absent.
 *
 * @throws {RangeError} Not a finite non-negative number.
 */
export function checkTimeout(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot create connection: ${name} must be a non-negative number of milliseconds, received ${value}`,
    );
  }
  return value;
}

/** A connection's timeouts, checked, with their defaults. */
export interface Timeouts {
  idle: number;
  read: number;
  write: number;
  lingerTimeout: number;
  lingerTime: number;
}

/**
 * The timeouts of `options`, checked, with their defaults.
 *
 * @throws {RangeError} A timeout is out of range.
 */
export function makeTimeouts(options: TimeoutOptions): Timeouts {
  return {
    idle: checkTimeout(options.idleTimeout, "idleTimeout"),
    read: checkTimeout(options.readTimeout, "readTimeout"),
    write: checkTimeout(options.writeTimeout, "writeTimeout"),
    lingerTimeout: options.lingerTimeout === undefined
      ? DEFAULT_LINGER_TIMEOUT
      : checkTimeout(options.lingerTimeout, "lingerTimeout"),
    lingerTime: options.lingerTime === undefined
      ? DEFAULT_LINGER_TIME
      : checkTimeout(options.lingerTime, "lingerTime"),
  };
}

/**
 * A connection's water marks: 64 KiB high by default, and the low mark by
 * the one rule `WaterMarks` keeps (16 KiB with the default high).
 *
 * @throws {RangeError} The marks are not `0 <= low <= high`, `high > 0`.
 */
export function makeWaterMarks(
  options: Pick<
    CommonConnectionOptions<unknown, unknown>,
    "highWaterMark" | "lowWaterMark"
  >,
): WaterMarks {
  const { highWaterMark: high = DEFAULT_HIGH_WATER_MARK, lowWaterMark: low } =
    options;
  return new WaterMarks(low === undefined ? { high } : { high, low });
}

/**
 * Throws what a connection made with these options would, so that `serve`
 * and `connect` refuse bad options before they touch a socket.
 *
 * @throws {RangeError} A timeout or a water mark is out of range.
 */
export function checkConnectionOptions(
  options:
    & TimeoutOptions
    & Pick<
      CommonConnectionOptions<unknown, unknown>,
      "highWaterMark" | "lowWaterMark"
    >,
): void {
  makeTimeouts(options);
  makeWaterMarks(options);
}
