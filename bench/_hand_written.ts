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

/** Writes all of `bytes`, however many writes it takes. */
export async function writeAll(
  conn: Deno.Conn,
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
