// Copyright 2026 the netkit authors. MIT license.

/**
 * A line-based chat: every line a client sends goes to every other client,
 * prefixed with the sender's address.
 *
 * ```sh
 * deno run -N examples/chat.ts --mode server        # listening on 127.0.0.1:8899
 * deno run -N examples/chat.ts --mode client        # type lines; Ctrl-D leaves
 * nc 127.0.0.1 8899                                  # plain LF lines work too
 * ```
 *
 * What a client sees:
 *
 * ```text
 * * welcome 127.0.0.1:50412, 1 other online
 * * 127.0.0.1:50420 joined
 * [127.0.0.1:50420] hello
 * * 127.0.0.1:50420 left
 * ```
 *
 * The server broadcasts over `server.connections`, the live set of open
 * connections. A slow reader must not stall the others, so broadcasting
 * never waits: `conn.write()` queues the line and returns `false` once the
 * client's queue is past the high-water mark. A client whose queue of
 * unsent bytes then passes `--max-queued` (256 KiB) is **disconnected**
 * (like an IRC server's "SendQ exceeded"): the others go on at full speed,
 * and no line is ever dropped silently from the middle of a conversation.
 *
 * The client reads lines from stdin, sends them, and prints what arrives.
 * When stdin ends it half-closes (the server reads EOF, so the client
 * leaves), prints what is still on its way, and exits once the server has
 * closed. `--help` lists every flag.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { TextLineStream } from "@std/streams";
import {
  connect,
  type Connection,
  formatAddr,
  lines,
  serve,
  type Server,
  text,
} from "../mod.ts";
import { integer, runMain, untilSignal, UsageError } from "./_cli.ts";

const HELP = `Usage: deno run -N examples/chat.ts [options]

  --mode server|client        server (default): relay lines between clients
                              client: send stdin lines, print what arrives
  --hostname HOST             address to listen on or connect to (127.0.0.1)
  --port PORT                 TCP port (8899; 0 lets the server pick one)
  --max-line-length BYTES     the longest line accepted (4096)
  --max-queued BYTES          disconnect a client with more unsent bytes
                              queued than this (262144); keep it well above
                              what one read of 64 KiB of lines fans out to
  --help                      this text
`;

interface Settings {
  mode: "server" | "client";
  hostname: string;
  port: number;
  maxLineLength: number;
  maxQueued: number;
}

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: ["mode", "hostname", "port", "max-line-length", "max-queued"],
    boolean: ["help"],
    default: {
      mode: "server",
      hostname: "127.0.0.1",
      port: "8899",
      "max-line-length": "4096",
      "max-queued": "262144",
    },
    unknown: (arg: string) => {
      throw new UsageError(`unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  const mode = String(args.mode);
  if (mode !== "server" && mode !== "client") {
    throw new UsageError(
      `--mode must be one of server, client, received "${mode}"`,
    );
  }
  const port = integer(String(args.port), "port", 0);
  if (port > 65535) {
    throw new UsageError(`--port must be at most 65535, received "${port}"`);
  }
  return {
    mode,
    hostname: String(args.hostname),
    port,
    maxLineLength: integer(
      String(args["max-line-length"]),
      "max-line-length",
      1,
    ),
    maxQueued: integer(String(args["max-queued"]), "max-queued", 1),
  };
}

// ---------------------------------------------------------------------------
// Server

/**
 * Queues `line` for `conn` without waiting. `write()` returns `false` once
 * the queue is past the high-water mark; past `maxQueued` the client is too
 * slow to keep, and is disconnected.
 */
function deliver(conn: Connection<string>, line: string, maxQueued: number) {
  if (conn.isClosed) return;
  try {
    if (conn.write(line)) return;
  } catch {
    return; // Its write side is already closing: it is leaving.
  }
  if (conn.bufferedAmount > maxQueued) {
    conn.abort(
      new Error(
        `Disconnected: ${conn.bufferedAmount} bytes queued exceed --max-queued ${maxQueued}`,
      ),
    );
  }
}

/**
 * Starts the chat server.
 *
 * @param s The settings.
 * @returns The running server.
 */
function startServer(s: Settings): Server<string> {
  const name = (conn: Connection<string>) => formatAddr(conn.remoteAddr);
  const broadcast = (from: Connection<string>, line: string) => {
    for (const conn of server.connections) {
      if (conn !== from) deliver(conn, line, s.maxQueued);
    }
  };
  const server = serve<string>({
    hostname: s.hostname,
    port: s.port,
    codec: text(lines({ maxLength: s.maxLineLength })),
    onOpen: (conn) => {
      const others = server.connections.size - 1;
      deliver(
        conn,
        `* welcome ${name(conn)}, ${others} other${
          others === 1 ? "" : "s"
        } online`,
        s.maxQueued,
      );
      broadcast(conn, `* ${name(conn)} joined`);
      console.error(`join   ${name(conn)}`);
    },
    onClose: (conn, error) => {
      // `conn` has already left `server.connections`.
      broadcast(conn, `* ${name(conn)} left`);
      console.error(
        `leave  ${name(conn)}${
          error ? ` (${error.name}: ${error.message})` : ""
        }`,
      );
    },
    onError: (error, conn) => {
      if (conn === null) {
        console.error(`error  ${error.name}: ${error.message}`);
      }
      // Errors of a connection are reported when it closes.
    },
  }, (conn) => {
    const prefix = `[${name(conn)}] `;
    return conn.forEach((line) => broadcast(conn, prefix + line));
  });
  return server;
}

async function runServer(s: Settings): Promise<void> {
  const server = startServer(s);
  console.log(`listening on ${formatAddr(server.addr)}`);
  const stop = () => {
    for (const conn of server.connections) {
      deliver(conn, "* the server is shutting down", s.maxQueued);
    }
    void server.shutdown({ timeout: 2000 });
  };
  await untilSignal(stop, server.finished);
  console.error(`stopped after ${server.stats.accepted} connections`);
}

// ---------------------------------------------------------------------------
// Client

async function runClient(s: Settings): Promise<void> {
  const conn = await connect({ hostname: s.hostname, port: s.port }, {
    codec: text(lines({ maxLength: s.maxLineLength })),
    connectTimeout: 5000,
  });
  // stdin → server. When stdin ends, half-close: the server reads EOF and
  // closes, which ends the loop below.
  const sending = (async () => {
    const input = Deno.stdin.readable
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new TextLineStream());
    try {
      for await (const line of input) {
        try {
          await conn.send(line);
        } catch (err) {
          // A line over --max-line-length (FrameTooLargeError) is not sent.
          if (!(err instanceof RangeError)) throw err;
          console.error(`chat: ${err.message}`);
        }
      }
      await conn.closeWrite();
    } catch {
      // The server closed the connection; the loop below reports it.
    }
  })();
  // server → stdout, until the server closes.
  try {
    for await (const line of conn) console.log(line);
  } finally {
    await conn.close();
  }
  // Do not wait for `sending`: stdin may still be open, and the process
  // exits now that the server has gone.
  void sending;
}

/**
 * Runs the program.
 *
 * @param argv The command-line arguments.
 * @returns The exit code.
 */
function main(argv: string[]): Promise<number> {
  return runMain("chat", HELP, argv, parse, async (s) => {
    if (s.mode === "server") await runServer(s);
    else await runClient(s);
    return 0;
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
