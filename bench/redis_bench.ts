// Copyright 2026 the netkit authors. MIT license.

/**
 * The Redis benchmark: `redis-benchmark -t ping,set,get` against three
 * servers, in interleaved rounds within one invocation.
 *
 * - `redis-server` (Debian's), without persistence
 * - netkit: `examples/redis.ts`
 * - the baseline: `bench/redis_hand_written.ts`, a RESP server written by
 *   hand on `Deno.listen` (one buffer, one write per read)
 *
 * ```sh
 * deno task bench:redis                       # 3 rounds, about 2 minutes
 * deno task bench:redis --rounds 5 --seconds 2
 * deno task bench:redis --profile             # where the Deno servers' time goes
 * ```
 *
 * Cells: 50 clients × pipeline 1, 50 × 16, and 1 × 1. Servers are pinned
 * to core 0 and `redis-benchmark` to core 1 (with `taskset`, where there
 * are two cores). A warm-up run per cell and server sizes the cell's
 * request count (the same for every server) to about `--seconds` per test.
 * Figures are medians over the rounds; a ratio is the median of the ratios
 * within each round. Server CPU per request is the server's CPU time (all
 * threads, from `/proc/PID/stat`) over the requests of the run. Results go
 * to `bench/results/redis.md` and `redis.json`.
 *
 * With `--profile`, each Deno server runs each cell once under
 * `--cpu-prof` instead (a new process per cell: the profile covers its
 * life, start-up included), and the samples of its JavaScript thread are
 * summed per kind of work and per function, in nanoseconds per request,
 * beside the server's CPU per request over all threads (`bench/profile.ts`
 * does the same for the echo servers). Nothing is written.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { pinCores } from "./echo_bench.ts";
import { summarize } from "./profile.ts";
import {
  cpuSeconds,
  redisBenchmark,
  type RunningServer,
  startDenoServer,
  startRedisServer,
} from "./_redis_tools.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

type Key = "redis" | "netkit" | "hand";

const SERVERS: Record<
  Key,
  { name: string; start: (pin: string[]) => Promise<RunningServer> }
> = {
  redis: {
    name: "redis-server",
    start: (pin) => startRedisServer({ pin }),
  },
  netkit: {
    name: "examples/redis.ts",
    start: (pin) => startDenoServer("examples/redis.ts", [], pin),
  },
  hand: {
    name: "hand-written Deno",
    start: (pin) => startDenoServer("bench/redis_hand_written.ts", [], pin),
  },
};

const CELLS = [
  { clients: 50, pipeline: 1 },
  { clients: 50, pipeline: 16 },
  { clients: 1, pipeline: 1 },
];
const TESTS = ["PING_INLINE", "PING_MBULK", "SET", "GET"];

const HELP = `Usage: deno task bench:redis [options]

Runs redis-benchmark -t ping,set,get against redis-server, examples/redis.ts
and a hand-written Deno RESP server, in interleaved rounds, and writes
bench/results/redis.md and redis.json.

  --rounds N      interleaved rounds (3)
  --seconds S     about how long each test of a cell runs (1)
  --servers LIST  which servers (redis,netkit,hand)
  --no-pin        do not pin servers and redis-benchmark to cores
  --out DIR       where the results go (bench/results)
  --profile       profile the Deno servers instead, one run per cell
  --top N         functions listed per server and cell with --profile (15)
  --help          this text
`;

interface Settings {
  rounds: number;
  seconds: number;
  servers: Key[];
  pin: boolean;
  out: string;
  profile: boolean;
  top: number;
}

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: ["rounds", "seconds", "servers", "out", "top"],
    boolean: ["help", "pin", "profile"],
    negatable: ["pin"],
    default: {
      rounds: "3",
      seconds: "1",
      servers: "redis,netkit,hand",
      pin: true,
      out: `${ROOT}bench/results`,
      profile: false,
      top: "15",
    },
    unknown: (arg: string) => {
      throw new RangeError(`Unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  const rounds = Number(args.rounds), seconds = Number(args.seconds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(
      `--rounds must be an integer of at least 1, received "${args.rounds}"`,
    );
  }
  if (!(seconds > 0)) {
    throw new RangeError(
      `--seconds must be a positive number, received "${args.seconds}"`,
    );
  }
  const servers = String(args.servers).split(",").map((s) => s.trim());
  if (servers.length === 0 || servers.some((s) => !(s in SERVERS))) {
    throw new RangeError(
      `--servers must list some of redis,netkit,hand, received "${args.servers}"`,
    );
  }
  const top = Number(args.top);
  if (!Number.isInteger(top) || top < 0) {
    throw new RangeError(
      `--top must be an integer of at least 0, received "${args.top}"`,
    );
  }
  return {
    rounds,
    seconds,
    servers: servers as Key[],
    pin: Boolean(args.pin),
    out: String(args.out).replace(/\/$/, ""),
    profile: Boolean(args.profile),
    top,
  };
}

/** One run of redis-benchmark on one server: per test, and the CPU. */
interface Run {
  rps: Map<string, number>;
  /** Server CPU in µs per request over the run (all tests). */
  cpuMicros: number | null;
  failure: string | null;
}

async function measure(
  server: RunningServer,
  cell: { clients: number; pipeline: number },
  requests: number,
  pin: string[],
): Promise<Run> {
  const cpu0 = cpuSeconds(server.pid);
  const r = await redisBenchmark(server.port, {
    tests: "ping,set,get",
    ...cell,
    requests,
    pin,
  });
  const cpu1 = cpuSeconds(server.pid);
  const failure = r.code !== 0 || r.rps.size !== TESTS.length
    ? `redis-benchmark exited ${r.code}: ${r.stderr.trim().slice(-300)}`
    : null;
  const total = requests * TESTS.length;
  return {
    rps: r.rps,
    cpuMicros: cpu0 === null || cpu1 === null
      ? null
      : ((cpu1 - cpu0) * 1e6) / total,
    failure,
  };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const label = (c: { clients: number; pipeline: number }) =>
  `${c.clients} × ${c.pipeline}`;
const rate = (n: number | null) =>
  n === null
    ? "?"
    : n >= 1e6
    ? `${(n / 1e6).toFixed(2)} M`
    : `${(n / 1e3).toFixed(1)} k`;
const times = (n: number | null) => (n === null ? "?" : `${n.toFixed(2)}×`);

async function main(argv: string[]): Promise<number> {
  let s: Settings | null;
  try {
    s = parse(argv);
  } catch (err) {
    console.error(`redis_bench: ${(err as Error).message}`);
    return 2;
  }
  if (s === null) {
    console.log(HELP);
    return 0;
  }
  if (s.profile) return await profile(s);
  const started = new Date();
  const t0 = performance.now();
  const { pinned, serverPin, clientPin } = await pinCores(s.pin);
  const keys = s.servers;
  // runs[key][cell][round]
  const runs = new Map<Key, Run[][]>(keys.map((k) => [k, CELLS.map(() => [])]));
  const requests: number[] = [];
  const servers = new Map<Key, RunningServer>();
  try {
    for (const k of keys) servers.set(k, await SERVERS[k].start(serverPin));
    // Warm-up: sizes each cell to about --seconds per test, for all alike.
    for (const [ci, cell] of CELLS.entries()) {
      const probe = cell.pipeline > 1
        ? 50_000
        : cell.clients > 1
        ? 20_000
        : 5_000;
      const rates: number[] = [];
      for (const k of keys) {
        const run = await measure(servers.get(k)!, cell, probe, clientPin);
        if (run.failure) {
          throw new Error(`${SERVERS[k].name}, ${label(cell)}: ${run.failure}`);
        }
        rates.push(...run.rps.values());
      }
      requests[ci] = Math.max(
        1000,
        Math.round(median(rates)! * s.seconds / 1000) * 1000,
      );
      console.error(`cell ${label(cell)}: ${requests[ci]} requests per test`);
    }
    for (let round = 0; round < s.rounds; round++) {
      for (const [ci, cell] of CELLS.entries()) {
        // Rotate the order each round so no server always runs first.
        const order = keys.map((_, i) => keys[(i + round + ci) % keys.length]!);
        for (const k of order) {
          const run = await measure(
            servers.get(k)!,
            cell,
            requests[ci]!,
            clientPin,
          );
          runs.get(k)![ci]!.push(run);
          console.error(
            `round ${round + 1}, ${label(cell)}, ${SERVERS[k].name}: ${
              run.failure ?? TESTS.map((t) =>
                `${t} ${rate(run.rps.get(t) ?? null)}`
              ).join(", ")
            }`,
          );
        }
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }

  const value = (k: Key, ci: number, test: string) =>
    runs.get(k)?.[ci]?.map((
      r,
    ) => (r.failure ? null : r.rps.get(test) ?? null)) ?? [];
  const rps = (k: Key, ci: number, test: string) =>
    median(value(k, ci, test).filter((x): x is number => x !== null));
  const ratio = (k: Key, base: Key, ci: number, test: string) => {
    if (!runs.has(k) || !runs.has(base)) return null;
    const xs = value(k, ci, test), bs = value(base, ci, test);
    return median(
      xs.flatMap((x, i) => (x !== null && bs[i] ? [x / bs[i]!] : [])),
    );
  };
  const cpu = (k: Key, ci: number) =>
    median(
      runs.get(k)![ci]!.flatMap((
        r,
      ) => (r.cpuMicros === null || r.failure ? [] : [r.cpuMicros])),
    );

  const lines: string[] = [];
  lines.push("# Redis benchmark", "");
  lines.push(
    `${
      started.toISOString().slice(0, 16).replace("T", " ")
    } UTC, ${s.rounds} interleaved round${
      s.rounds === 1 ? "" : "s"
    }; the whole run took ${Math.round((performance.now() - t0) / 1000)} s.`,
    "",
    `\`redis-benchmark -t ping,set,get -c C -P P -n N\`${
      pinned ? ", servers pinned to core 0 and redis-benchmark to core 1" : ""
    }; N per cell: ${
      CELLS.map((c, i) => `${label(c)}: ${requests[i]}`).join(", ")
    }. Requests per second are medians over the rounds; a ratio is the median of the ratios within each round.`,
    "",
  );
  const head = [
    "cell (clients × pipeline)",
    "test",
    ...keys.map((k) => SERVERS[k].name),
  ];
  if (keys.includes("netkit") && keys.includes("redis")) {
    head.push("netkit / redis-server");
  }
  if (keys.includes("netkit") && keys.includes("hand")) {
    head.push("netkit / hand-written");
  }
  if (keys.includes("hand") && keys.includes("redis")) {
    head.push("hand-written / redis-server");
  }
  lines.push(
    "## Requests per second",
    "",
    `| ${head.join(" | ")} |`,
    `|---|---|${head.slice(2).map(() => "---:").join("|")}|`,
  );
  const misses: string[] = [];
  for (const [ci, cell] of CELLS.entries()) {
    for (const test of TESTS) {
      const row = [
        label(cell),
        test,
        ...keys.map((k) => rate(rps(k, ci, test))),
      ];
      if (keys.includes("netkit") && keys.includes("redis")) {
        row.push(times(ratio("netkit", "redis", ci, test)));
      }
      if (keys.includes("netkit") && keys.includes("hand")) {
        const r = ratio("netkit", "hand", ci, test);
        row.push(times(r));
        if (r === null || r < 0.95) {
          misses.push(`${label(cell)} ${test} ${times(r)}`);
        }
      }
      if (keys.includes("hand") && keys.includes("redis")) {
        row.push(times(ratio("hand", "redis", ci, test)));
      }
      lines.push(`| ${row.join(" | ")} |`);
    }
  }
  lines.push(
    "",
    "## Server CPU per request (µs, all threads, over the four tests)",
    "",
  );
  lines.push(
    `| cell | ${keys.map((k) => SERVERS[k].name).join(" | ")} |`,
    `|---|${keys.map(() => "---:").join("|")}|`,
  );
  for (const [ci, cell] of CELLS.entries()) {
    lines.push(
      `| ${label(cell)} | ${
        keys.map((k) => cpu(k, ci)?.toFixed(2) ?? "?").join(" | ")
      } |`,
    );
  }
  if (keys.includes("netkit") && keys.includes("hand")) {
    lines.push(
      "",
      `Target: examples/redis.ts ≥ 0.95× the hand-written server on every cell and test: ${
        misses.length === 0 ? "met" : `NOT met (${misses.join("; ")})`
      }.`,
    );
  }
  const failures = keys.flatMap((k) =>
    runs.get(k)!.flatMap((rs, ci) =>
      rs.flatMap((
        r,
        round,
      ) => (r.failure
        ? [
          `${SERVERS[k].name}, ${label(CELLS[ci]!)}, round ${
            round + 1
          }: ${r.failure}`,
        ]
        : [])
      )
    )
  );
  if (failures.length > 0) {
    lines.push(
      "",
      "## Failures",
      "",
      ...failures.map((f) => `- ${f}`),
    );
  }
  lines.push(
    "",
    `Machine: ${navigator.hardwareConcurrency} cores, Linux ${Deno.osRelease()}, Deno ${Deno.version.deno}. Reproduce: \`deno task bench:redis\`.`,
    "",
  );
  const md = lines.join("\n");
  await Deno.mkdir(s.out, { recursive: true });
  await Deno.writeTextFile(`${s.out}/redis.md`, md);
  await Deno.writeTextFile(
    `${s.out}/redis.json`,
    JSON.stringify(
      {
        startedAt: started.toISOString(),
        pinned,
        requests: CELLS.map((c, i) => ({ ...c, requests: requests[i] })),
        runs: Object.fromEntries(keys.map((k) => [
          SERVERS[k].name,
          runs.get(k)!.map((rs, ci) => ({
            ...CELLS[ci],
            rounds: rs.map((r) => ({
              rps: Object.fromEntries(r.rps),
              cpuMicros: r.cpuMicros,
              failure: r.failure,
            })),
          })),
        ])),
      },
      null,
      1,
    ) + "\n",
  );
  console.log(md);
  console.error(`wrote ${s.out}/redis.md and redis.json`);
  return failures.length > 0 ? 1 : 0;
}

/** Requests per test of a profiled run, for `--seconds 1`. */
const PROFILE_REQUESTS = [100_000, 1_000_000, 10_000];

/** `--profile`: each Deno server, each cell, under `--cpu-prof`. */
async function profile(s: Settings): Promise<number> {
  const { pinned, serverPin, clientPin } = await pinCores(s.pin);
  const keys = s.servers.filter((k) => k !== "redis");
  if (keys.length === 0) {
    console.error("redis_bench: --profile needs netkit or hand in --servers");
    return 2;
  }
  console.log(
    `redis-benchmark -t ping,set,get${
      pinned ? ", servers on core 0 and redis-benchmark on core 1" : ""
    }; the JavaScript thread's samples and the server's CPU, per request:\n`,
  );
  const ns = (us: number, n: number) => (us * 1000 / n).toFixed(0).padStart(6);
  let failed = 0;
  for (const [ci, cell] of CELLS.entries()) {
    const requests = Math.max(
      1000,
      Math.round(PROFILE_REQUESTS[ci]! * s.seconds),
    );
    for (const k of keys) {
      const dir = await Deno.makeTempDir({ prefix: "netkit-redis-profile-" });
      try {
        const server = await startDenoServer(
          k === "netkit" ? "examples/redis.ts" : "bench/redis_hand_written.ts",
          [],
          serverPin,
          ["--cpu-prof", `--cpu-prof-dir=${dir}`],
        );
        let run: Run;
        try {
          run = await measure(server, cell, requests, clientPin);
        } finally {
          await server.stop();
        }
        if (run.failure) throw new Error(run.failure);
        const file = [...Deno.readDirSync(dir)].find((e) =>
          e.name.endsWith(".cpuprofile")
        );
        if (file === undefined) throw new Error("the server wrote no profile");
        const sum = summarize(
          JSON.parse(
            await Deno.readTextFile(`${dir}/${file.name}`),
          ) as Parameters<typeof summarize>[0],
        );
        const n = requests * TESTS.length;
        console.log(
          `${label(cell)}, ${SERVERS[k].name}: ${
            TESTS.map((t) => `${t} ${rate(run.rps.get(t) ?? null)}`).join(", ")
          }; server CPU ${
            run.cpuMicros === null ? "?" : run.cpuMicros.toFixed(2)
          } µs/request`,
        );
        const kinds = [...sum.kinds].filter(([kind]) => kind !== "idle")
          .sort((x, y) => y[1] - x[1]);
        for (const [kind, us] of kinds) {
          console.log(`  ${ns(us, n)} ns  ${kind}`);
        }
        if (s.top > 0) console.log("  top functions (self time):");
        const fns = [...sum.functions].sort((x, y) => y[1] - x[1])
          .slice(0, s.top);
        for (const [name, us] of fns) {
          console.log(`  ${ns(us, n)} ns    ${name}`);
        }
      } catch (err) {
        failed++;
        console.log(
          `${label(cell)}, ${SERVERS[k].name}: failed: ${
            (err as Error).message
          }`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
      console.log();
    }
  }
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
