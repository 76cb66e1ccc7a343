// Copyright 2026 the netkit authors. MIT license.

/**
 * The echo over TLS, with a self-signed test certificate made by `openssl`.
 *
 * ```sh
 * # demo: make a certificate in a temporary directory, serve, connect, exit
 * deno run -N -R -W --allow-run=openssl examples/tls_echo.ts
 *
 * deno run -R -W --allow-run=openssl examples/tls_echo.ts --generate certs
 * deno run -N -R examples/tls_echo.ts --mode server --cert certs/cert.pem --key certs/key.pem
 * deno run -N -R examples/tls_echo.ts --mode client --ca-cert certs/cert.pem --message hi
 * openssl s_client -connect 127.0.0.1:8443 -quiet -CAfile certs/cert.pem
 * ```
 *
 * `--generate DIR` runs:
 *
 * ```sh
 * openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
 *   -addext basicConstraints=critical,CA:FALSE \
 *   -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
 *   -keyout DIR/key.pem -out DIR/cert.pem
 * ```
 *
 * The certificate is its own issuer, so a client trusts it by taking it as
 * its CA (`--ca-cert`, `-CAfile`). It names both `localhost` and
 * `127.0.0.1`: the client checks the name it connected to against these.
 * It is for tests only; it expires after a day.
 *
 * The server echoes bytes as they arrive, so any TLS client works. The
 * client sends `--message` and prints the reply. `--help` lists every flag.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { connect, formatAddr, serve, type Server } from "../mod.ts";
import { oneOf, runMain, serveUntilSignal, UsageError } from "./_cli.ts";

const HELP =
  `Usage: deno run -N -R -W --allow-run=openssl examples/tls_echo.ts [options]

  --mode demo|server|client   demo (default): make a certificate, serve,
                              connect, echo once, exit
  --hostname HOST             address to listen on or connect to (127.0.0.1)
  --port PORT                 TCP port (8443; the demo picks a free one)
  --cert FILE --key FILE      the server's certificate and key, PEM (needs -R)
  --ca-cert FILE              the client trusts this certificate (needs -R);
                              without it, only the system's roots
  --message TEXT              what the client sends ("Hello, TLS!")
  --generate DIR              write a self-signed test certificate to
                              DIR/cert.pem and DIR/key.pem, then exit
                              (needs -W --allow-run=openssl)
  --help                      this text
`;

interface Settings {
  mode: "demo" | "server" | "client";
  hostname: string;
  port: number;
  cert: string | undefined;
  key: string | undefined;
  caCert: string | undefined;
  message: string;
  generate: string | undefined;
}

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: [
      "mode",
      "hostname",
      "port",
      "cert",
      "key",
      "ca-cert",
      "message",
      "generate",
    ],
    boolean: ["help"],
    default: { mode: "demo", hostname: "127.0.0.1", message: "Hello, TLS!" },
    unknown: (arg: string) => {
      throw new UsageError(`unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  const mode = oneOf(String(args.mode), "mode", ["demo", "server", "client"]);
  let port = mode === "demo" ? 0 : 8443;
  if (args.port !== undefined) {
    port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(
        `--port must be an integer from 0 to 65535, received "${args.port}"`,
      );
    }
  }
  const settings: Settings = {
    mode,
    hostname: String(args.hostname),
    port,
    cert: args.cert === undefined ? undefined : String(args.cert),
    key: args.key === undefined ? undefined : String(args.key),
    caCert: args["ca-cert"] === undefined ? undefined : String(args["ca-cert"]),
    message: String(args.message),
    generate: args.generate === undefined ? undefined : String(args.generate),
  };
  if (
    mode === "server" && settings.generate === undefined &&
    (settings.cert === undefined || settings.key === undefined)
  ) {
    throw new UsageError(
      "--mode server needs --cert and --key (make a pair with --generate DIR)",
    );
  }
  return settings;
}

/**
 * Writes a self-signed certificate for `localhost` and `127.0.0.1` with
 * `openssl`.
 *
 * @param dir The directory to write `cert.pem` and `key.pem` to.
 * @returns The paths of the two files.
 */
async function generate(dir: string): Promise<{ cert: string; key: string }> {
  await Deno.mkdir(dir, { recursive: true });
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        "Cannot run openssl: not found (install OpenSSL, or pass --cert and --key)",
      );
    }
    throw err;
  }
  if (!output.success) {
    const detail = new TextDecoder().decode(output.stderr).trim()
      .split("\n").at(-1);
    throw new Error(
      `Cannot make a certificate: openssl exited with code ${output.code}: ${detail}`,
    );
  }
  return { cert, key };
}

function startServer(
  s: Settings,
  files: { cert: string; key: string },
): Server {
  return serve({
    hostname: s.hostname,
    port: s.port,
    tls: {
      cert: Deno.readTextFileSync(files.cert),
      key: Deno.readTextFileSync(files.key),
    },
    onOpen: (conn) => {
      if (s.mode === "server") {
        console.error(`open   ${formatAddr(conn.remoteAddr)}`);
      }
    },
    onClose: (conn, error) => {
      if (s.mode === "server") {
        console.error(
          `close  ${formatAddr(conn.remoteAddr)}${
            error ? ` (${error.name}: ${error.message})` : ""
          }`,
        );
      }
    },
    // A client that gives up during the handshake (a bad certificate on
    // its side) is reported here.
    onError: (error, conn) => {
      if (conn === null) {
        console.error(`error  ${error.name}: ${error.message}`);
      }
    },
  }, (conn) => conn.forEach((chunk) => conn.write(chunk)));
}

async function runClient(
  s: Settings,
  port: number,
  caCert: string | undefined,
): Promise<void> {
  // The name checked against the certificate is the hostname connected to.
  await using conn = await connect({ hostname: s.hostname, port }, {
    tls: caCert === undefined ? true : { caCerts: [caCert] },
    connectTimeout: 5000,
    readTimeout: 10_000,
  });
  const message = new TextEncoder().encode(s.message);
  await conn.send(message);
  // Bytes keep no boundaries: read until as many came back.
  const reply = new Uint8Array(message.length);
  let got = 0;
  while (got < reply.length) {
    const chunk = await conn.receive();
    if (chunk === undefined) break;
    reply.set(chunk.subarray(0, reply.length - got), got);
    got += chunk.length;
  }
  console.log(new TextDecoder().decode(reply.subarray(0, got)));
  // End the session cleanly: closeWrite() sends TLS close_notify and waits
  // for it to be written; then read to the server's EOF. (Without it, a
  // process that exits right away can close the socket before the
  // close_notify goes out, and the server sees an unexpected EOF.)
  await conn.closeWrite();
  while (await conn.receive() !== undefined) {
    // Nothing more is expected.
  }
}

/**
 * Runs the program.
 *
 * @param argv The command-line arguments.
 * @returns The exit code.
 */
function main(argv: string[]): Promise<number> {
  return runMain("tls_echo", HELP, argv, parse, async (s) => {
    if (s.generate !== undefined) {
      const files = await generate(s.generate);
      console.log(`wrote ${files.cert} and ${files.key}`);
      return 0;
    }
    if (s.mode === "client") {
      const ca = s.caCert === undefined
        ? undefined
        : Deno.readTextFileSync(s.caCert);
      await runClient(s, s.port, ca);
      return 0;
    }
    if (s.mode === "server") {
      const server = startServer(s, { cert: s.cert!, key: s.key! });
      console.log(`listening on ${formatAddr(server.addr)}`);
      await serveUntilSignal(server, 2000);
      return 0;
    }
    // The demo: everything in a temporary directory, removed at the end.
    const dir = await Deno.makeTempDir({ prefix: "tls_echo_" });
    try {
      const files = await generate(dir);
      const server = startServer(s, files);
      try {
        const addr = server.addr as Deno.NetAddr;
        console.log(`listening on ${formatAddr(addr)}`);
        await runClient(s, addr.port, Deno.readTextFileSync(files.cert));
      } finally {
        await server.shutdown({ timeout: 1000 });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    return 0;
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
