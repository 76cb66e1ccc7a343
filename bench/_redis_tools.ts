// Copyright 2026 the netkit authors. MIT license.

/**
 * What the Redis benchmark and the Redis tests share: starting
 * `redis-server` and the Deno RESP servers as child processes, sending raw
 * bytes and reading the reply, and running `redis-benchmark`.
 *
 * A missing `redis-server` or `redis-benchmark` is an error, never a skip:
 * `.ci/run` installs them.
 *
 * @module
 */

import { cpuSeconds } from "./load.ts";

export { cpuSeconds };

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const IMPORT_MAP = `${ROOT}offline/import_map.json`;
const ENV = { DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0", NO_COLOR: "1" };
const decoder = new TextDecoder();

/** A free TCP port on 127.0.0.1 (free when asked: another may take it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** A server running as a child process. */
export interface RunningServer extends AsyncDisposable {
  /** A name for messages. */
  readonly name: string;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Its process id (the server's own, not a wrapper's). */
  readonly pid: number;
  /** What it printed, the last few kilobytes. */
  output(): string;
  /** Stops it (SIGTERM, then SIGKILL after 3 s) and waits for it. */
  stop(): Promise<void>;
}

class ChildServer implements RunningServer {
  readonly name: string;
  port = 0;
  readonly #child: Deno.ChildProcess;
  readonly #pumps: Promise<unknown>;
  #tail = "";
  #lineWaiters: Array<(line: string) => void> = [];
  #stopped: Promise<void> | null = null;

  constructor(name: string, cmd: string[]) {
    this.name = name;
    this.#child = new Deno.Command(cmd[0]!, {
      args: cmd.slice(1),
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: ENV,
    }).spawn();
    this.#pumps = Promise.all([
      this.#pump(this.#child.stdout),
      this.#pump(this.#child.stderr),
    ]);
  }

  get pid(): number {
    return this.#child.pid;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      this.#tail = (this.#tail + chunk).slice(-4096);
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) for (const w of this.#lineWaiters) w(line);
    }
  }

  output(): string {
    return this.#tail;
  }

  /** Resolves with the first match of a line printed from now on. */
  waitForLine(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const waiter = (line: string) => {
        const m = line.match(pattern);
        if (m === null) return;
        done();
        resolve(m);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`${this.name}: no line matching ${pattern} in ${ms} ms`),
        );
      }, ms);
      const exited = () => {
        done();
        reject(new Error(`${this.name} exited before printing ${pattern}`));
      };
      this.#child.status.then(exited);
      const done = () => {
        clearTimeout(timer);
        this.#lineWaiters = this.#lineWaiters.filter((w) => w !== waiter);
      };
      this.#lineWaiters.push(waiter);
    });
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const kill = (signal: Deno.Signal) => {
        try {
          this.#child.kill(signal);
        } catch {
          // Exited already.
        }
      };
      kill("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const exited = await Promise.race([
        this.#child.status.then(() => true),
        new Promise<false>((r) => timer = setTimeout(() => r(false), 3000)),
      ]);
      clearTimeout(timer);
      if (!exited) kill("SIGKILL");
      await this.#child.status;
      await this.#pumps;
    })();
    return this.#stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Options for {@linkcode startRedisServer}. */
export interface StartRedisOptions {
  /**
   * A command prefix, such as `["taskset", "-c", "0"]`.
   *
   * @default {[]}
   */
  pin?: string[];
  /**
   * More `redis-server` arguments.
   *
   * @default {[]}
   */
  args?: string[];
}

/**
 * Starts `redis-server` on a free port, without persistence, with one
 * database and `proto-max-bulk-len` 8 MiB (what `examples/redis.ts` has),
 * and waits until it answers PING.
 *
 * @throws {Error} It is not installed, or does not answer in 10 s.
 */
export async function startRedisServer(
  options: StartRedisOptions = {},
): Promise<RunningServer> {
  const port = freePort();
  const server = new ChildServer("redis-server", [
    ...options.pin ?? [],
    "redis-server",
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--databases",
    "1",
    "--proto-max-bulk-len",
    String(8 * 1024 * 1024),
    "--loglevel",
    "warning",
    ...options.args ?? [],
  ]);
  server.port = port;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const { reply } = await exchange(port, "PING\r\n", {
        until: "+PONG\r\n",
      });
      if (decoder.decode(reply) === "+PONG\r\n") return server;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`redis-server did not answer PING\n${server.output()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts a Deno server program that prints `listening on HOST:PORT`, with
 * the offline import map, on a free port (`--port 0`).
 *
 * @param file The program, from the repository's root (`examples/redis.ts`).
 * @param args More arguments.
 * @param pin A command prefix, such as `["taskset", "-c", "0"]`.
 * @param denoFlags More flags of `deno run`, such as `--cpu-prof`.
 */
export async function startDenoServer(
  file: string,
  args: string[] = [],
  pin: string[] = [],
  denoFlags: string[] = [],
): Promise<RunningServer> {
  const server = new ChildServer(file, [
    ...pin,
    Deno.execPath(),
    "run",
    ...denoFlags,
    `--import-map=${IMPORT_MAP}`,
    "-N",
    `${ROOT}${file}`,
    "--port",
    "0",
    ...args,
  ]);
  try {
    const [, port] = await server.waitForLine(
      /^listening on .*:(\d+)$/,
      20_000,
    );
    server.port = Number(port);
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}\n${server.output()}`);
  }
  return server;
}

/** Options for {@linkcode exchange}. */
export interface ExchangeOptions {
  /**
   * Reading stops once the reply ends with these bytes (or at EOF).
   *
   * @default {undefined: at EOF only}
   */
  until?: string | Uint8Array | undefined;
  /**
   * Write one byte at a time, with a pause after each.
   *
   * @default {false}
   */
  bytewise?: boolean | undefined;
  /**
   * Give up after this long, in milliseconds.
   *
   * @default {10000}
   */
  timeout?: number;
}

/** What {@linkcode exchange} read. */
export interface Exchanged {
  /** Every byte the server sent. */
  reply: Uint8Array;
  /** Whether the server closed the connection. */
  closed: boolean;
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * Connects, writes `request` (a string is one byte per character), and
 * reads until the reply ends with `until`, or the server closes.
 *
 * @throws {Error} Neither happens within the timeout.
 */
export async function exchange(
  port: number,
  request: string | Uint8Array,
  options: ExchangeOptions = {},
): Promise<Exchanged> {
  const bytes = typeof request === "string" ? latin1(request) : request;
  const until = typeof options.until === "string"
    ? latin1(options.until)
    : options.until;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`No end of reply within ${options.timeout ?? 10_000} ms`),
          ),
        options.timeout ?? 10_000,
      );
    });
    const writing = (async () => {
      if (!options.bytewise) return writeAll(conn, bytes);
      for (let i = 0; i < bytes.length; i++) {
        await writeAll(conn, bytes.subarray(i, i + 1));
        await new Promise((r) => setTimeout(r, 1));
      }
    })().catch(() => {}); // a server that closes first stops the writes
    let reply = new Uint8Array(0);
    let closed = false;
    const buf = new Uint8Array(65536);
    while (until === undefined || !endsWith(reply, until)) {
      let n: number | null;
      try {
        n = await Promise.race([conn.read(buf), timedOut]);
      } catch (err) {
        if (!(err instanceof Deno.errors.ConnectionReset)) throw err;
        n = null;
      }
      if (n === null) {
        closed = true;
        break;
      }
      const more = new Uint8Array(reply.length + n);
      more.set(reply);
      more.set(buf.subarray(0, n), reply.length);
      reply = more;
    }
    await writing;
    return { reply, closed };
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

function endsWith(bytes: Uint8Array, tail: Uint8Array): boolean {
  const at = bytes.length - tail.length;
  return at >= 0 && tail.every((b, i) => bytes[at + i] === b);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(bytes.subarray(off));
  }
}

/** Options for {@linkcode redisBenchmark}. */
export interface BenchmarkOptions {
  /** The tests, as `-t` takes them: `ping`, `set,get`. */
  tests: string;
  /** Parallel connections (`-c`). */
  clients: number;
  /** Requests per connection in flight (`-P`). */
  pipeline: number;
  /** Requests per test (`-n`). */
  requests: number;
  /**
   * A command prefix, such as `["taskset", "-c", "1"]`.
   *
   * @default {[]}
   */
  pin?: string[];
}

/** What one `redis-benchmark` run gave. */
export interface BenchmarkResult {
  /** Its exit code: 1 after any error reply. */
  code: number;
  /** Requests per second by test name (`PING_INLINE`, `SET`, ...). */
  rps: Map<string, number>;
  /** What it printed on stderr (`Error from server: ...`). */
  stderr: string;
  /** How long it ran, in seconds. */
  seconds: number;
}

/**
 * Runs `redis-benchmark` against a port (with `--csv`) and parses its
 * requests per second.
 */
export async function redisBenchmark(
  port: number,
  options: BenchmarkOptions,
): Promise<BenchmarkResult> {
  const cmd = [
    ...options.pin ?? [],
    "redis-benchmark",
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    options.tests,
    "-c",
    String(options.clients),
    "-P",
    String(options.pipeline),
    "-n",
    String(options.requests),
    "--csv",
  ];
  const t0 = performance.now();
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const rps = new Map<string, number>();
  for (const line of decoder.decode(out.stdout).split("\n")) {
    const m = line.match(/^"([A-Z_]+)","([\d.]+)"/);
    if (m) rps.set(m[1]!, Number(m[2]));
  }
  return { code: out.code, rps, stderr: decoder.decode(out.stderr), seconds };
}
