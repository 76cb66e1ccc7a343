// Copyright 2026 the netkit authors. MIT license.

/**
 * The idle-memory floor of the echo benchmark: what Deno itself costs a
 * connection that waits for bytes. Each connection has one `conn.read()`
 * pending into a 2 KiB array and nothing else; what it reads it writes
 * back as it came, so the benchmark's length-prefixed load (and the frame
 * each idle connection echoes) passes through it unparsed. A server that
 * reads its sockets with `conn.read()` holds at least this much per idle
 * connection, less what a smaller array saves.
 *
 * ```sh
 * deno run -N bench/idle_floor.ts --port 0     # prints "listening on 127.0.0.1:PORT"
 * ```
 *
 * @module
 */

import { echoSettings, serveEcho, writeAll } from "./_hand_written.ts";

const READ_BUFFER = 2048;

await serveEcho(echoSettings(), async (conn) => {
  const buf = new Uint8Array(READ_BUFFER);
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    await writeAll(conn, buf.subarray(0, n));
  }
});
