// Copyright 2026 the netkit authors. MIT license.

/**
 * The socket tutorial's echo, done properly: a server that accepts many
 * clients and a client that sends, receives and closes.
 *
 * ```sh
 * deno run -N examples/echo.ts                      # demo: server + client, then exit
 * deno run -N examples/echo.ts --mode server        # listening on 127.0.0.1:8888
 * deno run -N examples/echo.ts --mode client --message hi --count 3
 * ```
 *
 * The `raw` codec (the default) echoes bytes as they arrive: what the
 * tutorial's Python client and server speak. `--help` lists every flag
 * (TLS, unix sockets, the PROXY protocol, other codecs).
 *
 * @module
 */

import { connect, formatAddr, serve, type ServeOptions } from "../mod.ts";
import { runMain, serveUntilSignal } from "./_cli.ts";
import {
  HELP,
  makeCodec,
  outgoing,
  parse,
  type Settings,
  show,
} from "./_echo_flags.ts";

/** The server: every message straight back to the client that sent it. */
function startServer(s: Settings) {
  return serve(serverOptions(s), (conn) => {
    return conn.forEach((message) => conn.write(message));
  });
}

/** The client: send `--count` messages, print each reply, close. */
async function runClient(s: Settings, port: number): Promise<void> {
  await using conn = await connect(clientAddress(s, port), {
    codec: makeCodec(s),
    ...(s.path === undefined ? { tls: clientTls(s) } : {}),
    connectTimeout: 5000,
    readTimeout: 10_000,
  });
  const message = outgoing(s);
  for (let i = 0; i < s.count; i++) {
    await conn.send(message);
    // Raw bytes keep no boundaries: read as many as were sent.
    const reply = s.codec === "raw"
      ? await conn.readExactly((message as Uint8Array).length)
      : await conn.receive();
    if (reply === undefined) break;
    console.log(show(reply, s));
  }
}

function main(argv: string[]): Promise<number> {
  return runMain("echo", HELP, argv, parse, async (s) => {
    if (s.mode === "client") {
      await runClient(s, s.port);
      return 0;
    }
    const server = startServer(s);
    const addr = server.addr;
    console.log(`listening on ${formatAddr(addr)}`);
    if (s.mode === "demo") {
      try {
        await runClient(s, addr.transport === "tcp" ? addr.port : 0);
      } finally {
        await server.shutdown({ timeout: 1000 });
      }
      return 0;
    }
    await serveUntilSignal(server);
    console.error(
      `stopped after ${server.stats.accepted} connections (${server.stats.rejected} rejected, ${server.stats.errors} errors)`,
    );
    return 0;
  });
}

// ---------------------------------------------------------------------------
// What the flags ask for

function serverOptions(s: Settings): ServeOptions<unknown, unknown> {
  const log = s.mode === "server";
  const options: ServeOptions<unknown, unknown> = {
    hostname: s.hostname,
    port: s.port,
    codec: makeCodec(s),
    maxConnections: s.maxConnections,
    idleTimeout: s.idleTimeout,
    proxyProtocol: s.proxyProtocol,
    trustedProxies: s.trust,
    onOpen: (conn) => {
      if (log) console.error(`open   ${formatAddr(conn.remoteAddr)}`);
    },
    onClose: (conn, error) => {
      if (!log) return;
      const { bytesRead, bytesWritten } = conn.stats;
      const why = error ? ` (${error.name}: ${error.message})` : "";
      console.error(
        `close  ${
          formatAddr(conn.remoteAddr)
        } in ${bytesRead} B, out ${bytesWritten} B${why}`,
      );
    },
    onError: (error, conn) => {
      if (!log || conn !== null) return; // reported on close
      console.error(`error  ${error.name}: ${error.message}`);
    },
  };
  if (s.path !== undefined) options.path = s.path;
  if (s.cert !== undefined && s.key !== undefined) {
    options.tls = {
      cert: Deno.readTextFileSync(s.cert),
      key: Deno.readTextFileSync(s.key),
    };
  }
  return options;
}

function clientAddress(s: Settings, port: number) {
  return s.path !== undefined
    ? { path: s.path }
    : { hostname: s.hostname === "0.0.0.0" ? "127.0.0.1" : s.hostname, port };
}

function clientTls(s: Settings) {
  return s.caCert !== undefined
    ? { caCerts: [Deno.readTextFileSync(s.caCert)] }
    : s.cert !== undefined;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
