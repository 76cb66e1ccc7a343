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
 * tutorial's Python client and server speak. `--help` lists every flag.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import {
  type Codec,
  connect,
  type Connection,
  formatAddr,
  json,
  lengthPrefixed,
  lines,
  raw,
  serve,
  type ServeOptions,
  text,
} from "../mod.ts";
import {
  integer,
  oneOf,
  runMain,
  serveUntilSignal,
  UsageError,
} from "./_cli.ts";

const HELP = `Usage: deno run -N examples/echo.ts [options]

  --mode demo|server|client   demo (default): serve, connect, echo once, exit
  --hostname HOST             address to listen on or connect to (127.0.0.1)
  --port PORT                 TCP port (8888; the demo picks a free one)
  --path SOCKET               a unix socket instead of TCP (needs -R -W)
  --codec raw|lines|length|json
                              raw: bytes as they arrive (default)
                              lines: LF-delimited text
                              length: 4-byte big-endian length prefix
                              json: length-prefixed JSON
  --message TEXT              what the client sends ("Hello, World!")
  --count N                   how many times the client sends it (1)
  --max-connections N         server connection cap (10000)
  --idle-timeout MS           close connections idle this long (0: never)
  --max-frame-length BYTES    frame limit of lines/length/json (65536)
  --cert FILE --key FILE      serve TLS (needs -R)
  --ca-cert FILE              client trusts this CA; implies TLS (needs -R)
  --proxy-protocol off|v1|v2|any
                              expect a PROXY header from a load balancer
  --trust CIDR,...            proxies allowed to send it (127.0.0.1/32,::1/128)
  --help                      this text
`;

type Mode = "demo" | "server" | "client";
type CodecName = "raw" | "lines" | "length" | "json";

interface Settings {
  mode: Mode;
  hostname: string;
  port: number;
  path: string | undefined;
  codec: CodecName;
  message: string;
  count: number;
  maxConnections: number;
  idleTimeout: number;
  maxFrameLength: number;
  cert: string | undefined;
  key: string | undefined;
  caCert: string | undefined;
  proxyProtocol: "off" | "v1" | "v2" | "any";
  trust: string[];
}

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: [
      "mode",
      "hostname",
      "port",
      "path",
      "codec",
      "message",
      "count",
      "max-connections",
      "idle-timeout",
      "max-frame-length",
      "cert",
      "key",
      "ca-cert",
      "proxy-protocol",
      "trust",
    ],
    boolean: ["help"],
    default: {
      mode: "demo",
      hostname: "127.0.0.1",
      codec: "raw",
      message: "Hello, World!",
      count: "1",
      "max-connections": "10000",
      "idle-timeout": "0",
      "max-frame-length": "65536",
      "proxy-protocol": "off",
      trust: "127.0.0.1/32,::1/128",
    },
    unknown: (arg: string) => {
      throw new UsageError(`unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  const mode = oneOf(String(args.mode), "mode", ["demo", "server", "client"]);
  const portGiven = args.port !== undefined;
  const settings: Settings = {
    mode,
    hostname: String(args.hostname),
    port: portGiven
      ? integer(String(args.port), "port", 0)
      : mode === "demo"
      ? 0
      : 8888,
    path: args.path === undefined ? undefined : String(args.path),
    codec: oneOf(String(args.codec), "codec", [
      "raw",
      "lines",
      "length",
      "json",
    ]),
    message: String(args.message),
    count: integer(String(args.count), "count", 1),
    maxConnections: integer(
      String(args["max-connections"]),
      "max-connections",
      1,
    ),
    idleTimeout: integer(String(args["idle-timeout"]), "idle-timeout", 0),
    maxFrameLength: integer(
      String(args["max-frame-length"]),
      "max-frame-length",
      1,
    ),
    cert: args.cert === undefined ? undefined : String(args.cert),
    key: args.key === undefined ? undefined : String(args.key),
    caCert: args["ca-cert"] === undefined ? undefined : String(args["ca-cert"]),
    proxyProtocol: oneOf(String(args["proxy-protocol"]), "proxy-protocol", [
      "off",
      "v1",
      "v2",
      "any",
    ]),
    trust: String(args.trust).split(",").map((s) => s.trim()).filter(Boolean),
  };
  if ((settings.cert === undefined) !== (settings.key === undefined)) {
    throw new UsageError("--cert and --key go together");
  }
  return settings;
}

function makeCodec(s: Settings): Codec<unknown> {
  switch (s.codec) {
    case "raw":
      return raw() as Codec<unknown>;
    case "lines":
      return text(lines({ maxLength: s.maxFrameLength })) as Codec<unknown>;
    case "length":
      return lengthPrefixed({
        maxFrameLength: s.maxFrameLength,
      }) as Codec<unknown>;
    case "json":
      return json(lengthPrefixed({ maxFrameLength: s.maxFrameLength }));
  }
}

/** What the client sends for `--message` under the codec. */
function outgoing(s: Settings): unknown {
  if (s.codec === "lines") return s.message;
  if (s.codec === "json") {
    try {
      return JSON.parse(s.message);
    } catch {
      return s.message;
    }
  }
  return new TextEncoder().encode(s.message);
}

function show(reply: unknown, s: Settings): string {
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  if (s.codec === "json") return JSON.stringify(reply);
  return String(reply);
}

function startServer(s: Settings) {
  const options: ServeOptions<unknown, unknown> = {
    hostname: s.hostname,
    port: s.port,
    codec: makeCodec(s),
    // The handler writes each message back before taking the next, so it
    // can borrow messages from the read buffer instead of copying them.
    borrow: true,
    maxConnections: s.maxConnections,
    idleTimeout: s.idleTimeout,
    proxyProtocol: s.proxyProtocol,
    trustedProxies: s.trust,
    onOpen: (conn) => {
      if (s.mode === "server") {
        console.error(`open   ${formatAddr(conn.remoteAddr)}`);
      }
    },
    onClose: (conn, error) => {
      if (s.mode === "server") {
        const { bytesRead, bytesWritten } = conn.stats;
        console.error(
          `close  ${
            formatAddr(conn.remoteAddr)
          } in ${bytesRead} B, out ${bytesWritten} B${
            error ? ` (${error.name}: ${error.message})` : ""
          }`,
        );
      }
    },
    onError: (error, conn) => {
      if (s.mode !== "server" || conn !== null) return; // reported on close
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
  return serve(options, async (conn: Connection<unknown>) => {
    for await (const message of conn) await conn.send(message);
  });
}

async function runClient(s: Settings, port: number): Promise<void> {
  const tls = s.caCert !== undefined
    ? { caCerts: [Deno.readTextFileSync(s.caCert)] }
    : s.cert !== undefined;
  const address = s.path !== undefined
    ? { path: s.path }
    : { hostname: s.hostname === "0.0.0.0" ? "127.0.0.1" : s.hostname, port };
  await using conn = await connect(address, {
    codec: makeCodec(s),
    ...(s.path === undefined ? { tls } : {}),
    connectTimeout: 5000,
    readTimeout: 10_000,
  });
  const message = outgoing(s);
  for (let i = 0; i < s.count; i++) {
    await conn.send(message);
    if (s.codec === "raw") {
      // Raw bytes keep no boundaries: read until as many bytes came back,
      // or the server closed.
      const want = (message as Uint8Array).length;
      const parts: Uint8Array[] = [];
      let got = 0;
      while (got < want) {
        const chunk = await conn.receive() as Uint8Array | undefined;
        if (chunk === undefined) break;
        parts.push(chunk);
        got += chunk.length;
      }
      const all = new Uint8Array(got);
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      console.log(show(all, s));
      if (got < want) break;
    } else {
      const reply = await conn.receive();
      if (reply === undefined) break;
      console.log(show(reply, s));
    }
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
        const port = addr.transport === "tcp" ? addr.port : 0;
        await runClient(s, port);
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

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
