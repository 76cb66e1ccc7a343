// Copyright 2026 the netkit authors. MIT license.

/**
 * The callback floor of the echo benchmark: the least any library must pay
 * to hand a length-prefixed (u32 big-endian) stream to a per-message
 * callback, `conn.forEach((m) => conn.write(m))`, written by hand with no
 * library. It bounds what netkit's lead idiom (server a) can reach.
 *
 * It does what such an API cannot avoid and nothing else: the baseline's
 * read loop, each frame a view of the read buffer handed to a synchronous
 * callback (no promise per message), each reply's header and bytes copied
 * into an output buffer (the read buffer is reused, so an echo must copy
 * or keep the read buffer until written), and the replies to one read
 * written together before the next read. The read buffer starts at 512
 * bytes and doubles when a read fills it, like netkit's.
 *
 * What it leaves out, a library cannot: a decoder other than this one, a
 * codec's encoder, limits, timeouts, backpressure, statistics, and frames
 * of 2 KiB and more sent from the read buffer instead of copied (netkit
 * does that; this floor copies every reply, so at 64 KiB it is no bound).
 *
 * ```sh
 * deno run -N bench/callback_floor.ts --port 0   # prints "listening on 127.0.0.1:PORT"
 * ```
 *
 * @module
 */

import { echoSettings, serveEcho, writeAll } from "./_hand_written.ts";

const settings = echoSettings();
const { maxFrameLength } = settings;
const FIRST_READ_BUFFER = 512;
const MAX_READ_BUFFER = 256 * 1024;

/** The replies of one connection: headers and copies, written per read. */
class Replies {
  out = new Uint8Array(FIRST_READ_BUFFER);
  length = 0;

  /** Queues a reply: its header and a copy of its bytes. */
  write(message: Uint8Array): void {
    const at = this.length;
    const need = at + 4 + message.length;
    if (need > this.out.length) {
      const bigger = new Uint8Array(Math.max(need, this.out.length * 2));
      bigger.set(this.out.subarray(0, at));
      this.out = bigger;
    }
    const out = this.out;
    const len = message.length;
    out[at] = len >>> 24;
    out[at + 1] = (len >>> 16) & 0xff;
    out[at + 2] = (len >>> 8) & 0xff;
    out[at + 3] = len & 0xff;
    out.set(message, at + 4);
    this.length = need;
  }
}

/**
 * Calls `handler` with a view of each frame of `conn`, synchronously, and
 * writes the replies it queued after each read.
 */
async function forEach(
  conn: Deno.Conn,
  replies: Replies,
  handler: (message: Uint8Array) => void,
): Promise<void> {
  let buf = new Uint8Array(FIRST_READ_BUFFER);
  let held = 0; // bytes in buf: a partial frame after the last whole one
  let filled = false; // the last read filled buf: the next gets more room
  for (;;) {
    // Room for the frame in progress, and more after a read that filled it.
    let size = buf.length;
    if (held >= 4) {
      const len = ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) |
        buf[3]!) >>> 0;
      while (size < 4 + len) size *= 2;
    }
    if (filled && size < MAX_READ_BUFFER) size *= 2;
    if (size !== buf.length) {
      const bigger = new Uint8Array(size);
      bigger.set(buf.subarray(0, held));
      buf = bigger;
    }
    const n = await conn.read(held === 0 ? buf : buf.subarray(held));
    if (n === null) return;
    held += n;
    filled = held === buf.length;
    let end = 0;
    while (held - end >= 4) {
      const len = ((buf[end]! << 24) | (buf[end + 1]! << 16) |
        (buf[end + 2]! << 8) | buf[end + 3]!) >>> 0;
      if (len > maxFrameLength) return; // a bad peer: hang up
      if (held - end - 4 < len) break;
      handler(new Uint8Array(buf.buffer, end + 4, len));
      end += 4 + len;
    }
    if (replies.length > 0) {
      await writeAll(conn, replies.out.subarray(0, replies.length));
      replies.length = 0;
    }
    if (end > 0) {
      buf.copyWithin(0, end, held);
      held -= end;
    }
  }
}

await serveEcho(settings, (conn) => {
  const replies = new Replies();
  return forEach(conn, replies, (message) => replies.write(message));
});
