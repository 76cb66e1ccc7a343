// Copyright 2026 the netkit authors. MIT license.

/**
 * A rate-limited download with a progress bar: the server sends bytes
 * through `throttle()`, the client counts them as they come and reports the
 * rate it got.
 *
 * ```sh
 * deno run -N examples/throttle.ts                     # demo: 4 MiB at 1 MiB/s, then exit
 * deno run -N examples/throttle.ts --bytes 65536 --rate 131072
 * deno run -N examples/throttle.ts --mode server       # listening on 127.0.0.1:8900
 * deno run -N examples/throttle.ts --mode client --bytes 10485760 --rate 2097152
 * echo "1048576 262144" | nc 127.0.0.1 8900 | wc -c     # any client will do
 * ```
 *
 * The protocol: the client sends one line, `<bytes> <bytes per second>`;
 * the server answers with exactly that many bytes at that rate, then
 * closes. On the server, the bytes flow through
 * `throttle({ bytesPerSecond, burst })`, a `TransformStream` with a token
 * bucket inside: each chunk waits for its bytes' worth of tokens, and
 * backpressure holds the source back meanwhile. The bucket holds a tenth of
 * a second's worth (`burst`) and starts full, so a transfer of `N` bytes at
 * `R` bytes per second takes at least `(N - R / 10) / R` seconds.
 *
 * The client shows a progress bar on stderr and prints the result on
 * stdout:
 *
 * ```text
 * [00:03] [##################################################] 4.00/4.00 MiB  1.01 MiB/s
 * 4194304 bytes in 3.92 s: 1.02 MiB/s (target 1.00 MiB/s)
 * ```
 *
 * (A little over the target: the first tenth of a second's worth is the
 * full bucket, sent at once.)
 *
 * `--help` lists every flag.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { ProgressBar } from "@std/cli/unstable-progress-bar";
import {
  type Codec,
  connect,
  type Connection,
  createCodec,
  formatAddr,
  lines,
  raw,
  serve,
  type Server,
  text,
  throttle,
} from "../mod.ts";
import {
  integer,
  oneOf,
  runMain,
  serveUntilSignal,
  UsageError,
} from "./_cli.ts";

const HELP = `Usage: deno run -N examples/throttle.ts [options]

  --mode demo|server|client   demo (default): serve, download once, exit
  --hostname HOST             address to listen on or connect to (127.0.0.1)
  --port PORT                 TCP port (8900; the demo picks a free one)
  --bytes N                   how many bytes to download (4194304: 4 MiB)
  --rate BYTES_PER_SECOND     how fast the server sends them (1048576: 1 MiB/s)
  --help                      this text
`;

const MiB = 1 << 20;
const MAX_BYTES = 1 << 30;
const CHUNK = 16 * 1024;

interface Settings {
  mode: "demo" | "server" | "client";
  hostname: string;
  port: number;
  bytes: number;
  rate: number;
}

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: ["mode", "hostname", "port", "bytes", "rate"],
    boolean: ["help"],
    default: {
      mode: "demo",
      hostname: "127.0.0.1",
      bytes: String(4 * MiB),
      rate: String(MiB),
    },
    unknown: (arg: string) => {
      throw new UsageError(`unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  const mode = oneOf(String(args.mode), "mode", ["demo", "server", "client"]);
  return {
    mode,
    hostname: String(args.hostname),
    port: args.port !== undefined
      ? integer(String(args.port), "port", 0, 65535)
      : mode === "demo"
      ? 0
      : 8900,
    bytes: integer(String(args.bytes), "bytes", 1, MAX_BYTES),
    rate: integer(String(args.rate), "rate", 1, MAX_BYTES),
  };
}

/** `1.00 MiB/s`, `512.00 KiB/s` or `100 B/s`. */
function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= MiB) {
    return `${(bytesPerSecond / MiB).toFixed(2)} MiB/s`;
  }
  if (bytesPerSecond >= 1024) {
    return `${(bytesPerSecond / 1024).toFixed(2)} KiB/s`;
  }
  return `${Math.round(bytesPerSecond)} B/s`;
}

// ---------------------------------------------------------------------------
// Server: the sender

/**
 * The server reads a request line and writes raw bytes: a codec whose
 * decoder and encoder come from two different codecs.
 */
const serverCodec: Codec<string, Uint8Array> = createCodec({
  name: "request line in, bytes out",
  decoder: () => text(lines({ maxLength: 64 })).decoder(),
  encoder: () => raw().encoder(),
});

/** `total` bytes of `.`, in chunks of at most `CHUNK`. */
function data(total: number): ReadableStream<Uint8Array> {
  let left = total;
  return new ReadableStream({
    pull(controller) {
      const n = Math.min(CHUNK, left);
      controller.enqueue(new Uint8Array(n).fill(0x2e));
      left -= n;
      if (left === 0) controller.close();
    },
  }, { highWaterMark: 0 });
}

async function send(conn: Connection<string, Uint8Array>): Promise<void> {
  const request = await conn.receive();
  const [bytes, rate] = (request ?? "").trim().split(/\s+/).map(Number);
  if (
    !Number.isInteger(bytes) || bytes! < 1 || bytes! > MAX_BYTES ||
    !Number.isInteger(rate) || rate! < 1
  ) {
    await conn.send(
      new TextEncoder().encode(
        "Error: expected a line '<bytes> <bytes per second>'\n",
      ),
    );
    return;
  }
  // A bucket of a tenth of a second's worth keeps the output smooth; the
  // default (a second's worth) would let a small transfer out all at once.
  const shaped = data(bytes!).pipeThrough(
    throttle({
      bytesPerSecond: rate!,
      burst: Math.max(1, Math.floor(rate! / 10)),
    }),
  );
  // send() waits while the socket is slow: backpressure all the way back.
  for await (const chunk of shaped) await conn.send(chunk);
}

function startServer(s: Settings): Server<string, Uint8Array> {
  return serve<string, Uint8Array>({
    hostname: s.hostname,
    port: s.port,
    codec: serverCodec,
    onClose: (conn, error) => {
      if (s.mode !== "server") return;
      const { bytesWritten, openedAt } = conn.stats;
      const seconds = (Date.now() - openedAt) / 1000;
      console.error(
        `sent   ${bytesWritten} bytes to ${formatAddr(conn.remoteAddr)} in ${
          seconds.toFixed(2)
        } s${error ? ` (${error.message})` : ""}`,
      );
    },
    onError: (error, conn) => {
      if (conn === null) {
        console.error(`error  ${error.name}: ${error.message}`);
      }
    },
  }, send);
}

// ---------------------------------------------------------------------------
// Client: the receiver

async function download(s: Settings, port: number): Promise<void> {
  await using conn = await connect({ hostname: s.hostname, port }, {
    connectTimeout: 5000,
    idleTimeout: 30_000,
  });
  const start = performance.now();
  await conn.send(new TextEncoder().encode(`${s.bytes} ${s.rate}\n`));
  const bar = new ProgressBar({
    max: s.bytes,
    interval: 200,
    formatter: (f) => {
      const seconds = (f.time - f.previousTime) / 1000;
      const now = seconds > 0 ? (f.value - f.previousValue) / seconds : 0;
      return `[${f.styledTime}] [${f.progressBar}] ${f.styledData}  ${
        formatRate(now)
      }`;
    },
  });
  let received = 0;
  try {
    for await (const chunk of conn) {
      received += chunk.length;
      bar.value = received;
    }
  } finally {
    await bar.stop();
  }
  const seconds = (performance.now() - start) / 1000;
  if (received !== s.bytes) {
    throw new Error(
      `Cannot download: the server closed after ${received} of ${s.bytes} bytes`,
    );
  }
  console.log(
    `${received} bytes in ${seconds.toFixed(2)} s: ${
      formatRate(received / seconds)
    } (target ${formatRate(s.rate)})`,
  );
}

/**
 * Runs the program.
 *
 * @param argv The command-line arguments.
 * @returns The exit code.
 */
function main(argv: string[]): Promise<number> {
  return runMain("throttle", HELP, argv, parse, async (s) => {
    if (s.mode === "client") {
      await download(s, s.port);
      return 0;
    }
    const server = startServer(s);
    const addr = server.addr as Deno.NetAddr;
    console.log(`listening on ${formatAddr(addr)}`);
    if (s.mode === "demo") {
      try {
        await download(s, addr.port);
      } finally {
        await server.shutdown({ timeout: 1000 });
      }
      return 0;
    }
    await serveUntilSignal(server, 2000);
    return 0;
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
