// Copyright 2026 the netkit authors. MIT license.

/**
 * The baseline of the echo benchmark: a length-prefixed (u32 big-endian)
 * echo written by hand over `Deno.listen` and `conn.read`/`conn.write`, with
 * no library. Each read goes into one buffer per connection; the whole
 * frames in it go back in one write of that same memory, and a partial frame
 * is moved to the front to wait for its remaining bytes.
 *
 * ```sh
 * deno run -N bench/baseline_echo.ts --port 0     # prints "listening on 127.0.0.1:PORT"
 * ```
 *
 * @module
 */

import { echoSettings, serveEcho, writeAll } from "./_hand_written.ts";

const settings = echoSettings();
const { maxFrameLength } = settings;
const READ_BUFFER = 65536;

async function echo(conn: Deno.TcpConn): Promise<void> {
  let buf = new Uint8Array(READ_BUFFER);
  let held = 0; // bytes in buf: whole frames not yet written, then a partial one
  for (;;) {
    const n = await conn.read(held === 0 ? buf : buf.subarray(held));
    if (n === null) return;
    held += n;
    // Find the end of the last whole frame.
    let end = 0;
    while (held - end >= 4) {
      const len = ((buf[end]! << 24) | (buf[end + 1]! << 16) |
        (buf[end + 2]! << 8) | buf[end + 3]!) >>> 0;
      if (len > maxFrameLength) return; // a bad peer: hang up
      if (held - end - 4 < len) {
        if (4 + len > buf.length) {
          // The frame does not fit: grow, keeping what is held.
          const bigger = new Uint8Array(Math.max(4 + len, buf.length * 2));
          bigger.set(buf.subarray(0, held));
          buf = bigger;
        }
        break;
      }
      end += 4 + len;
    }
    if (end === 0) {
      if (held === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      continue;
    }
    await writeAll(conn, buf.subarray(0, end));
    if (end < held) buf.copyWithin(0, end, held);
    held -= end;
  }
}

await serveEcho(settings, echo);
