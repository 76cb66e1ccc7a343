// Copyright 2026 the netkit authors. MIT license.

/**
 * The callback floor of the echo benchmark: the least any library must pay
 * to hand a length-prefixed (u32 big-endian) stream to a per-message
 * callback, `conn.forEach((m) => conn.write(m))`, written by hand with no
 * library. It bounds what netkit's lead idiom (server a) can reach.
 *
 * It does what such an API cannot avoid and nothing else
 * (`forEachFrame()` in `_hand_written.ts`): the baseline's read loop, each
 * frame a view of the read buffer handed to a synchronous callback (no
 * promise per message), each reply's header and bytes copied into an
 * output buffer (the read buffer is reused, so an echo must copy or keep
 * the read buffer until written), and the replies to one read written
 * together before the next read. The read buffer starts at 512 bytes and
 * doubles when a read fills it, like netkit's.
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

import {
  echoSettings,
  forEachFrame,
  Replies,
  serveEcho,
} from "./_hand_written.ts";

const settings = echoSettings();

await serveEcho(settings, (conn) => {
  const replies = new Replies();
  return forEachFrame(
    conn,
    replies,
    (message) => replies.write(message),
    settings.maxFrameLength,
  );
});
