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

import { runNetkitEcho } from "./_netkit_echo.ts";

await runNetkitEcho((conn) => conn.readable.pipeTo(conn.writable));
