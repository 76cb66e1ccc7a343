// Copyright 2026 the netkit authors. MIT license.

/**
 * The command line of `examples/echo.ts`: its flags, their checks, and the
 * codec and message each `--codec` stands for.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { type Codec, json, lengthPrefixed, lines, raw, text } from "../mod.ts";
import { integer, oneOf, UsageError } from "./_cli.ts";

export const HELP = `Usage: deno run -N examples/echo.ts [options]

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

export type Mode = "demo" | "server" | "client";
export type CodecName = "raw" | "lines" | "length" | "json";

export interface Settings {
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

export function parse(argv: string[]): Settings | null {
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

export function makeCodec(s: Settings): Codec<unknown> {
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
export function outgoing(s: Settings): unknown {
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

export function show(reply: unknown, s: Settings): string {
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  if (s.codec === "json") return JSON.stringify(reply);
  return String(reply);
}
