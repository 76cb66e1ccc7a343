// Copyright 2026 the netkit authors. MIT license.

/**
 * netkit's web-stream face in the echo benchmark: `serve` with
 * `lengthPrefixed`, each connection's `readable` piped into its own
 * `writable`. The same server as `examples/echo.ts --codec length`, reached
 * through web streams instead of `for await` and `send`.
 *
 * ```sh
 * deno run -N bench/streams_echo.ts --port 0    # prints "listening on 127.0.0.1:PORT"
 * ```
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { formatAddr, lengthPrefixed, serve } from "../mod.ts";

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
  codec: lengthPrefixed({ maxFrameLength: Number(args["max-frame-length"]) }),
  maxConnections: Number(args["max-connections"]),
  onError: () => {},
}, (conn) => conn.readable.pipeTo(conn.writable));

console.log(`listening on ${formatAddr(server.addr)}`);
const stop = () => void server.shutdown({ timeout: 1000 });
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
await server.finished;
Deno.exit(0);
