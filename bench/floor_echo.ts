// Copyright 2026 the netkit authors. MIT license.

/**
 * The for-await floor of the echo benchmark: the least any library must
 * pay to hand a length-prefixed (u32 big-endian) stream to
 * `for await (const m of conn) await conn.send(m)`, written by hand with no
 * library.
 *
 * It does what such an API cannot avoid and nothing else: the baseline's
 * read loop, each frame a view of the read buffer handed out through the
 * cheapest async iterator (one resolved promise per message), one `await`
 * per message for the send, each reply copied into an output buffer (the
 * read buffer is reused, so an echo must copy), and the replies to one read
 * written together. The read buffer starts at 512 bytes and doubles when a
 * read fills it, like netkit's, so its idle memory is what Deno itself costs
 * for a connection with a read pending.
 *
 * ```sh
 * deno run -N bench/floor_echo.ts --port 0     # prints "listening on 127.0.0.1:PORT"
 * ```
 *
 * @module
 */

import { echoSettings, Replies, serveEcho } from "./_hand_written.ts";

const settings = echoSettings();
const { maxFrameLength } = settings;
const FIRST_READ_BUFFER = 512;
const MAX_READ_BUFFER = 256 * 1024;
const RESOLVED = Promise.resolve();

/** The frames of one connection as an async iterator, and its replies. */
class Frames implements AsyncIterableIterator<Uint8Array> {
  readonly #conn: Deno.Conn;
  #buf = new Uint8Array(FIRST_READ_BUFFER);
  /** Bytes in #buf: the frames of the last read, then a partial one. */
  #held = 0;
  /** Where the frames of the last read end in #buf. */
  #end = 0;
  /** Whether the last read filled the buffer: the next one gets more room. */
  #filled = false;
  #frames: Uint8Array[] = [];
  #taken = 0;
  #replies = new Replies(FIRST_READ_BUFFER);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#taken < this.#frames.length) {
      return Promise.resolve({
        done: false,
        value: this.#frames[this.#taken++]!,
      });
    }
    return this.#read();
  }

  /** Queues a reply: its header and a copy of its bytes. */
  send(message: Uint8Array): Promise<void> {
    this.#replies.write(message);
    return RESOLVED;
  }

  /** Writes the replies to the last read's frames, then reads for more. */
  async #read(): Promise<IteratorResult<Uint8Array>> {
    await this.#replies.flush(this.#conn);
    if (this.#end > 0) {
      this.#buf.copyWithin(0, this.#end, this.#held);
      this.#held -= this.#end;
      this.#end = 0;
    }
    this.#frames.length = 0;
    this.#taken = 0;
    for (;;) {
      this.#makeRoom();
      const buf = this.#buf;
      const n = await this.#conn.read(buf.subarray(this.#held));
      if (n === null) return { done: true, value: undefined };
      this.#filled = this.#held + n === buf.length;
      this.#held += n;
      let end = 0;
      while (this.#held - end >= 4) {
        const len = ((buf[end]! << 24) | (buf[end + 1]! << 16) |
          (buf[end + 2]! << 8) | buf[end + 3]!) >>> 0;
        if (len > maxFrameLength) return { done: true, value: undefined };
        if (this.#held - end - 4 < len) break;
        this.#frames.push(new Uint8Array(buf.buffer, end + 4, len));
        end += 4 + len;
      }
      this.#end = end;
      if (this.#frames.length > 0) {
        return { done: false, value: this.#frames[this.#taken++]! };
      }
    }
  }

  /** Grows the read buffer when the last read filled it or a frame cannot fit. */
  #makeRoom(): void {
    const buf = this.#buf;
    let size = buf.length;
    if (this.#held >= 4) {
      const len = ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) |
        buf[3]!) >>> 0;
      while (size < 4 + len) size *= 2;
    }
    if (this.#filled && size < MAX_READ_BUFFER) size *= 2;
    this.#filled = false;
    if (size === buf.length) return;
    const bigger = new Uint8Array(size);
    bigger.set(buf.subarray(0, this.#held));
    this.#buf = bigger;
  }
}

await serveEcho(settings, async (conn) => {
  const frames = new Frames(conn);
  for await (const message of frames) await frames.send(message);
});
