// Copyright 2026 the netkit authors. MIT license.

/**
 * Where an echo server's time goes, per message: each Deno server of the
 * echo benchmark runs under `--cpu-prof` while `bench/load.ts` drives one
 * workload through it, and the profile's samples are summed per function
 * and per kind of work, divided by the messages echoed.
 *
 * ```sh
 * deno task bench:profile                                    # 64 B × 1 × 64, servers a,c,f
 * deno task bench:profile --servers a,b,c,f --connections 50 --size 1024
 * ```
 *
 * Only the JavaScript thread is sampled: time the runtime spends outside
 * JavaScript (the event loop's polling, the kernel's side of a socket call
 * made asynchronously) shows as idle and is left out; the server's CPU
 * time over all threads is printed beside it for scale. The profile covers
 * the server's whole life, so start-up is in it too; at a million messages
 * it is a few nanoseconds per message.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import type { LoadResult } from "./load.ts";
import {
  pinCores,
  runLoadChild,
  type ServerKey,
  ServerProcess,
  SERVERS,
  type ServerSpec,
} from "./echo_bench.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

interface Settings {
  servers: ServerSpec[];
  connections: number;
  pipeline: number;
  size: number;
  messages: number;
  top: number;
  pin: boolean;
}

const HELP = `Usage: deno task bench:profile [options]

Profiles the echo benchmark's Deno servers (--cpu-prof) under one workload
and prints where the time goes, in nanoseconds per message.

  --servers LIST     which Deno servers (a,c,f; any of a,b,c,f,g,i)
  --connections C    connections (1)
  --pipeline P       messages per batch (64)
  --size S           payload bytes (64)
  --messages N       messages to echo (1000000)
  --top N            functions listed per server (12)
  --no-pin           do not pin server and client to cores
  --help             this text
`;

const DENO_SERVERS: readonly ServerKey[] = ["a", "b", "c", "f", "g", "i"];

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: [
      "servers",
      "connections",
      "pipeline",
      "size",
      "messages",
      "top",
    ],
    boolean: ["help", "pin"],
    negatable: ["pin"],
    default: {
      servers: "a,c,f",
      connections: "1",
      pipeline: "64",
      size: "64",
      messages: "1000000",
      top: "12",
      pin: true,
    },
    unknown: (arg: string) => {
      throw new RangeError(`Unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  const int = (name: keyof typeof args, min: number): number => {
    const n = Number(args[name]);
    if (!Number.isInteger(n) || n < min) {
      throw new RangeError(
        `--${name} must be an integer of at least ${min}, received "${
          args[name]
        }"`,
      );
    }
    return n;
  };
  const keys = String(args.servers).split(",").map((s) => s.trim());
  const servers = SERVERS.filter((s) => keys.includes(s.key));
  if (
    servers.length === 0 ||
    keys.some((k) => !DENO_SERVERS.includes(k as ServerKey))
  ) {
    throw new RangeError(
      `--servers must list some of ${
        DENO_SERVERS.join(",")
      }, received "${args.servers}"`,
    );
  }
  return {
    servers,
    connections: int("connections", 1),
    pipeline: int("pipeline", 1),
    size: int("size", 0),
    messages: int("messages", 1),
    top: int("top", 0),
    pin: Boolean(args.pin),
  };
}

/** The parts of a `.cpuprofile` read here. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }>;
  samples: number[];
  timeDeltas: number[];
}

/** What kind of work a profile node is. */
function kindOf(functionName: string, url: string): string {
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(program)") return "runtime outside JavaScript";
  if (functionName === "(idle)") return "idle";
  if (functionName.startsWith("op_")) return "Deno ops (socket calls)";
  if (url.startsWith("file://")) {
    const path = decodeURIComponent(new URL(url).pathname);
    if (!path.startsWith(ROOT)) return "other";
    const rel = path.slice(ROOT.length);
    return /^(bench|examples|offline)\//.test(rel)
      ? "the server's own code"
      : "netkit";
  }
  return "Deno's JavaScript (ext:)";
}

interface Summary {
  /** Microseconds per kind of work. */
  kinds: Map<string, number>;
  /** Microseconds per function. */
  functions: Map<string, number>;
}

/** Sums a profile's self time per kind of work and per function. */
export function summarize(profile: CpuProfile): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const kinds = new Map<string, number>();
  const functions = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    const kind = kindOf(frame.functionName, frame.url);
    kinds.set(kind, (kinds.get(kind) ?? 0) + dt);
    if (kind === "idle") return;
    const file = frame.url.split("/").pop() || frame.url;
    const name = `${frame.functionName || "(anonymous)"} ${file}${
      file ? `:${frame.lineNumber + 1}` : ""
    }`;
    functions.set(name, (functions.get(name) ?? 0) + dt);
  });
  return { kinds, functions };
}

function withProfiling(spec: ServerSpec, dir: string): ServerSpec {
  return {
    ...spec,
    command: () => {
      const cmd = spec.command();
      // deno run --cpu-prof --cpu-prof-dir=DIR …
      return [cmd[0]!, cmd[1]!, "--cpu-prof", `--cpu-prof-dir=${dir}`].concat(
        cmd.slice(2),
      );
    },
  };
}

async function profileOne(
  spec: ServerSpec,
  s: Settings,
  serverPin: string[],
  clientPin: string[],
): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "netkit-profile-" });
  try {
    const server = await ServerProcess.start(
      withProfiling(spec, dir),
      serverPin,
    );
    let result: LoadResult;
    try {
      const cell = await runLoadChild(
        server,
        s,
        ["--messages", String(s.messages), "--timeout", "300"],
        clientPin,
      );
      if (cell.result === null || cell.failure !== null) {
        throw new Error(cell.failure ?? "echo failed");
      }
      result = cell.result;
    } finally {
      await server.stop();
    }
    const file = [...Deno.readDirSync(dir)].find((e) =>
      e.name.endsWith(".cpuprofile")
    );
    if (file === undefined) throw new Error("the server wrote no profile");
    const profile = JSON.parse(
      await Deno.readTextFile(`${dir}/${file.name}`),
    ) as CpuProfile;
    return report(spec, summarize(profile), result, s.top);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function report(
  spec: ServerSpec,
  sum: Summary,
  result: LoadResult,
  top: number,
): string[] {
  const n = result.verifiedMessages;
  const cpu = result.serverCpu?.microsPerMessage;
  const ns = (us: number) => (us * 1000 / n).toFixed(0).padStart(6);
  let busy = 0;
  for (const [kind, us] of sum.kinds) if (kind !== "idle") busy += us;
  const lines = [
    `${spec.name}: ${
      Math.round(result.messagesPerSecond).toLocaleString("en-US")
    } msg/s; ${
      n.toLocaleString("en-US")
    } messages echoed; JavaScript thread busy ${ns(busy).trim()} ns/message${
      cpu == null
        ? ""
        : `; server CPU, all threads, ${(cpu * 1000).toFixed(0)} ns/message`
    }`,
  ];
  const kinds = [...sum.kinds].filter(([k]) => k !== "idle")
    .sort((x, y) => y[1] - x[1]);
  for (const [kind, us] of kinds) lines.push(`  ${ns(us)} ns  ${kind}`);
  if (top > 0) {
    lines.push(`  top functions (self time):`);
    const fns = [...sum.functions].sort((x, y) => y[1] - x[1]).slice(0, top);
    for (const [name, us] of fns) lines.push(`  ${ns(us)} ns    ${name}`);
  }
  return lines;
}

export async function main(argv: string[]): Promise<number> {
  let s: Settings | null;
  try {
    s = parse(argv);
  } catch (err) {
    console.error(`profile: ${(err as Error).message}`);
    return 2;
  }
  if (s === null) {
    console.log(HELP);
    return 0;
  }
  const { pinned, serverPin, clientPin } = await pinCores(s.pin);
  console.log(
    `${s.size} B × ${s.connections} conn × pipeline ${s.pipeline}, ${s.messages} messages${
      pinned ? ", server on core 0, load on core 1" : ""
    }; per message:\n`,
  );
  let failed = 0;
  for (const spec of s.servers) {
    try {
      console.log((await profileOne(spec, s, serverPin, clientPin)).join("\n"));
    } catch (err) {
      failed++;
      console.log(`${spec.name}: failed: ${(err as Error).message}`);
    }
    console.log();
  }
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
