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

import { runNetkitEcho } from "./_netkit_echo.ts";

await runNetkitEcho(async (conn) => {
  for await (const message of conn) await conn.send(message);
});
