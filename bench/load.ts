// Copyright 2026 the netkit authors. MIT license.

/**
 * A load tool for echo servers: C connections, P messages in flight on each,
 * S-byte payloads in one of three framings, for N messages or D seconds.
 * Every echoed byte is checked against what was sent.
 *
 * ```sh
 * deno run -N bench/load.ts --port 8888 --connections 50 --pipeline 64 --size 64 --duration 5
 * deno run -N bench/load.ts --port 8888 --framing lines --messages 100000 --json
 * ```
 *
 * It speaks through plain `Deno.connect` and `conn.read`/`conn.write`, not
 * netkit, so that it measures the server and costs as little as it can per
 * message. Each connection works in batches: P frames pre-encoded in one
 * buffer go out in one write; the replies are read into a second buffer of
 * the same size and compared with the first, word by word. An echo of any
 * framing (length, lines or raw) is the very bytes that were sent, so the
 * comparison checks every payload byte, header and delimiter. The first 8
 * bytes of each payload hold a counter that changes with every message, and
 * the fill differs per connection and per slot in the batch, so a lost,
 * repeated, stale or reordered frame is a mismatch.
 *
 * Latency is measured per batch: from the write of P frames to the arrival
 * of the last byte of their replies (per message when `--pipeline 1`).
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import {
  ProgressBar,
  type ProgressBarFormatter,
} from "@std/cli/unstable-progress-bar";
import process from "node:process";

/** How frames are delimited on the wire. */
export type Framing = "length" | "lines" | "raw";

/** Options of {@linkcode runLoad}. */
export interface LoadOptions {
  /**
   * The server's address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The server's port. */
  port: number;
  /**
   * How many connections to open.
   *
   * @default {1}
   */
  connections?: number;
  /**
   * Messages in flight on each connection (the batch size).
   *
   * @default {1}
   */
  pipeline?: number;
  /**
   * Payload bytes per message (without header or delimiter).
   *
   * @default {64}
   */
  size?: number;
  /**
   * `length`: a u32 big-endian length, then the payload; `lines`: printable
   * payload, then LF; `raw`: payloads back to back, no framing.
   *
   * @default {"length"}
   */
  framing?: Framing;
  /**
   * Stop after this many messages, counted after the warm-up (with a
   * warm-up, the batches in flight when it ends count too: up to
   * `connections × pipeline` more).
   *
   * @default {100000, when no duration is given}
   */
  messages?: number;
  /**
   * Stop after this many seconds (after the warm-up).
   *
   * @default {undefined}
   */
  duration?: number;
  /**
   * Seconds of load before measuring starts (not counted).
   *
   * @default {0}
   */
  warmup?: number;
  /**
   * A hard bound in seconds on the whole run: past it every connection is
   * closed and the run ends with errors.
   *
   * @default {60, or warmup + duration + 30}
   */
  timeout?: number;
  /**
   * The server's process id, to report its CPU time over the measured
   * interval (read from `/proc/PID/stat`, which Deno lets only
   * `--allow-all` read).
   *
   * @default {undefined}
   */
  serverPid?: number;
  /**
   * Called about every 200 ms with the messages done and the seconds
   * measured so far.
   *
   * @default {undefined}
   */
  onProgress?: (messages: number, seconds: number) => void;
}

/** CPU time of one process over the measured interval. */
export interface CpuUsage {
  /** Seconds of CPU (user + system, all threads). */
  seconds: number;
  /** `seconds` over the wall time, in percent of one core. */
  percent: number;
  /** CPU microseconds per echoed message. */
  microsPerMessage: number;
}

/** Latency percentiles, in milliseconds. */
export interface LatencySummary {
  /** What one sample times: `"batch"` (P frames, write to last reply byte). */
  unit: "batch";
  /** How many batches were timed. */
  count: number;
  /** Median. */
  p50: number;
  /** 99th percentile. */
  p99: number;
  /** Largest. */
  max: number;
  /** Mean. */
  mean: number;
}

/** What {@linkcode runLoad} measured. */
export interface LoadResult {
  /** The server's address. */
  hostname: string;
  /** The server's port. */
  port: number;
  /** The framing used. */
  framing: Framing;
  /** Connections opened. */
  connections: number;
  /** Messages in flight per connection. */
  pipeline: number;
  /** Payload bytes per message. */
  size: number;
  /** Messages echoed and verified in the measured interval. */
  messages: number;
  /** Payload bytes echoed in the measured interval (one direction). */
  bytes: number;
  /** Wire bytes compared with what was sent, over the whole run. */
  verifiedBytes: number;
  /** Messages verified over the whole run, warm-up included. */
  verifiedMessages: number;
  /** The measured interval, in seconds. */
  seconds: number;
  /** Messages per second. */
  messagesPerSecond: number;
  /** Payload megabytes (10^6 bytes) per second, one direction. */
  megabytesPerSecond: number;
  /** Latency per batch. */
  latency: LatencySummary;
  /** Connections that failed (mismatch, reset, early EOF, timeout). */
  errors: number;
  /** Batches whose echo differed from what was sent. */
  mismatches: number;
  /** The first few error messages. */
  errorMessages: string[];
  /** The server's CPU time, when `serverPid` was given and readable. */
  serverCpu: CpuUsage | null;
  /** This process's CPU time. */
  clientCpu: CpuUsage | null;
}

const FRAMINGS: readonly Framing[] = ["length", "lines", "raw"];
const MAX_SAMPLES = 1 << 20;
const MAX_ERROR_MESSAGES = 5;
/** Batches up to this size are written before their replies are read. */
const SEQUENTIAL_BATCH = 65536;
/** Linux's USER_HZ: the unit of utime and stime in /proc/PID/stat. */
const CLOCK_TICKS = 100;
/** Printable digits for the counter of `lines` payloads (no LF, no CR). */
const DIGITS = new TextEncoder().encode(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
);

class Samples {
  #data = new Float64Array(4096);
  #len = 0;
  #seen = 0;

  add(x: number): void {
    this.#seen++;
    if (this.#len < MAX_SAMPLES) {
      if (this.#len === this.#data.length) {
        const next = new Float64Array(this.#data.length * 2);
        next.set(this.#data);
        this.#data = next;
      }
      this.#data[this.#len++] = x;
    } else {
      // Reservoir sampling keeps a uniform sample of every batch.
      const i = Math.floor(Math.random() * this.#seen);
      if (i < MAX_SAMPLES) this.#data[i] = x;
    }
  }

  summary(): LatencySummary {
    const n = this.#len;
    if (n === 0) {
      return { unit: "batch", count: 0, p50: 0, p99: 0, max: 0, mean: 0 };
    }
    const sorted = this.#data.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * n) - 1)]!;
    return {
      unit: "batch",
      count: this.#seen,
      p50: rank(0.5),
      p99: rank(0.99),
      max: sorted[n - 1]!,
      mean: sum / n,
    };
  }
}

function canRead(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state ===
      "granted";
  } catch {
    return false;
  }
}

/**
 * Seconds of CPU a process has used (user + system, every thread), or
 * `null` where it cannot be read. Another process's time comes from
 * `/proc/PID/stat`, which Deno lets only `--allow-all` read.
 */
export function cpuSeconds(pid: number | "self"): number | null {
  if (pid === "self") {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
  const path = `/proc/${pid}/stat`;
  if (!canRead(path)) return null;
  try {
    const stat = Deno.readTextFileSync(path);
    // The command name may hold spaces: fields are counted after its ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return (utime + stime) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

function usage(
  before: number | null,
  after: number | null,
  wall: number,
  messages: number,
): CpuUsage | null {
  if (before === null || after === null || wall <= 0) return null;
  const seconds = after - before;
  return {
    seconds,
    percent: (seconds / wall) * 100,
    microsPerMessage: messages > 0 ? (seconds * 1e6) / messages : 0,
  };
}

/** Bytes a frame of `size` payload bytes takes on the wire. */
export function frameLength(framing: Framing, size: number): number {
  return framing === "length"
    ? size + 4
    : framing === "lines"
    ? size + 1
    : size;
}

/**
 * Writes P frames into `buf` with the fill pattern of connection `id`;
 * the counters are set per batch by {@linkcode stampCounters}.
 */
function fillBatch(
  buf: Uint8Array,
  framing: Framing,
  size: number,
  pipeline: number,
  id: number,
): void {
  const frame = frameLength(framing, size);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let slot = 0; slot < pipeline; slot++) {
    const at = slot * frame;
    const payload = framing === "length" ? at + 4 : at;
    if (framing === "length") view.setUint32(at, size);
    for (let j = 0; j < size; j++) {
      const k = (j * 31 + slot * 17 + id * 7) & 0xff;
      buf[payload + j] = framing === "lines" ? DIGITS[k & 63]! : k;
    }
    if (framing === "lines") buf[payload + size] = 0x0a;
  }
}

/** Puts the counters `first`, `first + 1`, … into the first `count` frames. */
function stampCounters(
  buf: Uint8Array,
  framing: Framing,
  size: number,
  count: number,
  first: number,
): void {
  const frame = frameLength(framing, size);
  const width = Math.min(size, 8);
  const printable = framing === "lines";
  const base = printable ? 64 : 256;
  let at = framing === "length" ? 4 : 0;
  for (let slot = 0; slot < count; slot++, at += frame) {
    let k = first + slot;
    for (let j = width - 1; j >= 0; j--) {
      const d = k % base;
      buf[at + j] = printable ? DIGITS[d]! : d;
      k = (k - d) / base;
    }
  }
}

/** Index of the first byte where `a` and `b` differ in `[0, len)`, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array, len: number): number {
  // Both buffers start at offset 0 of their own ArrayBuffer, whose size is
  // a multiple of 8: compare 32-bit words, then the tail.
  const words = len >>> 2;
  const wa = new Int32Array(a.buffer, 0, words);
  const wb = new Int32Array(b.buffer, 0, words);
  let i = 0;
  for (; i < words; i++) {
    if (wa[i] !== wb[i]) break;
  }
  for (let j = i * 4; j < len; j++) {
    if (a[j] !== b[j]) return j;
  }
  return -1;
}

function alignedBuffer(len: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(Math.ceil(len / 8) * 8), 0, len);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
  }
}

function checkInteger(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot run load: ${name} must be an integer of at least ${min}, received ${value}`,
    );
  }
  return value;
}

/**
 * Runs the load against an echo server and returns what it measured. Never
 * throws for a failing server: failures are counted in `errors` (and
 * `mismatches`) and described in `errorMessages`.
 *
 * @param options The server, the load's shape and its bounds.
 * @returns Throughput, latency, errors and CPU use.
 * @throws {RangeError} An option is out of range.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = checkInteger(options.port, "port", 1);
  const connections = checkInteger(options.connections ?? 1, "connections", 1);
  const pipeline = checkInteger(options.pipeline ?? 1, "pipeline", 1);
  const size = checkInteger(options.size ?? 64, "size", 1);
  const framing = options.framing ?? "length";
  if (!FRAMINGS.includes(framing)) {
    throw new RangeError(
      `Cannot run load: framing must be one of ${
        FRAMINGS.join(", ")
      }, received "${framing}"`,
    );
  }
  if (framing === "length" && size > 0xffffffff) {
    throw new RangeError(`Cannot run load: size ${size} exceeds a u32 length`);
  }
  const duration = options.duration;
  if (duration !== undefined && !(duration > 0)) {
    throw new RangeError(
      `Cannot run load: duration must be positive, received ${duration}`,
    );
  }
  const budget = options.messages ??
    (duration === undefined ? 100_000 : Infinity);
  if (budget !== Infinity) checkInteger(budget, "messages", 1);
  const warmup = options.warmup ?? 0;
  if (!(warmup >= 0)) {
    throw new RangeError(
      `Cannot run load: warmup must be non-negative, received ${warmup}`,
    );
  }
  const timeout = options.timeout ??
    Math.max(60, warmup + (duration ?? 0) + 30);
  const frame = frameLength(framing, size);

  const samples = new Samples();
  const errorMessages: string[] = [];
  let errors = 0;
  let mismatches = 0;
  let remaining = budget;
  let measured = 0;
  let verifiedBytes = 0;
  let verifiedMessages = 0;
  let stopped = false;

  // The measured window: from the end of the warm-up for `duration`
  // seconds (or until the message budget is spent). A batch counts when it
  // completes inside the window, so the batches in flight at either edge
  // even out.
  let measuring = false;
  let windowClosed = false;
  let t0 = 0;
  let t1 = 0;
  let lastDone = 0;
  let serverCpu0: number | null = null;
  let serverCpu1: number | null = null;
  let clientCpu0: number | null = null;
  let clientCpu1: number | null = null;
  let warmupTimer: ReturnType<typeof setTimeout> | undefined;
  let windowTimer: ReturnType<typeof setTimeout> | undefined;
  const serverCpu = () =>
    options.serverPid === undefined ? null : cpuSeconds(options.serverPid);
  const closeWindow = (at: number): void => {
    if (windowClosed) return;
    windowClosed = true;
    t1 = at;
    serverCpu1 = serverCpu();
    clientCpu1 = cpuSeconds("self");
  };
  const openWindow = (): void => {
    measuring = true;
    t0 = lastDone = performance.now();
    serverCpu0 = serverCpu();
    clientCpu0 = cpuSeconds("self");
    if (duration !== undefined) {
      windowTimer = setTimeout(
        () => closeWindow(performance.now()),
        duration * 1000,
      );
    }
  };

  const fail = (message: string): void => {
    errors++;
    if (errorMessages.length < MAX_ERROR_MESSAGES) errorMessages.push(message);
  };

  const conns: Deno.TcpConn[] = [];
  const hardStop = setTimeout(() => {
    stopped = true;
    fail(`Run exceeded its time bound of ${timeout} s`);
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // Closed already.
      }
    }
  }, timeout * 1000);

  const progressTimer = options.onProgress
    ? setInterval(() => {
      const seconds = measuring
        ? ((windowClosed ? t1 : performance.now()) - t0) / 1000
        : 0;
      options.onProgress!(measured, seconds);
    }, 200)
    : undefined;

  const worker = async (conn: Deno.TcpConn, id: number): Promise<void> => {
    const batchBytes = frame * pipeline;
    const sent = alignedBuffer(batchBytes);
    const recv = alignedBuffer(batchBytes);
    fillBatch(sent, framing, size, pipeline, id);
    // Counters: a connection's own range, so no two messages in a run share one.
    let counter = id * 2 ** 32;
    for (;;) {
      if (stopped || windowClosed) return;
      let count = pipeline;
      if (measuring && budget !== Infinity) {
        if (remaining <= 0) return;
        count = Math.min(pipeline, remaining);
        remaining -= count;
      }
      const len = count * frame;
      stampCounters(sent, framing, size, count, counter);
      counter += count;
      const out = len === sent.length ? sent : sent.subarray(0, len);
      const batchStart = performance.now();
      let writing: Promise<void> | null = null;
      if (len <= SEQUENTIAL_BATCH) await writeAll(conn, out);
      else writing = writeAll(conn, out);
      let got = 0;
      while (got < len) {
        const n = await conn.read(
          got === 0 && len === recv.length ? recv : recv.subarray(got, len),
        );
        if (n === null) {
          throw new Error(
            `Connection ${id}: server closed after ${got} of ${len} reply bytes`,
          );
        }
        got += n;
      }
      if (writing !== null) await writing;
      const now = performance.now();
      const at = firstDifference(sent, recv, len);
      if (at >= 0) {
        mismatches++;
        const slot = Math.floor(at / frame);
        throw new Error(
          `Connection ${id}: echo differs from what was sent in message ${
            counter - count + slot - id * 2 ** 32
          }, byte ${at % frame} of its frame (sent ${sent[at]}, received ${
            recv[at]
          })`,
        );
      }
      verifiedBytes += len;
      verifiedMessages += count;
      if (measuring && !windowClosed) {
        measured += count;
        samples.add(now - batchStart);
        lastDone = now;
      }
    }
  };

  try {
    const opened = await Promise.allSettled(
      Array.from({ length: connections }, async () => {
        const conn = await Deno.connect({ hostname, port });
        conns.push(conn);
        conn.setNoDelay(true);
        return conn;
      }),
    );
    const failed = opened.find((r): r is PromiseRejectedResult =>
      r.status === "rejected"
    );
    if (failed !== undefined) {
      const reason = failed.reason;
      fail(
        `Cannot connect to ${hostname}:${port}: ${
          reason instanceof Error ? reason.message : String(reason)
        }`,
      );
    } else {
      if (warmup > 0) warmupTimer = setTimeout(openWindow, warmup * 1000);
      else openWindow();
      await Promise.all(conns.map(async (conn, id) => {
        try {
          await worker(conn, id);
        } catch (err) {
          if (!stopped || errors === 0) {
            fail(err instanceof Error ? err.message : String(err));
          }
          stopped = true;
        }
      }));
    }
  } finally {
    clearTimeout(hardStop);
    clearTimeout(warmupTimer);
    clearTimeout(windowTimer);
    if (progressTimer !== undefined) clearInterval(progressTimer);
    // The budget was spent (or the run failed) before the window's end.
    if (measuring) closeWindow(lastDone);
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // Closed already.
      }
    }
  }

  const seconds = measuring ? Math.max(0, (t1 - t0) / 1000) : 0;
  const bytes = measured * size;
  return {
    hostname,
    port,
    framing,
    connections,
    pipeline,
    size,
    messages: measured,
    bytes,
    verifiedBytes,
    verifiedMessages,
    seconds,
    messagesPerSecond: seconds > 0 ? measured / seconds : 0,
    megabytesPerSecond: seconds > 0 ? bytes / seconds / 1e6 : 0,
    latency: samples.summary(),
    errors,
    mismatches,
    errorMessages,
    serverCpu: usage(serverCpu0, serverCpu1, seconds, measured),
    clientCpu: usage(clientCpu0, clientCpu1, seconds, measured),
  };
}

// ---------------------------------------------------------------------------
// Command line

const HELP = `Usage: deno run -N bench/load.ts --port PORT [options]

Drives an echo server and checks every echoed byte.

  --host HOST          server address (127.0.0.1)
  --port PORT          server port (required)
  --connections C      connections (1)
  --pipeline P         messages in flight per connection, sent as one batch (1)
  --size S             payload bytes per message (64)
  --framing F          length (u32 big-endian prefix) | lines (LF) | raw (length)
  --messages N         total messages to echo (100000 unless --duration)
  --duration SECONDS   run this long instead (or stop at whichever comes first)
  --warmup SECONDS     load before measuring, not counted (0)
  --timeout SECONDS    hard bound on the whole run (60, or more for long runs)
  --server-pid PID     report the server's CPU time (needs -A to read /proc)
  --json               print the result as JSON on stdout
  --no-progress        no progress bar (it is drawn on stderr when it is a terminal)
  --help               this text

Latency is per batch: from writing P frames to the last byte of their
replies. MB are 10^6 bytes of payload, counted once (one direction).
Exits 1 when a connection failed or an echo differed from what was sent.
`;

function parseNumber(
  value: unknown,
  flag: string,
  min: number,
  integer: boolean,
): number {
  const n = Number(value);
  if (
    value === undefined || value === "" || Number.isNaN(n) || n < min ||
    (integer && !Number.isInteger(n))
  ) {
    throw new RangeError(
      `--${flag} must be ${
        integer ? "an integer" : "a number"
      } of at least ${min}, received "${value}"`,
    );
  }
  return n;
}

function group(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function si(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

function ms(n: number): string {
  return n < 1 ? `${(n * 1000).toFixed(0)} µs` : `${n.toFixed(2)} ms`;
}

/** Formats a result as a few lines for a person. */
export function formatResult(r: LoadResult): string {
  const batch = r.pipeline === 1
    ? "per message"
    : `per batch of ${r.pipeline} pipelined messages, write to last reply byte`;
  const lines = [
    `${r.hostname}:${r.port}  ${r.connections} connection${
      r.connections === 1 ? "" : "s"
    } × pipeline ${r.pipeline}, ${
      group(r.size)
    } B payloads, ${r.framing} framing`,
    `  messages    ${group(r.messages)} in ${r.seconds.toFixed(2)} s (${
      group(r.verifiedMessages)
    } echoed and verified in all, ${group(r.verifiedBytes)} wire bytes)`,
    `  throughput  ${group(r.messagesPerSecond)} msg/s, ${
      group(r.megabytesPerSecond, 1)
    } MB/s of payload`,
    `  latency     p50 ${ms(r.latency.p50)}, p99 ${ms(r.latency.p99)}, max ${
      ms(r.latency.max)
    } (${batch})`,
  ];
  if (r.serverCpu) {
    lines.push(
      `  server CPU  ${r.serverCpu.percent.toFixed(0)}% of a core, ${
        r.serverCpu.microsPerMessage.toFixed(2)
      } µs per message`,
    );
  }
  if (r.clientCpu) {
    lines.push(
      `  client CPU  ${r.clientCpu.percent.toFixed(0)}% of a core, ${
        r.clientCpu.microsPerMessage.toFixed(2)
      } µs per message`,
    );
  }
  lines.push(
    `  errors      ${r.errors}${
      r.mismatches ? ` (${r.mismatches} mismatched echoes)` : ""
    }`,
  );
  for (const m of r.errorMessages) lines.push(`    ${m}`);
  return lines.join("\n");
}

/**
 * Runs the command line: parses flags, runs the load with a progress bar,
 * prints the result.
 *
 * @param argv The arguments.
 * @returns The exit code: 0 when every echo matched, 1 on a failure, 2 on
 * a usage error.
 */
export async function main(argv: string[]): Promise<number> {
  let options: LoadOptions;
  let json: boolean;
  let progress: boolean;
  try {
    const args = parseArgs(argv, {
      string: [
        "host",
        "port",
        "connections",
        "pipeline",
        "size",
        "framing",
        "messages",
        "duration",
        "warmup",
        "timeout",
        "server-pid",
      ],
      boolean: ["json", "help", "progress"],
      negatable: ["progress"],
      default: {
        host: "127.0.0.1",
        connections: "1",
        pipeline: "1",
        size: "64",
        framing: "length",
        warmup: "0",
        progress: Deno.stderr.isTerminal(),
      },
      unknown: (arg: string) => {
        throw new RangeError(`Unknown option "${arg}" (see --help)`);
      },
    });
    if (args.help) {
      console.log(HELP);
      return 0;
    }
    if (args.port === undefined) throw new RangeError("--port is required");
    const framing = String(args.framing) as Framing;
    if (!FRAMINGS.includes(framing)) {
      throw new RangeError(
        `--framing must be one of ${
          FRAMINGS.join(", ")
        }, received "${framing}"`,
      );
    }
    options = {
      hostname: String(args.host),
      port: parseNumber(args.port, "port", 1, true),
      connections: parseNumber(args.connections, "connections", 1, true),
      pipeline: parseNumber(args.pipeline, "pipeline", 1, true),
      size: parseNumber(args.size, "size", 1, true),
      framing,
      warmup: parseNumber(args.warmup, "warmup", 0, false),
    };
    if (args.messages !== undefined) {
      options.messages = parseNumber(args.messages, "messages", 1, true);
    }
    if (args.duration !== undefined) {
      options.duration = parseNumber(args.duration, "duration", 0.001, false);
    }
    if (args.timeout !== undefined) {
      options.timeout = parseNumber(args.timeout, "timeout", 0.001, false);
    }
    if (args["server-pid"] !== undefined) {
      options.serverPid = parseNumber(
        args["server-pid"],
        "server-pid",
        1,
        true,
      );
    }
    json = Boolean(args.json);
    progress = Boolean(args.progress);
  } catch (err) {
    console.error(`load: ${(err as Error).message}`);
    return 2;
  }

  let bar: ProgressBar | undefined;
  if (progress) {
    const byTime = options.messages === undefined;
    const max = byTime ? options.duration! : options.messages!;
    let done = 0;
    let rate = 0;
    bar = new ProgressBar({
      max,
      interval: 200,
      formatter: (formatter: ProgressBarFormatter) =>
        `[${formatter.styledTime}] [${formatter.progressBar}] ${
          group(done)
        } messages, ${si(rate)} msg/s`,
    });
    options.onProgress = (messages, seconds) => {
      done = messages;
      rate = seconds > 0 ? messages / seconds : 0;
      bar!.value = byTime ? seconds : messages;
    };
  }
  let result: LoadResult;
  try {
    result = await runLoad(options);
  } finally {
    await bar?.stop();
  }
  if (json) console.log(JSON.stringify(result));
  else console.log(formatResult(result));
  return result.errors > 0 || result.mismatches > 0 ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
