// Copyright 2026 the netkit authors. MIT license.
// Private plumbing shared by client.ts, server.ts and connection.ts.

import type { TimeoutOptions } from "./connection.ts";

/** The timeout options present in `options`, for passing on. */
export function pickTimeouts(options: TimeoutOptions): TimeoutOptions {
  const out: TimeoutOptions = {};
  if (options.idleTimeout !== undefined) out.idleTimeout = options.idleTimeout;
  if (options.readTimeout !== undefined) out.readTimeout = options.readTimeout;
  if (options.writeTimeout !== undefined) {
    out.writeTimeout = options.writeTimeout;
  }
  return out;
}

/**
 * The method that ends the read side of a connection as seen by its
 * reader: messages already decoded are still delivered, then iteration
 * ends. Used by a server's graceful shutdown.
 */
export const stopReading: unique symbol = Symbol("netkit.stopReading");
