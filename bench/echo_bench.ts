// Copyright 2026 the netkit authors. MIT license.

/**
 * The side-by-side echo benchmark: the same load against eight
 * length-prefixed (u32 big-endian) echo servers, in interleaved rounds
 * within one invocation, and a ninth for idle memory only.
 *
 * - (a) netkit: `examples/echo.ts --mode server --codec length`
 *   (`serve` + `lengthPrefixed` + `forEach` / `write`, the lead idiom)
 * - (b) netkit's web-stream face: `bench/streams_echo.ts`
 *   (`conn.readable.pipeTo(conn.writable)`)
 * - (c) the baseline: `bench/baseline_echo.ts`, a hand-written
 *   `Deno.listen` + `conn.read` / `conn.write` loop
 * - (d) Node `net`, hand-written: `bench/node_echo.mjs`
 * - (e) Python asyncio streams: `bench/asyncio_echo.py`
 * - (f) the for-await floor: `bench/floor_echo.ts`, the baseline's loop
 *   handing each message out through the cheapest `for await` and
 *   `await`-per-send a library could offer (what bounds (g))
 * - (g) netkit `for await` + `send`: `bench/for_await_echo.ts`
 * - (i) the callback floor: `bench/callback_floor.ts`, the baseline's loop
 *   handing each message as a view to a synchronous callback that copies
 *   its reply out (what bounds (a))
 * - (h) the idle-memory floor: `bench/idle_floor.ts`, a bare `conn.read()`
 *   of 2 KiB pending per connection (what Deno itself costs an idle
 *   connection); not run unless `--servers` names it
 *
 * ```sh
 * deno task bench:echo                  # 5 rounds: about 9 minutes
 * deno task bench:echo --quick          # a CI-sized run
 * deno task bench:echo --rounds 5 --duration 2 --servers a,c
 * deno task bench:echo --idle-only --servers a,d,h
 * ```
 *
 * Idle memory comes first, on fresh servers: the RSS each one adds per idle
 * connection, once after every connection echoed one 16-byte frame and once
 * after every connection echoed one 64 KiB frame (the memory of a large
 * message must not stay with the connection). `--idle-only` measures that
 * and nothing else, and writes no files.
 *
 * Each server runs as a child process (pinned to core 0 with `taskset`
 * where there is one and two cores); the load is `bench/load.ts` as a child
 * process (pinned to core 1), so the client's CPU is not the server's. Each
 * cell runs a short warm-up, then a fixed window. Medians over the rounds
 * are reported; a ratio to the baseline (c) is the median of the ratios
 * taken within each round, since the machine's speed drifts from one minute
 * to the next. The results go to `bench/results/echo.md` (tables),
 * `echo.svg` (the chart) and `echo.json` (every round's figures).
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import {
  ProgressBar,
  type ProgressBarFormatter,
} from "@std/cli/unstable-progress-bar";
import type { LoadResult } from "./load.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const IMPORT_MAP = `${ROOT}offline/import_map.json`;
const DENO = Deno.execPath();

export type ServerKey =
  | "a"
  | "b"
  | "c"
  | "d"
  | "e"
  | "f"
  | "g"
  | "h"
  | "i";

export interface ServerSpec {
  key: ServerKey;
  /** The name in tables and the legend. */
  name: string;
  color: string;
  command: () => string[];
}

let python = "python3";

export const SERVERS: readonly ServerSpec[] = [
  {
    key: "a",
    name: "(a) netkit",
    color: "#1f5fbf",
    command: () => [
      DENO,
      "run",
      `--import-map=${IMPORT_MAP}`,
      "-N",
      `${ROOT}examples/echo.ts`,
      "--mode",
      "server",
      "--codec",
      "length",
      "--port",
      "0",
      "--max-frame-length",
      "1048576",
    ],
  },
  {
    key: "b",
    name: "(b) netkit web streams",
    color: "#7fb2ef",
    command: () => [
      DENO,
      "run",
      `--import-map=${IMPORT_MAP}`,
      "-N",
      `${ROOT}bench/streams_echo.ts`,
      "--port",
      "0",
    ],
  },
  {
    key: "c",
    name: "(c) Deno hand-written",
    color: "#4d4d4d",
    command: () => [
      DENO,
      "run",
      `--import-map=${IMPORT_MAP}`,
      "-N",
      `${ROOT}bench/baseline_echo.ts`,
      "--port",
      "0",
    ],
  },
  {
    key: "d",
    name: "(d) Node net",
    color: "#3c9a3c",
    command: () => ["node", `${ROOT}bench/node_echo.mjs`, "--port", "0"],
  },
  {
    key: "e",
    name: "(e) Python asyncio",
    color: "#e08a1e",
    command: () => [python, `${ROOT}bench/asyncio_echo.py`, "--port", "0"],
  },
  {
    key: "f",
    name: "(f) for-await floor",
    color: "#9a5fb5",
    command: () => [
      DENO,
      "run",
      `--import-map=${IMPORT_MAP}`,
      "-N",
      `${ROOT}bench/floor_echo.ts`,
      "--port",
      "0",
    ],
  },
  {
    key: "g",
    name: "(g) netkit for await",
    color: "#c0392b",
    command: () => [
      DENO,
      "run",
      `--import-map=${IMPORT_MAP}`,
      "-N",
      `${ROOT}bench/for_await_echo.ts`,
      "--port",
      "0",
    ],
  },
  {
    key: "i",
    name: "(i) callback floor",
    color: "#5a8f3c",
    command: () => [
      DENO,
      "run",
      `--import-map=${IMPORT_MAP}`,
      "-N",
      `${ROOT}bench/callback_floor.ts`,
      "--port",
      "0",
    ],
  },
  {
    key: "h",
    name: "(h) Deno idle floor",
    color: "#a0a0a0",
    command: () => [
      DENO,
      "run",
      `--import-map=${IMPORT_MAP}`,
      "-N",
      `${ROOT}bench/idle_floor.ts`,
      "--port",
      "0",
    ],
  },
];

export interface Workload {
  size: number;
  connections: number;
  pipeline: number;
}

const FULL_WORKLOADS: Workload[] = [64, 1024, 65536].flatMap((size) =>
  [1, 50].flatMap((connections) =>
    [1, 64].map((pipeline) => ({ size, connections, pipeline }))
  )
);

const QUICK_WORKLOADS: Workload[] = [
  { size: 64, connections: 1, pipeline: 1 },
  { size: 64, connections: 50, pipeline: 64 },
  { size: 1024, connections: 50, pipeline: 64 },
  { size: 65536, connections: 50, pipeline: 1 },
];

const HELP = `Usage: deno task bench:echo [options]

Runs bench/load.ts against eight length-prefixed echo servers in interleaved
rounds and writes bench/results/echo.md, echo.svg and echo.json.

  --quick            a CI-sized run: 4 workloads, 1 round, short windows
  --rounds N         interleaved rounds (5; quick: 1)
  --duration S       measured seconds per cell (1; quick: 0.3)
  --warmup S         warm-up seconds per cell, not counted (0.25; quick: 0.1)
  --idle N           idle connections for the memory figure (1000; quick: 100),
                     then twice as many more for the marginal figure
  --idle-only        measure the idle memory only, print it, write no files
  --servers LIST     which servers, e.g. a,c,f (a,b,c,d,e,f,g,i; h, the idle
                     floor, only when named)
  --iperf-seconds S  iperf3's run (3; quick: 1); 0 skips it
  --no-pin           do not pin server and client to cores
  --out DIR          where the results go (bench/results)
  --help             this text
`;

interface Settings {
  quick: boolean;
  idleOnly: boolean;
  rounds: number;
  duration: number;
  warmup: number;
  idle: number;
  servers: ServerSpec[];
  iperfSeconds: number;
  pin: boolean;
  out: string;
}

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: [
      "rounds",
      "duration",
      "warmup",
      "idle",
      "servers",
      "iperf-seconds",
      "out",
    ],
    boolean: ["quick", "help", "pin", "idle-only"],
    negatable: ["pin"],
    default: {
      pin: true,
      servers: "a,b,c,d,e,f,g,i",
      out: `${ROOT}bench/results`,
    },
    unknown: (arg: string) => {
      throw new RangeError(`Unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  const quick = Boolean(args.quick);
  const num = (
    name: string,
    fallback: number,
    min: number,
    integer = false,
  ): number => {
    const raw = args[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (Number.isNaN(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new RangeError(
        `--${name} must be ${
          integer ? "an integer" : "a number"
        } of at least ${min}, received "${raw}"`,
      );
    }
    return n;
  };
  const keys = String(args.servers).split(",").map((s) => s.trim());
  const servers = SERVERS.filter((s) => keys.includes(s.key));
  const unknown = keys.filter((k) => !SERVERS.some((s) => s.key === k));
  if (unknown.length > 0 || servers.length === 0) {
    throw new RangeError(
      `--servers must list some of a,b,c,d,e,f,g,h,i, received "${args.servers}"`,
    );
  }
  return {
    quick,
    idleOnly: Boolean(args["idle-only"]),
    rounds: num("rounds", quick ? 1 : 5, 1, true),
    duration: num("duration", quick ? 0.3 : 1, 0.05),
    warmup: num("warmup", quick ? 0.1 : 0.25, 0),
    idle: num("idle", quick ? 100 : 1000, 1, true),
    servers,
    iperfSeconds: num("iperf-seconds", quick ? 1 : 3, 0, true),
    pin: Boolean(args.pin),
    out: String(args.out).replace(/\/$/, ""),
  };
}

// ---------------------------------------------------------------------------
// Processes

const decoder = new TextDecoder();

async function run(
  cmd: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(cmd[0]!, {
      args: cmd.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.env ? { env: options.env } : {}),
    }).output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch (err) {
    return { code: 127, stdout: "", stderr: (err as Error).message };
  }
}

/** Reads a child's stream line by line, keeping the last few kilobytes. */
class StreamTail {
  #tail = "";
  #lineWaiters: Array<(line: string) => boolean> = [];
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      this.#tail = (this.#tail + chunk).slice(-4096);
      if (this.#lineWaiters.length === 0) continue;
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        this.#lineWaiters = this.#lineWaiters.filter((w) => !w(line));
      }
    }
  }

  /** Resolves with the first line matching `pattern`, or rejects after `ms`. */
  waitFor(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#lineWaiters = this.#lineWaiters.filter((w) => w !== waiter);
        reject(new Error(`No line matching ${pattern} within ${ms} ms`));
      }, ms);
      const waiter = (line: string): boolean => {
        const m = line.match(pattern);
        if (m === null) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      };
      this.#lineWaiters.push(waiter);
      this.done.then(() => {
        if (this.#lineWaiters.includes(waiter)) {
          this.#lineWaiters = this.#lineWaiters.filter((w) => w !== waiter);
          clearTimeout(timer);
          reject(new Error(`Stream ended before a line matching ${pattern}`));
        }
      });
    });
  }

  get text(): string {
    return this.#tail;
  }
}

export class ServerProcess {
  readonly spec: ServerSpec;
  readonly child: Deno.ChildProcess;
  readonly stdout: StreamTail;
  readonly stderr: StreamTail;
  port = 0;

  constructor(spec: ServerSpec, prefix: string[]) {
    this.spec = spec;
    const cmd = [...prefix, ...spec.command()];
    this.child = new Deno.Command(cmd[0]!, {
      args: cmd.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0", NO_COLOR: "1" },
    }).spawn();
    this.stdout = new StreamTail(this.child.stdout);
    this.stderr = new StreamTail(this.child.stderr);
  }

  static async start(
    spec: ServerSpec,
    prefix: string[],
  ): Promise<ServerProcess> {
    const server = new ServerProcess(spec, prefix);
    try {
      const m = await server.stdout.waitFor(
        /listening on .*:(\d+)\s*$/,
        20_000,
      );
      server.port = Number(m[1]);
    } catch (err) {
      await server.stop();
      throw new Error(
        `Cannot start ${spec.name}: ${
          (err as Error).message
        }\n${server.stderr.text}`,
      );
    }
    return server;
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Resident memory in KiB, from /proc/PID/status. */
  rss(): number {
    const status = Deno.readTextFileSync(`/proc/${this.pid}/status`);
    const m = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    if (m === null) throw new Error(`No VmRSS for ${this.spec.name}`);
    return Number(m[1]);
  }

  async stop(): Promise<void> {
    const kill = (signal: Deno.Signal) => {
      try {
        this.child.kill(signal);
      } catch {
        // Exited already.
      }
    };
    kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.child.status.then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), 3000)),
    ]);
    clearTimeout(timer);
    if (!exited) {
      kill("SIGKILL");
      await this.child.status;
    }
    await Promise.all([this.stdout.done, this.stderr.done]).catch(() => {});
  }
}

/**
 * The command prefixes that pin a server to core 0 and the load to core 1
 * (with `taskset`), when asked and there are two cores; empty otherwise.
 */
export async function pinCores(
  wanted: boolean,
): Promise<{ pinned: boolean; serverPin: string[]; clientPin: string[] }> {
  const pinned = wanted && navigator.hardwareConcurrency >= 2 &&
    (await run(["taskset", "-c", "0", "true"])).code === 0;
  return {
    pinned,
    serverPin: pinned ? ["taskset", "-c", "0"] : [],
    clientPin: pinned ? ["taskset", "-c", "1"] : [],
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------
// Measurements

export interface Cell {
  result: LoadResult | null;
  failure: string | null;
}

/**
 * Runs `bench/load.ts` as a child process against a server, for one
 * workload and the given bounds (`--duration`/`--warmup`, or `--messages`,
 * and `--timeout`), reporting the server's CPU too.
 */
export async function runLoadChild(
  server: ServerProcess,
  w: Workload,
  bounds: string[],
  prefix: string[],
): Promise<Cell> {
  const cmd = [
    ...prefix,
    DENO,
    "run",
    `--import-map=${IMPORT_MAP}`,
    "-A", // reading another process's /proc/PID/stat needs all permissions
    `${ROOT}bench/load.ts`,
    "--port",
    String(server.port),
    "--connections",
    String(w.connections),
    "--pipeline",
    String(w.pipeline),
    "--size",
    String(w.size),
    ...bounds,
    "--server-pid",
    String(server.pid),
    "--json",
    "--no-progress",
  ];
  const out = await run(cmd, {
    env: { DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0", NO_COLOR: "1" },
  });
  const line = out.stdout.trim().split("\n").pop() ?? "";
  try {
    const result = JSON.parse(line) as LoadResult;
    const failure = result.errors > 0 || result.mismatches > 0
      ? result.errorMessages.join("; ") || "errors"
      : null;
    return { result, failure };
  } catch {
    return {
      result: null,
      failure: `load exited with ${out.code}: ${out.stderr.trim().slice(-500)}`,
    };
  }
}

/**
 * The payload each idle connection echoes once before it idles, in bytes:
 * a small frame, then (on another fresh server) a large one, whose read
 * and write buffers must not stay with the connection.
 */
export const IDLE_MESSAGES = [16, 65536] as const;

export interface Memory {
  /** The payload each connection echoed before it idled, in bytes. */
  messageSize: number;
  /** RSS in KiB of the fresh server. */
  before: number;
  /** RSS in KiB holding `opened` idle connections. */
  after: number;
  opened: number;
  perConnection: number;
  /**
   * KiB per connection from `opened` to `moreOpened` connections: what
   * one more costs once the runtime's heap has grown for the first ones
   * (null when the file limit allows no more).
   */
  marginal: number | null;
  moreOpened: number;
}

/** Opens a connection and makes one echo round trip of `size` bytes on it. */
async function openAndPing(port: number, size: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const frame = new Uint8Array(4 + size);
    new DataView(frame.buffer).setUint32(0, size);
    frame.fill(0x61, 4);
    let off = 0;
    while (off < frame.length) off += await conn.write(frame.subarray(off));
    const reply = new Uint8Array(4 + size);
    let got = 0;
    while (got < reply.length) {
      const n = await conn.read(reply.subarray(got));
      if (n === null) throw new Error("Server closed an idle connection");
      got += n;
    }
    if (reply.some((b, i) => b !== frame[i])) {
      throw new Error("Idle connection's echo differs from what was sent");
    }
    return conn;
  } catch (err) {
    conn.close();
    throw err;
  }
}

/**
 * RSS of a fresh server before and after it holds `count` idle connections,
 * each of which has echoed one frame of `size` bytes (as has one connection
 * closed before the first figure), then after `more` more.
 */
export async function idleMemory(
  spec: ServerSpec,
  count: number,
  more: number,
  prefix: string[],
  size: number = IDLE_MESSAGES[0],
): Promise<Memory> {
  const server = await ServerProcess.start(spec, prefix);
  const conns: Deno.TcpConn[] = [];
  const open = async (n: number) => {
    for (let i = 0; i < n; i += 100) {
      const opened = await Promise.allSettled(
        Array.from(
          { length: Math.min(100, n - i) },
          () => openAndPing(server.port, size),
        ),
      );
      for (const r of opened) {
        if (r.status === "fulfilled") conns.push(r.value);
        else throw r.reason;
      }
    }
    await delay(1000); // let the server settle (allocation, GC)
  };
  try {
    (await openAndPing(server.port, size)).close();
    await delay(500);
    const before = server.rss();
    await open(count);
    const after = server.rss();
    const opened = conns.length;
    let marginal: number | null = null;
    if (more > 0) {
      await open(more);
      marginal = (server.rss() - after) / (conns.length - opened);
    }
    return {
      messageSize: size,
      before,
      after,
      opened,
      perConnection: (after - before) / opened,
      marginal,
      moreOpened: conns.length,
    };
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // Closed already.
      }
    }
    await server.stop();
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

interface Iperf {
  megabytesPerSecond: number | null;
  note: string;
}

async function ensureIperf(): Promise<string | null> {
  if ((await run(["iperf3", "--version"])).code === 0) return null;
  let root = false;
  try {
    root = Deno.uid() === 0;
  } catch {
    // No permission to ask.
  }
  if (!root) return "iperf3 is not installed (apt-get install iperf3)";
  console.error("installing iperf3 from Debian's packages");
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  let r = await run(["apt-get", "install", "-y", "-qq", "iperf3"], { env });
  if (r.code !== 0) {
    await run(["apt-get", "update", "-qq"], { env });
    r = await run(["apt-get", "install", "-y", "-qq", "iperf3"], { env });
  }
  return r.code === 0 ? null : `cannot install iperf3: ${r.stderr.trim()}`;
}

async function iperf(
  seconds: number,
  serverPrefix: string[],
  clientPrefix: string[],
): Promise<Iperf> {
  const missing = await ensureIperf();
  if (missing !== null) return { megabytesPerSecond: null, note: missing };
  const port = freePort();
  const cmd = [
    ...serverPrefix,
    "iperf3",
    "-s",
    "-1",
    "--forceflush",
    "-p",
    String(port),
  ];
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new StreamTail(child.stdout);
  const stderr = new StreamTail(child.stderr);
  try {
    await stdout.waitFor(/Server listening/, 10_000);
    const out = await run([
      ...clientPrefix,
      "iperf3",
      "-c",
      "127.0.0.1",
      "-p",
      String(port),
      "-t",
      String(seconds),
      "-J",
    ]);
    const report = JSON.parse(out.stdout);
    const bps = report?.end?.sum_received?.bits_per_second;
    if (typeof bps !== "number") {
      return {
        megabytesPerSecond: null,
        note: `iperf3: ${out.stdout.slice(0, 200)}`,
      };
    }
    return {
      megabytesPerSecond: bps / 8 / 1e6,
      note: `iperf3 -c 127.0.0.1 -t ${seconds}, one stream, one direction`,
    };
  } catch (err) {
    return {
      megabytesPerSecond: null,
      note: `iperf3 failed: ${(err as Error).message}`,
    };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Exited after its one test.
    }
    await child.status;
    await Promise.all([stdout.done, stderr.done]).catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// Statistics and formatting

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function workloadLabel(w: Workload): string {
  return `${sizeLabel(w.size)} × ${w.connections} × ${w.pipeline}`;
}

function sizeLabel(size: number): string {
  return size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
}

function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)} k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

function mb(n: number): string {
  return n >= 100
    ? n.toLocaleString("en-US", { maximumFractionDigits: 0 })
    : n.toFixed(n >= 10 ? 1 : 2);
}

function millis(n: number): string {
  return n >= 100
    ? `${n.toFixed(0)} ms`
    : n >= 1
    ? `${n.toFixed(1)} ms`
    : `${(n * 1000).toFixed(0)} µs`;
}

function ratio(n: number | null): string {
  return n === null ? "" : ` (${n.toFixed(2)}×)`;
}

type Metric = (r: LoadResult) => number | null;

const METRICS = {
  msgs: (r: LoadResult) => r.messagesPerSecond,
  mbs: (r: LoadResult) => r.megabytesPerSecond,
  p99: (r: LoadResult) => r.latency.p99,
  cpu: (r: LoadResult) => r.serverCpu?.microsPerMessage ?? null,
} satisfies Record<string, Metric>;

class Results {
  /** [server][workload][round] */
  readonly cells = new Map<ServerKey, Cell[][]>();
  constructor(readonly servers: ServerSpec[], readonly workloads: Workload[]) {
    for (const s of servers) {
      this.cells.set(s.key, workloads.map(() => []));
    }
  }

  add(key: ServerKey, wi: number, cell: Cell): void {
    this.cells.get(key)![wi]!.push(cell);
  }

  values(key: ServerKey, wi: number, metric: Metric): Array<number | null> {
    return (this.cells.get(key)?.[wi] ?? []).map((c) =>
      c.result !== null && c.failure === null ? metric(c.result) : null
    );
  }

  median(key: ServerKey, wi: number, metric: Metric): number | null {
    return median(
      this.values(key, wi, metric).filter((x): x is number => x !== null),
    );
  }

  /** The median over rounds of this server's value over another's (the baseline's). */
  ratio(
    key: ServerKey,
    wi: number,
    metric: Metric,
    base: ServerKey = "c",
  ): number | null {
    if (!this.cells.has(base)) return null;
    const xs = this.values(key, wi, metric);
    const cs = this.values(base, wi, metric);
    const rs: number[] = [];
    for (let i = 0; i < Math.min(xs.length, cs.length); i++) {
      const x = xs[i], c = cs[i];
      if (x != null && c != null && c > 0) rs.push(x / c);
    }
    return median(rs);
  }

  failures(): string[] {
    const out: string[] = [];
    for (const s of this.servers) {
      this.cells.get(s.key)!.forEach((rounds, wi) => {
        rounds.forEach((c, r) => {
          if (c.failure !== null) {
            out.push(
              `${s.name}, ${workloadLabel(this.workloads[wi]!)}, round ${
                r + 1
              }: ${c.failure}`,
            );
          }
        });
      });
    }
    return out;
  }
}

function table(
  res: Results,
  metric: Metric,
  show: (n: number) => string,
  withRatio: boolean,
): string {
  const head = `| payload × conns × pipeline | ${
    res.servers.map((s) => s.name).join(" | ")
  } |`;
  const rule = `|---|${res.servers.map(() => "---:").join("|")}|`;
  const rows = res.workloads.map((w, wi) =>
    `| ${workloadLabel(w)} | ${
      res.servers.map((s) => {
        const m = res.median(s.key, wi, metric);
        if (m === null) return "failed";
        return show(m) +
          (withRatio && s.key !== "c"
            ? ratio(res.ratio(s.key, wi, metric))
            : "");
      }).join(" | ")
    } |`
  );
  return [head, rule, ...rows].join("\n");
}

interface Context {
  settings: Settings;
  machine: string[];
  /** Per server, one figure for each of {@linkcode IDLE_MESSAGES}. */
  memory: Map<ServerKey, Array<Memory | string>>;
  iperf: Iperf;
  startedAt: Date;
  seconds: number;
  pinned: boolean;
  loadBefore: string;
  loadAfter: string;
}

function targets(res: Results, ctx: Context): string[] {
  const out: string[] = [];
  const mark = (ok: boolean | null) =>
    ok === null ? "?" : ok ? "met" : "NOT met";
  /**
   * One target over every cell: `key`'s median ratio to `base` in
   * `metric` (within rounds), against `bound` (a floor, or with `most` a
   * ceiling); the cells that miss it are listed.
   */
  const everyCell = (
    key: ServerKey,
    base: ServerKey,
    metric: Metric,
    bound: number,
    what: string,
    most = false,
    only: (w: Workload) => boolean = () => true,
  ) => {
    if (!res.cells.has(key) || !res.cells.has(base)) return;
    const rows = res.workloads
      .map((w, wi) => ({ w, r: res.ratio(key, wi, metric, base) }))
      .filter(({ w }) => only(w));
    const miss = rows.filter(({ r }) =>
      r === null || (most ? r > bound : r < bound)
    );
    const range = rows.map(({ r }) => r).filter((r): r is number => r !== null);
    out.push(
      `- ${what}: ${mark(miss.length === 0)}${
        range.length > 0
          ? ` (${Math.min(...range).toFixed(2)}–${
            Math.max(...range).toFixed(2)
          }×)`
          : ""
      }${
        miss.length
          ? `; ${most ? "above" : "below"}: ${
            miss.map(({ w, r }) =>
              `${workloadLabel(w)} ${r?.toFixed(2) ?? "?"}×`
            ).join(", ")
          }`
          : ""
      }`,
    );
  };
  everyCell("a", "d", METRICS.msgs, 1.0, "(a) ≥ 1.0× (d) Node `net` in msg/s");
  everyCell("a", "c", METRICS.msgs, 0.95, "(a) ≥ 0.95× (c) in msg/s");
  everyCell(
    "a",
    "c",
    METRICS.cpu,
    1.1,
    "(a) server CPU per message ≤ 1.1× (c)'s",
    true,
  );
  // For scale, not targets: what the floors cost beside (c).
  for (
    const [k, what] of [
      ["i", "(i) the callback floor"],
      ["f", "(f) the for-await floor"],
    ] as const
  ) {
    if (!res.cells.has(k) || !res.cells.has("c")) continue;
    const range = res.workloads.map((_, wi) =>
      res.ratio(k, wi, METRICS.cpu, "c")
    ).filter((r): r is number => r !== null);
    if (range.length === 0) continue;
    out.push(
      `- for scale, ${what}'s server CPU per message: ${
        Math.min(...range).toFixed(2)
      }–${Math.max(...range).toFixed(2)}× (c)'s`,
    );
  }
  everyCell("g", "c", METRICS.msgs, 0.9, "(g) `for await` + `send` ≥ 0.9× (c)");
  everyCell(
    "b",
    "c",
    METRICS.msgs,
    0.8,
    "(b) web streams ≥ 0.8× (c) on 64 B pipelined",
    false,
    (w) => w.size === 64 && w.pipeline === 64,
  );
  for (const k of ["a", "b"] as const) {
    const figures = ctx.memory.get(k);
    if (figures === undefined) continue;
    figures.forEach((m, i) => {
      const per = typeof m === "string" ? null : m.perConnection;
      const marginal = typeof m === "string" ? null : m.marginal;
      out.push(
        `- (${k}) idle memory ≤ 11 KiB per connection (Node's level), after a ${
          sizeLabel(IDLE_MESSAGES[i]!)
        } message: ${mark(per === null ? null : per <= 11)} (${
          per === null ? "?" : per.toFixed(1)
        } KiB${
          marginal === null || typeof m === "string"
            ? ""
            : `; each one from ${m.opened} to ${m.moreOpened}: ${
              marginal.toFixed(1)
            } KiB`
        })`,
      );
    });
  }
  return out;
}

function markdown(res: Results, ctx: Context): string {
  const s = ctx.settings;
  const lines: string[] = [];
  lines.push("# Echo benchmark", "");
  lines.push(
    `${
      ctx.startedAt.toISOString().slice(0, 16).replace("T", " ")
    } UTC, ${s.rounds} interleaved round${
      s.rounds === 1 ? "" : "s"
    }, ${s.duration} s measured per cell after ${s.warmup} s of warm-up; the whole run took ${
      Math.round(ctx.seconds)
    } s.`,
    "",
    `Every server echoes u32 big-endian length-prefixed frames. The load is \`bench/load.ts\` in its own process${
      ctx.pinned ? " (servers pinned to core 0, the load to core 1)" : ""
    }: C connections, each writing P frames in one batch and reading their replies back; every echoed byte is checked. Figures are medians over the rounds; a ratio (×) is the median over the rounds of the server's figure over the hand-written Deno baseline (c)'s in the same round. MB are 10^6 bytes of payload, one direction. Latency is per batch: from writing P frames to the last byte of their replies.`,
    "",
  );
  lines.push("## Messages per second", "");
  lines.push(table(res, METRICS.msgs, rate, true), "");
  lines.push("## Payload MB/s", "");
  lines.push(table(res, METRICS.mbs, mb, true), "");
  lines.push("## p99 latency per batch", "");
  lines.push(table(res, METRICS.p99, millis, true), "");
  lines.push("## Server CPU per message (µs, all threads)", "");
  lines.push(table(res, METRICS.cpu, (n) => n.toFixed(2), true), "");
  const floors: Array<[ServerKey, ServerKey, string]> = [
    [
      "a",
      "i",
      "(i) hands each message as a view to a synchronous callback that copies its reply out, and writes the replies of a read together: the least a per-message callback API costs",
    ],
    [
      "g",
      "f",
      "(f) hands each message out through the cheapest `for await` and `await` per send a library could offer (views the next read overwrites: it gives no message to keep), and copies each reply as an encoder must",
    ],
  ];
  for (const [k, floor, what] of floors) {
    if (!res.cells.has(k) || !res.cells.has(floor)) continue;
    const name = (key: ServerKey) =>
      SERVERS.find((spec) => spec.key === key)!.name;
    lines.push(
      `## ${name(k)} over ${name(floor)}`,
      "",
      `${what}; the rest of what (${k}) costs is netkit's own. Ratios of (${k}) to (${floor}) in the same round, medians over the rounds:`,
      "",
      "| payload × conns × pipeline | msg/s | p99 | CPU per message |",
      "|---|---:|---:|---:|",
      ...res.workloads.map((w, wi) =>
        `| ${workloadLabel(w)} | ${
          [METRICS.msgs, METRICS.p99, METRICS.cpu].map((m) =>
            res.ratio(k, wi, m, floor)?.toFixed(2) ?? "?"
          ).join(" | ")
        } |`
      ),
      "",
    );
  }
  lines.push(...idleMarkdown(res.servers, ctx.memory, s.idle));
  lines.push("## Loopback reference", "");
  lines.push(
    ctx.iperf.megabytesPerSecond === null
      ? `iperf3: ${ctx.iperf.note}`
      : `iperf3: ${mb(ctx.iperf.megabytesPerSecond)} MB/s (${ctx.iperf.note}).`,
    "",
  );
  const t = targets(res, ctx);
  if (t.length > 0) lines.push("## Targets of issue 13", "", ...t, "");
  const failures = res.failures();
  if (failures.length > 0) {
    lines.push("## Failures", "", ...failures.map((f) => `- ${f}`), "");
  }
  lines.push("## Machine", "", ...ctx.machine.map((m) => `- ${m}`));
  lines.push(
    `- load average before: ${ctx.loadBefore}; after: ${ctx.loadAfter}`,
    "",
    "Reproduce: `deno task bench:echo` (" +
      `\`deno run --import-map=offline/import_map.json -A bench/echo_bench.ts${
        s.quick ? " --quick" : ""
      }\`); one cell by hand: \`deno run -N bench/baseline_echo.ts --port 9000\`, then \`deno run -N bench/load.ts --port 9000 --connections 50 --pipeline 64 --size 64 --duration 5\`.`,
    "",
  );
  return lines.join("\n");
}

/** The idle-memory section: one table per message echoed before idling. */
function idleMarkdown(
  servers: readonly ServerSpec[],
  memory: Map<ServerKey, Array<Memory | string>>,
  idle: number,
): string[] {
  const lines = [
    `## Idle memory per connection (${idle} connections)`,
    "",
    "RSS (VmRSS) of a fresh server before and after it holds the idle connections, each of which has echoed one frame (as did one connection closed before the first figure). The first ones also pay for the runtime's heap growing to hold them (V8 enlarges its young generation once objects start to survive), and for what a process keeps however many connections it holds (pools of buffers for reuse); the last column is what each one costs after that: the RSS added by twice as many more, per connection.",
    "",
  ];
  IDLE_MESSAGES.forEach((size, i) => {
    lines.push(
      `### After one ${sizeLabel(size)} message each`,
      "",
      "| server | RSS before | RSS holding them | per connection | each one more |",
      "|---|---:|---:|---:|---:|",
    );
    for (const spec of servers) {
      const m = memory.get(spec.key)?.[i];
      if (m === undefined) continue;
      if (typeof m === "string") {
        lines.push(`| ${spec.name} | failed: ${m} | | | |`);
      } else {
        lines.push(
          `| ${spec.name} | ${(m.before / 1024).toFixed(1)} MiB | ${
            (m.after / 1024).toFixed(1)
          } MiB | ${m.perConnection.toFixed(1)} KiB | ${
            m.marginal === null
              ? "not measured"
              : `${m.marginal.toFixed(1)} KiB (${m.opened} → ${m.moreOpened})`
          } |`,
        );
      }
    }
    lines.push("");
  });
  return lines;
}

/** Every round's figures, for a chart or a table made later. */
function rawResults(res: Results, ctx: Context): unknown {
  const s = ctx.settings;
  return {
    startedAt: ctx.startedAt.toISOString(),
    settings: {
      rounds: s.rounds,
      duration: s.duration,
      warmup: s.warmup,
      idle: s.idle,
      pinned: ctx.pinned,
    },
    machine: ctx.machine,
    loadAverage: { before: ctx.loadBefore, after: ctx.loadAfter },
    iperf3MegabytesPerSecond: ctx.iperf.megabytesPerSecond,
    idleMemory: Object.fromEntries(
      res.servers.map((spec) => [spec.name, ctx.memory.get(spec.key) ?? null]),
    ),
    workloads: res.workloads.map((w, wi) => ({
      ...w,
      servers: Object.fromEntries(res.servers.map((spec) => [
        spec.name,
        res.cells.get(spec.key)![wi]!.map(({ result: r, failure }) =>
          r === null ? { failure } : {
            messagesPerSecond: Math.round(r.messagesPerSecond),
            megabytesPerSecond: Number(r.megabytesPerSecond.toFixed(3)),
            p50Ms: Number(r.latency.p50.toFixed(4)),
            p99Ms: Number(r.latency.p99.toFixed(4)),
            maxMs: Number(r.latency.max.toFixed(4)),
            serverMicrosPerMessage: r.serverCpu
              ? Number(r.serverCpu.microsPerMessage.toFixed(3))
              : null,
            serverCpuPercent: r.serverCpu
              ? Number(r.serverCpu.percent.toFixed(1))
              : null,
            clientCpuPercent: r.clientCpu
              ? Number(r.clientCpu.percent.toFixed(1))
              : null,
            failure,
          }
        ),
      ])),
    })),
  };
}

// ---------------------------------------------------------------------------
// The chart

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function svgChart(res: Results): string {
  const servers = res.servers;
  const n = res.workloads.length;
  const left = 74, right = 16;
  const width = Math.max(900, left + n * (servers.length * 12 + 24) + right);
  const groupW = (width - left - right) / n;
  const barW = Math.min(18, (groupW - 24) / servers.length);
  const plotH = 230;
  const top1 = 84; // the throughput panel
  const top2 = top1 + plotH + 78; // the ratio panel
  const height = top2 + plotH + 70;
  const out: string[] = [];
  const text = (
    x: number,
    y: number,
    s: string,
    attrs = "",
  ) =>
    out.push(
      `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs}>${
        escapeXml(s)
      }</text>`,
    );

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>Echo benchmark: messages per second per server and workload</title>`,
    `<desc>Grouped bars: for each workload (payload × connections × pipeline depth), the messages per second of each echo server on a log scale, and below, each server relative to the hand-written Deno baseline (c).</desc>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  );
  text(
    left,
    24,
    "Length-prefixed echo: messages per second (median of rounds)",
    ` font-size="16" font-weight="bold"`,
  );
  // Legend.
  let lx = left;
  for (const s of servers) {
    out.push(
      `<rect x="${lx}" y="38" width="12" height="12" fill="${s.color}"/>`,
    );
    text(lx + 16, 48.5, s.name);
    lx += 16 + s.name.length * 6.6 + 18;
  }

  const groupX = (wi: number) =>
    left + wi * groupW + (groupW - servers.length * barW) / 2;
  const xLabels = (top: number) => {
    res.workloads.forEach((w, wi) => {
      const cx = groupX(wi) + (servers.length * barW) / 2;
      text(cx, top + plotH + 16, sizeLabel(w.size), ` text-anchor="middle"`);
      text(
        cx,
        top + plotH + 30,
        `${w.connections} conn × ${w.pipeline}`,
        ` text-anchor="middle" fill="#555"`,
      );
    });
    text(
      left + (n * groupW) / 2,
      top + plotH + 50,
      "payload, connections × pipeline depth",
      ` text-anchor="middle" font-style="italic"`,
    );
  };

  // Panel 1: msg/s, log scale.
  const all: number[] = [];
  for (const s of servers) {
    res.workloads.forEach((_, wi) => {
      const m = res.median(s.key, wi, METRICS.msgs);
      if (m !== null && m > 0) all.push(m);
    });
  }
  const lo = Math.floor(Math.log10(Math.max(1, Math.min(...all, 1e3))));
  const hi = Math.ceil(Math.log10(Math.max(...all, 10)));
  const y1 = (v: number) =>
    top1 + plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH;
  text(
    left,
    top1 - 10,
    "messages per second (log scale)",
    ` font-weight="bold"`,
  );
  for (let e = lo; e <= hi; e++) {
    const y = y1(10 ** e);
    out.push(
      `<line x1="${left}" x2="${
        width - right
      }" y1="${y}" y2="${y}" stroke="#ddd"/>`,
    );
    const label = e >= 6
      ? `${10 ** (e - 6)}M`
      : e >= 3
      ? `${10 ** (e - 3)}k`
      : `${10 ** e}`;
    text(left - 6, y + 4, label, ` text-anchor="end"`);
  }
  res.workloads.forEach((_, wi) => {
    servers.forEach((s, si) => {
      const m = res.median(s.key, wi, METRICS.msgs);
      if (m === null || m <= 0) return;
      const x = groupX(wi) + si * barW;
      const y = y1(Math.max(m, 10 ** lo));
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${
          (barW - 2).toFixed(1)
        }" height="${(top1 + plotH - y).toFixed(1)}" fill="${s.color}"><title>${
          escapeXml(`${s.name}: ${rate(m)} msg/s`)
        }</title></rect>`,
      );
    });
  });
  out.push(
    `<line x1="${left}" x2="${left}" y1="${top1}" y2="${
      top1 + plotH
    }" stroke="#333"/>`,
  );
  out.push(
    `<line x1="${left}" x2="${width - right}" y1="${top1 + plotH}" y2="${
      top1 + plotH
    }" stroke="#333"/>`,
  );
  xLabels(top1);

  // Panel 2: ratio to the baseline, linear.
  if (res.cells.has("c")) {
    let maxR = 1.2;
    for (const s of servers) {
      res.workloads.forEach((_, wi) => {
        const r = res.ratio(s.key, wi, METRICS.msgs);
        if (r !== null) maxR = Math.max(maxR, r);
      });
    }
    maxR = Math.min(Math.ceil(maxR * 4) / 4, 4);
    const y2 = (v: number) => top2 + plotH - (Math.min(v, maxR) / maxR) * plotH;
    text(
      left,
      top2 - 10,
      "relative to the hand-written Deno baseline (c) = 1.0 (median of per-round ratios)",
      ` font-weight="bold"`,
    );
    for (let v = 0; v <= maxR + 1e-9; v += maxR > 2 ? 0.5 : 0.25) {
      const y = y2(v);
      out.push(
        `<line x1="${left}" x2="${
          width - right
        }" y1="${y}" y2="${y}" stroke="#eee"/>`,
      );
      text(left - 6, y + 4, `${v.toFixed(2)}×`, ` text-anchor="end"`);
    }
    res.workloads.forEach((_, wi) => {
      servers.forEach((s, si) => {
        const r = res.ratio(s.key, wi, METRICS.msgs);
        if (r === null) return;
        const x = groupX(wi) + si * barW;
        const y = y2(r);
        out.push(
          `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${
            (barW - 2).toFixed(1)
          }" height="${
            (top2 + plotH - y).toFixed(1)
          }" fill="${s.color}"><title>${
            escapeXml(`${s.name}: ${r.toFixed(2)}× (c)`)
          }</title></rect>`,
        );
      });
    });
    out.push(
      `<line x1="${left}" x2="${width - right}" y1="${y2(1)}" y2="${
        y2(1)
      }" stroke="#333" stroke-width="1.5"/>`,
    );
    out.push(
      `<line x1="${left}" x2="${width - right}" y1="${y2(0.9)}" y2="${
        y2(0.9)
      }" stroke="#c00" stroke-dasharray="5,4"/>`,
    );
    out.push(
      `<line x1="${width - right - 160}" x2="${width - right - 134}" y1="${
        top2 - 14
      }" y2="${top2 - 14}" stroke="#c00" stroke-dasharray="5,4"/>`,
    );
    text(
      width - right,
      top2 - 10,
      "0.9×: the target for (a)",
      ` text-anchor="end" fill="#c00"`,
    );
    out.push(
      `<line x1="${left}" x2="${left}" y1="${top2}" y2="${
        top2 + plotH
      }" stroke="#333"/>`,
    );
    out.push(
      `<line x1="${left}" x2="${width - right}" y1="${top2 + plotH}" y2="${
        top2 + plotH
      }" stroke="#333"/>`,
    );
    xLabels(top2);
  }
  out.push("</svg>", "");
  return out.join("\n");
}

// ---------------------------------------------------------------------------
// Main

async function machine(): Promise<string[]> {
  const cpu = (() => {
    try {
      const info = Deno.readTextFileSync("/proc/cpuinfo");
      return info.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown CPU";
    } catch {
      return "unknown CPU";
    }
  })();
  const memory = (() => {
    try {
      const kb = Number(
        Deno.readTextFileSync("/proc/meminfo").match(/MemTotal:\s+(\d+)/)?.[1],
      );
      return `${(kb / 1024 / 1024).toFixed(0)} GiB`;
    } catch {
      return "? GiB";
    }
  })();
  const version = async (cmd: string[]) =>
    (await run(cmd)).stdout.trim().split("\n")[0] || "absent";
  return [
    `${navigator.hardwareConcurrency} × ${cpu}, ${memory}, Linux ${Deno.osRelease()}`,
    `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), Node ${await version([
      "node",
      "--version",
    ])}, ${await version([python, "--version"])}, ${await version([
      "iperf3",
      "--version",
    ])}`,
  ];
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(
      " ",
    );
  } catch {
    return "?";
  }
}

async function main(argv: string[]): Promise<number> {
  let s: Settings | null;
  try {
    s = parse(argv);
  } catch (err) {
    console.error(`echo_bench: ${(err as Error).message}`);
    return 2;
  }
  if (s === null) {
    console.log(HELP);
    return 0;
  }
  const startedAt = new Date();
  const t0 = performance.now();
  const loadBefore = loadAverage();

  // Resolve the real Python so its PID is the process we measure.
  const py = await run(["python3", "-c", "import sys; print(sys.executable)"]);
  if (py.code === 0 && py.stdout.trim()) python = py.stdout.trim();

  const { pinned, serverPin, clientPin } = await pinCores(s.pin);

  const limit = Number((await run(["sh", "-c", "ulimit -n"])).stdout.trim());
  if (Number.isFinite(limit) && limit < s.idle + 200) {
    const idle = Math.max(1, limit - 200);
    console.error(
      `ulimit -n is ${limit}: holding ${idle} idle connections instead of ${s.idle} (raise it with ulimit -n ${
        s.idle + 1000
      })`,
    );
    s.idle = idle;
  }
  // The marginal figure holds three times as many (when the limit allows).
  const more = !Number.isFinite(limit) || limit >= 3 * s.idle + 200
    ? 2 * s.idle
    : 0;

  const workloads = s.quick ? QUICK_WORKLOADS : FULL_WORKLOADS;
  const res = new Results(s.servers, workloads);

  // 1. Idle memory, on fresh servers.
  const memory = new Map<ServerKey, Array<Memory | string>>();
  for (const spec of s.servers) {
    const figures: Array<Memory | string> = [];
    for (const size of IDLE_MESSAGES) {
      console.error(
        `idle memory: ${spec.name}, ${s.idle} connections, ${
          sizeLabel(size)
        } each`,
      );
      try {
        figures.push(
          await idleMemory(spec, s.idle, more, serverPin, size),
        );
      } catch (err) {
        figures.push((err as Error).message.split("\n")[0]!);
      }
    }
    memory.set(spec.key, figures);
  }
  if (s.idleOnly) {
    console.log(idleMarkdown(s.servers, memory, s.idle).join("\n"));
    return 0;
  }

  // 2. Throughput, in interleaved rounds.
  const running: ServerProcess[] = [];
  const bounds = [
    "--duration",
    String(s.duration),
    "--warmup",
    String(s.warmup),
    "--timeout",
    String(Math.max(60, (s.duration + s.warmup) * 20)),
  ];
  const total = s.rounds * workloads.length * s.servers.length;
  let done = 0;
  let current = "";
  const bar = Deno.stderr.isTerminal()
    ? new ProgressBar({
      max: total,
      formatter: (formatter: ProgressBarFormatter) =>
        `[${formatter.styledTime}] [${formatter.progressBar}] ${done}/${total} ${current}`,
    })
    : undefined;
  try {
    for (const spec of s.servers) {
      running.push(await ServerProcess.start(spec, serverPin));
    }
    for (let round = 0; round < s.rounds; round++) {
      for (let wi = 0; wi < workloads.length; wi++) {
        const w = workloads[wi]!;
        // Rotate the order each round so no server always runs first.
        const order = running.map((_, i) =>
          running[(i + round + wi) % running.length]!
        );
        for (const server of order) {
          current = `round ${round + 1}: ${
            workloadLabel(w)
          }: ${server.spec.name}`;
          const cell = await runLoadChild(server, w, bounds, clientPin);
          res.add(server.spec.key, wi, cell);
          done++;
          if (bar) bar.value = done;
          else {
            console.error(
              `${current}: ${
                cell.result && !cell.failure
                  ? `${rate(cell.result.messagesPerSecond)} msg/s`
                  : `failed: ${cell.failure}`
              }`,
            );
          }
        }
      }
    }
  } finally {
    await bar?.stop();
    for (const server of running) await server.stop();
  }

  // 3. The loopback reference.
  let iperfResult: Iperf = { megabytesPerSecond: null, note: "skipped" };
  if (s.iperfSeconds > 0) {
    console.error(`iperf3: ${s.iperfSeconds} s`);
    iperfResult = await iperf(s.iperfSeconds, serverPin, clientPin);
  }

  const ctx: Context = {
    settings: s,
    machine: await machine(),
    memory,
    iperf: iperfResult,
    startedAt,
    seconds: (performance.now() - t0) / 1000,
    pinned,
    loadBefore,
    loadAfter: loadAverage(),
  };
  const md = markdown(res, ctx);
  await Deno.mkdir(s.out, { recursive: true });
  await Deno.writeTextFile(`${s.out}/echo.md`, md);
  await Deno.writeTextFile(`${s.out}/echo.svg`, svgChart(res));
  await Deno.writeTextFile(
    `${s.out}/echo.json`,
    JSON.stringify(rawResults(res, ctx), null, 1) + "\n",
  );
  console.log(md);
  console.error(`wrote ${s.out}/echo.md, echo.svg and echo.json`);
  return res.failures().length > 0 ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
