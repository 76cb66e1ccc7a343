// Copyright 2026 the netkit authors. MIT license.

/**
 * What the hand-written echo servers of the benchmark share, none of it
 * netkit: their flags, writing a whole buffer, and the accept loop that
 * runs each connection's echo, closes it, and stops on SIGTERM or SIGINT.
 *
 * @module
 */

import { parseArgs } from "@std/cli";

/** The flags of a hand-written echo server. */
export interface EchoSettings {
  hostname: string;
  port: number;
  /** A frame over this length hangs up on the peer. */
  maxFrameLength: number;
}

/** Reads `--hostname`, `--port` and `--max-frame-length`. */
export function echoSettings(argv: string[] = Deno.args): EchoSettings {
  const args = parseArgs(argv, {
    string: ["hostname", "port", "max-frame-length"],
    default: {
      hostname: "127.0.0.1",
      port: "8888",
      "max-frame-length": "1048576",
    },
  });
  return {
    hostname: String(args.hostname),
    port: Number(args.port),
    maxFrameLength: Number(args["max-frame-length"]),
  };
}

/** What the hand-written loops read from and write to: a socket, or a fake. */
export type ByteConn = Pick<Deno.Conn, "read" | "write">;

/** Writes all of `bytes`, however many writes it takes. */
export async function writeAll(
  conn: Pick<Deno.Conn, "write">,
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
  }
}

/**
 * Listens, prints `listening on HOST:PORT`, and runs `echo` on each
 * accepted connection (with no delay on writes), closing it when `echo`
 * returns or throws (a peer's reset ends only its own connection). A signal
 * stops the listener and exits the process.
 */
export async function serveEcho(
  settings: EchoSettings,
  echo: (conn: Deno.TcpConn) => Promise<void>,
): Promise<never> {
  const { hostname, port } = settings;
  const listener = Deno.listen({ hostname, port });
  console.log(`listening on ${hostname}:${listener.addr.port}`);
  const stop = () => listener.close();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  const serve = async (conn: Deno.TcpConn) => {
    try {
      conn.setNoDelay(true);
      await echo(conn);
    } catch {
      // Reset by the peer: this connection is done.
    } finally {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
  };
  try {
    for await (const conn of listener) void serve(conn);
  } catch {
    // Closed by a signal.
  }
  Deno.exit(0);
}

const RESOLVED = Promise.resolve();

/**
 * The replies of a hand-written echo: each one's u32 big-endian length and
 * a copy of its bytes, in one growing array, written together.
 */
export class Replies {
  #out: Uint8Array;
  /** Bytes queued. */
  length = 0;

  constructor(capacity = 512) {
    this.#out = new Uint8Array(capacity);
  }

  /** Queues a reply: its header and a copy of its bytes. */
  write(message: Uint8Array): void {
    const at = this.length;
    const need = at + 4 + message.length;
    if (need > this.#out.length) {
      const bigger = new Uint8Array(Math.max(need, this.#out.length * 2));
      bigger.set(this.#out.subarray(0, at));
      this.#out = bigger;
    }
    const out = this.#out;
    const len = message.length;
    out[at] = len >>> 24;
    out[at + 1] = (len >>> 16) & 0xff;
    out[at + 2] = (len >>> 8) & 0xff;
    out[at + 3] = len & 0xff;
    out.set(message, at + 4);
    this.length = need;
  }

  /** Writes what is queued to `conn` and forgets it. */
  flush(conn: Pick<Deno.Conn, "write">): Promise<void> {
    return this.length === 0 ? RESOLVED : this.#write(conn);
  }

  async #write(conn: Pick<Deno.Conn, "write">): Promise<void> {
    await writeAll(conn, this.#out.subarray(0, this.length));
    this.length = 0;
  }
}

/**
 * The callback floor's loop (`bench/callback_floor.ts`): reads `conn` into
 * a buffer that starts at 512 bytes and doubles when a read fills it, hands
 * each length-prefixed frame as a view to `handler`, synchronously, and
 * writes the replies it queued after each read. Returns at EOF, or at a
 * frame over `maxFrameLength` (a bad peer).
 */
export async function forEachFrame(
  conn: ByteConn,
  replies: Replies,
  handler: (message: Uint8Array) => void,
  maxFrameLength: number,
): Promise<void> {
  let buf = new Uint8Array(512);
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
    if (filled && size < 256 * 1024) size *= 2;
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
      if (len > maxFrameLength) return;
      if (held - end - 4 < len) break;
      handler(new Uint8Array(buf.buffer, end + 4, len));
      end += 4 + len;
    }
    await replies.flush(conn);
    if (end > 0) {
      buf.copyWithin(0, end, held);
      held -= end;
    }
  }
}
