// Copyright 2026 the netkit authors. MIT license.

/**
 * What the benchmark's netkit echo servers other than `examples/echo.ts`
 * share: the flags, `serve` with `lengthPrefixed`, the `listening on` line
 * and stopping on SIGTERM or SIGINT. Each passes only its handler.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { type Connection, formatAddr, lengthPrefixed, serve } from "../mod.ts";

/**
 * Serves the length-prefixed echo with `handler` until a signal.
 *
 * @param handler What each connection runs.
 */
export async function runNetkitEcho(
  handler: (conn: Connection<Uint8Array>) => Promise<void>,
): Promise<never> {
  const args = parseArgs(Deno.args, {
    string: ["hostname", "port", "max-frame-length", "max-connections"],
    default: {
      hostname: "127.0.0.1",
      port: "8888",
      "max-frame-length": "1048576",
      "max-connections": "10000",
    },
  });
  const server = serve({
    hostname: String(args.hostname),
    port: Number(args.port),
    codec: lengthPrefixed({
      maxFrameLength: Number(args["max-frame-length"]),
    }),
    maxConnections: Number(args["max-connections"]),
    onError: () => {},
  }, handler);
  console.log(`listening on ${formatAddr(server.addr)}`);
  const stop = () => void server.shutdown({ timeout: 1000 });
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await server.finished;
  Deno.exit(0);
}
