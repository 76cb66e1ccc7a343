// Copyright 2026 the netkit authors. MIT license.
// Private plumbing shared by client.ts, server.ts and connection.ts.

import type { ConnectionOptions, TimeoutOptions } from "./connection.ts";
import { WaterMarks } from "./flow.ts";

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
] as const;

/**
 * The connection options present in the options of `serve` or `connect`,
 * for passing on to each `Connection`.
 */
export function connectionOptions<In, Out>(
  options: Pick<ConnectionOptions<In, Out>, (typeof PASSED_ON)[number]>,
): ConnectionOptions<In, Out> {
  const out: Record<string, unknown> = {};
  for (const key of PASSED_ON) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out as ConnectionOptions<In, Out>;
}

/**
 * The method that ends the read side of a connection as seen by its
 * reader: messages already decoded are still delivered, then iteration
 * ends. Used by a server's graceful shutdown.
 */
export const stopReading: unique symbol = Symbol("netkit.stopReading");

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

/**
 * A connection's water marks: 64 KiB high by default, and the low mark by
 * the one rule `WaterMarks` keeps (16 KiB with the default high).
 *
 * @throws {RangeError} The marks are not `0 <= low <= high`, `high > 0`.
 */
export function makeWaterMarks(
  options: Pick<
    ConnectionOptions<unknown, unknown>,
    "highWaterMark" | "lowWaterMark"
  >,
): WaterMarks {
  const { highWaterMark: high = 65536, lowWaterMark: low } = options;
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
      ConnectionOptions<unknown, unknown>,
      "highWaterMark" | "lowWaterMark"
    >,
): void {
  checkTimeout(options.idleTimeout, "idleTimeout");
  checkTimeout(options.readTimeout, "readTimeout");
  checkTimeout(options.writeTimeout, "writeTimeout");
  checkTimeout(options.lingerTimeout, "lingerTimeout");
  checkTimeout(options.lingerTime, "lingerTime");
  makeWaterMarks(options);
}
