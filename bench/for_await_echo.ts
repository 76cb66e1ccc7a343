// Copyright 2026 the netkit authors. MIT license.

/**
 * netkit's `for await` + `send` idiom in the echo benchmark: `serve` with
 * `lengthPrefixed`, each message sent back from a `for await` loop: the
 * simple idiom, one promise per message, beside the `forEach` of
 * `examples/echo.ts --codec length`.
 *
 * ```sh
 * deno run -N bench/for_await_echo.ts --port 0    # prints "listening on 127.0.0.1:PORT"
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
}, async (conn) => {
  for await (const message of conn) await conn.send(message);
});

console.log(`listening on ${formatAddr(server.addr)}`);
const stop = () => void server.shutdown({ timeout: 1000 });
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
await server.finished;
Deno.exit(0);
