// Copyright 2026 the netkit authors. MIT license.

/**
 * One machine's cores: N worker processes share one port with
 * `SO_REUSEPORT` (`serve({ reusePort: true })`, Linux), and the kernel
 * spreads new connections between them. Each worker is a line echo that
 * says who answered:
 *
 * ```sh
 * deno run --allow-run examples/cluster.ts --workers 4 --port 8888
 * # listening on 127.0.0.1:8888 (4 workers)
 * socat - TCP:127.0.0.1:8888         # "hello" → "worker 3: hello"
 * ```
 *
 * The parent process picks nothing itself: worker 1 binds `--port` (`0`
 * for any free port) and reports the port, then workers 2…N join it. The
 * workers run as `deno run --unstable-net -N examples/cluster.ts --worker`
 * (`reusePort` is unstable in Deno 2.x). SIGINT and SIGTERM to the parent
 * are passed on to every worker, which shuts down gracefully (stops
 * accepting, lets its connections finish); the parent exits 0 when every
 * worker did. A worker that dies on its own takes the others down, and
 * the parent exits 1, for a process manager (systemd, a container
 * runtime) to restart.
 *
 * Past one machine, put the workers behind an L4 load balancer with the
 * PROXY protocol (see "Running behind a load balancer" in the README).
 * The library does not build its own cluster layer.
 *
 * @module
 */

import { formatAddr, lines, serve, text } from "../mod.ts";
import { integer, runMain, serveUntilSignal, UsageError } from "./_cli.ts";

const HELP = `Usage: deno run --allow-run examples/cluster.ts [options]

  --workers N            worker processes (the number of CPUs)
  --hostname HOST        address to listen on (127.0.0.1)
  --port PORT            TCP port; 0 picks a free one (8888)
  --shutdown-timeout MS  how long connections get to finish (10000)
  --help                 this text
`;

interface Settings {
  workers: number;
  hostname: string;
  port: number;
  shutdownTimeout: number;
  /** Set in a worker process: its number, from 1. */
  worker: number | null;
}

/** Parses `--flag value` and `--flag=value` pairs; `null` for `--help`. */
function parse(argv: string[]): Settings | null {
  const settings: Settings = {
    workers: navigator.hardwareConcurrency || 1,
    hostname: "127.0.0.1",
    port: 8888,
    shutdownTimeout: 10_000,
    worker: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help") return null;
    const eq = arg.indexOf("=");
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = () => eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    switch (flag) {
      case "--workers":
        settings.workers = integer(value(), "workers", 1);
        break;
      case "--hostname":
        settings.hostname = value() ?? "";
        break;
      case "--port":
        settings.port = integer(value(), "port", 0);
        break;
      case "--shutdown-timeout":
        settings.shutdownTimeout = integer(value(), "shutdown-timeout", 0);
        break;
      case "--worker":
        settings.worker = integer(value(), "worker", 1);
        break;
      default:
        throw new UsageError(`unknown option "${arg}" (see --help)`);
    }
  }
  return settings;
}

// ---------------------------------------------------------------------------
// Worker

async function runWorker(s: Settings, id: number): Promise<number> {
  const server = serve({
    hostname: s.hostname,
    port: s.port,
    reusePort: true,
    codec: text(lines()),
    shutdownTimeout: s.shutdownTimeout,
  }, (conn) => conn.forEach((line) => conn.write(`worker ${id}: ${line}`)));
  // The parent reads this line to learn the port.
  console.log(
    `worker ${id} (pid ${Deno.pid}) listening on ${formatAddr(server.addr)}`,
  );
  await serveUntilSignal(server);
  console.error(
    `worker ${id} stopped after ${server.stats.accepted} connections`,
  );
  return 0;
}

// ---------------------------------------------------------------------------
// Parent

interface Worker {
  id: number;
  process: Deno.ChildProcess;
  /** Resolves with the port from the worker's first line. */
  listening: Promise<number>;
  /** Resolves when its stdout has been passed on to ours. */
  output: Promise<void>;
}

function spawnWorker(s: Settings, id: number, port: number): Worker {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "-N",
      import.meta.url,
      "--worker",
      String(id),
      "--hostname",
      s.hostname,
      "--port",
      String(port),
      "--shutdown-timeout",
      String(s.shutdownTimeout),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const listening = Promise.withResolvers<number>();
  const output = (async () => {
    const encoder = new TextEncoder();
    let pending = "";
    let first = true;
    for await (
      const chunk of process.stdout.pipeThrough(new TextDecoderStream())
    ) {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (first) {
          first = false;
          const m = line.match(/listening on .*:(\d+)$/);
          if (m) listening.resolve(Number(m[1]));
          else listening.reject(new Error(`worker ${id} said: ${line}`));
          continue;
        }
        await Deno.stdout.write(encoder.encode(line + "\n"));
      }
    }
    listening.reject(new Error(`worker ${id} exited before listening`));
  })();
  listening.promise.catch(() => {});
  return { id, process, listening: listening.promise, output };
}

async function runParent(s: Settings): Promise<number> {
  const workers: Worker[] = [];
  let stopping = false;
  const stopAll = () => {
    stopping = true;
    for (const w of workers) {
      try {
        w.process.kill("SIGTERM");
      } catch {
        // Exited already.
      }
    }
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const sig of signals) Deno.addSignalListener(sig, stopAll);
  try {
    // Worker 1 binds the port (a free one for --port 0); the rest join it.
    const first = spawnWorker(s, 1, s.port);
    workers.push(first);
    let port: number;
    try {
      port = await first.listening;
    } catch (err) {
      console.error(`cluster: ${(err as Error).message}`);
      stopAll();
      await first.process.status;
      await first.output;
      return 1;
    }
    for (let id = 2; id <= s.workers && !stopping; id++) {
      workers.push(spawnWorker(s, id, port));
    }
    const started = await Promise.allSettled(workers.map((w) => w.listening));
    if (started.some((r) => r.status === "rejected")) {
      console.error("cluster: a worker could not start");
      stopAll();
    } else if (!stopping) {
      const addr = { transport: "tcp" as const, hostname: s.hostname, port };
      console.log(`listening on ${formatAddr(addr)} (${s.workers} workers)`);
    }
    // The first worker to exit while the cluster runs takes it down.
    let failed = false;
    await Promise.all(workers.map(async (w) => {
      const status = await w.process.status;
      await w.output;
      console.error(
        `worker ${w.id} (pid ${w.process.pid}) exited with code ${status.code}`,
      );
      if (!status.success) failed = true;
      if (!stopping) {
        console.error(`cluster: worker ${w.id} died; stopping the others`);
        failed = true;
        stopAll();
      }
    }));
    return failed ? 1 : 0;
  } finally {
    for (const sig of signals) Deno.removeSignalListener(sig, stopAll);
  }
}

function main(argv: string[]): Promise<number> {
  return runMain("cluster", HELP, argv, parse, async (s) => {
    return s.worker !== null
      ? await runWorker(s, s.worker)
      : await runParent(s);
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
