// Copyright 2026 the netkit authors. MIT license.

/**
 * A bounded soak: netkit clients against netkit servers in a child process
 * for a fixed time, with mixed codecs (`lengthPrefixed`, `lines`, `json`),
 * mixed sizes (16 B to 256 KiB) and connection churn (each connection
 * carries 1 to 50 messages, then closes). Every reply is checked against
 * what was sent. It reports errors, messages sent, answered and lost
 * (lost must be 0), and the drift of the server's memory.
 *
 * ```sh
 * deno run -A --unstable-net bench/soak.ts --seconds 60
 * deno run -A bench/soak.ts --seconds 10 --clients 32 --seed 7
 * ```
 *
 * Not part of the test suite: it runs as long as it is told to. It exits 1
 * when a message was lost or corrupted, or an error occurred.
 *
 * @module
 */

import { prng } from "../_test_utils.ts";
import {
  type Codec,
  connect,
  type Connection,
  json,
  lengthPrefixed,
  lines,
  serve,
  type Server,
  text,
} from "../mod.ts";

const HELP = `Usage: deno run -A bench/soak.ts [options]

  --seconds N     how long to run (60)
  --clients N     connections open at once (16)
  --seed N        seed of the random sizes and codecs (1)
  --sample MS     how often to read the server's memory (1000)
  --help          this text
`;

const KiB = 1024;
const MiB = 1024 * KiB;
const MIN_SIZE = 16;
const MAX_SIZE = 256 * KiB;
const MAX_MESSAGES = 50;
const FRAME_LIMIT = 1 * MiB;

type CodecName = "length" | "lines" | "json";
const CODECS: readonly CodecName[] = ["length", "lines", "json"];

interface JsonMessage {
  id: number;
  data: string;
}

function codecFor(name: CodecName): Codec<unknown> {
  switch (name) {
    case "length":
      return lengthPrefixed({ maxFrameLength: FRAME_LIMIT }) as Codec<unknown>;
    case "lines":
      return text(lines({ maxLength: FRAME_LIMIT })) as Codec<unknown>;
    case "json":
      return json(lengthPrefixed({ maxFrameLength: FRAME_LIMIT }));
  }
}

// ---------------------------------------------------------------------------
// The server process

interface ServerReport {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  stats: Record<CodecName, Server<unknown>["stats"]>;
}

async function runServer(): Promise<void> {
  const errors: string[] = [];
  const servers = Object.fromEntries(CODECS.map((name) => [
    name,
    serve({
      codec: codecFor(name),
      onError: (error) =>
        errors.push(`${name}: ${error.name}: ${error.message}`),
    }, async (conn: Connection<unknown>) => {
      for await (const message of conn) await conn.send(message);
    }),
  ])) as Record<CodecName, Server<unknown>>;
  const encoder = new TextEncoder();
  const emit = (value: unknown) =>
    Deno.stdout.writeSync(encoder.encode(JSON.stringify(value) + "\n"));
  emit({
    ports: Object.fromEntries(
      CODECS.map((name) => [name, (servers[name].addr as Deno.NetAddr).port]),
    ),
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  const report = (): ServerReport => {
    gc?.();
    const { rss, heapUsed, heapTotal } = Deno.memoryUsage();
    return {
      rss,
      heapUsed,
      heapTotal,
      stats: Object.fromEntries(
        CODECS.map((name) => [name, { ...servers[name].stats }]),
      ) as ServerReport["stats"],
    };
  };
  let pending = "";
  outer: for await (
    const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  ) {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const command = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (command === "quit") break outer;
      if (command === "report") emit(report());
    }
  }
  await Promise.all(CODECS.map((name) => servers[name].shutdown()));
  emit({
    final: report(),
    errors: errors.slice(0, 20),
    errorCount: errors.length,
  });
}

// ---------------------------------------------------------------------------
// The client side

/** Random bytes and random text the payloads are cut from. */
const POOL_SIZE = 2 * MAX_SIZE;
const BYTE_POOL = new Uint8Array(POOL_SIZE);
for (let i = 0; i < POOL_SIZE; i += 65536) {
  crypto.getRandomValues(BYTE_POOL.subarray(i, i + 65536));
}
const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/ -_.,;:!?";
const TEXT_POOL = Array.from(
  BYTE_POOL,
  (b) => ALPHABET[b % ALPHABET.length],
).join("");

interface Totals {
  connections: number;
  sent: number;
  answered: number;
  failed: number;
  lost: number;
  corrupt: number;
  bytes: number;
  errors: Map<string, number>;
  byCodec: Record<CodecName, number>;
}

interface Slice {
  offset: number;
  size: number;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function message(codec: CodecName, id: number, s: Slice): unknown {
  switch (codec) {
    case "length":
      return BYTE_POOL.subarray(s.offset, s.offset + s.size);
    case "lines":
      return TEXT_POOL.slice(s.offset, s.offset + s.size);
    case "json":
      return {
        id,
        data: TEXT_POOL.slice(s.offset, s.offset + s.size),
      } satisfies JsonMessage;
  }
}

function matches(codec: CodecName, id: number, s: Slice, reply: unknown) {
  switch (codec) {
    case "length":
      return reply instanceof Uint8Array &&
        equalBytes(reply, BYTE_POOL.subarray(s.offset, s.offset + s.size));
    case "lines":
      return reply === TEXT_POOL.slice(s.offset, s.offset + s.size);
    case "json": {
      const r = reply as JsonMessage;
      return r?.id === id &&
        r.data === TEXT_POOL.slice(s.offset, s.offset + s.size);
    }
  }
}

/** One connection: send its messages while reading the echoes. */
async function session(
  port: number,
  codec: CodecName,
  random: () => number,
  totals: Totals,
): Promise<void> {
  const count = 1 + Math.floor(random() * MAX_MESSAGES);
  const slices: Slice[] = [];
  for (let i = 0; i < count; i++) {
    // Log-uniform sizes: as many small messages as large ones.
    const size = Math.round(
      MIN_SIZE * Math.pow(MAX_SIZE / MIN_SIZE, random()),
    );
    slices.push({ offset: Math.floor(random() * (POOL_SIZE - size)), size });
  }
  totals.connections++;
  totals.byCodec[codec]++;
  let conn: Connection<unknown>;
  try {
    conn = await connect({ hostname: "127.0.0.1", port }, {
      codec: codecFor(codec),
      connectTimeout: 10_000,
      readTimeout: 30_000,
    });
  } catch (err) {
    const name = (err as Error).name;
    totals.errors.set(name, (totals.errors.get(name) ?? 0) + 1);
    return;
  }
  let sent = 0;
  let answered = 0;
  let error: Error | null = null;
  const sender = (async () => {
    for (; sent < count; sent++) {
      await conn.send(message(codec, sent, slices[sent]!));
      totals.sent++;
    }
  })().catch((err) => error ??= err);
  const reader = (async () => {
    while (answered < count) {
      const reply = await conn.receive();
      if (reply === undefined) break;
      const s = slices[answered]!;
      if (!matches(codec, answered, s, reply)) totals.corrupt++;
      totals.bytes += s.size;
      answered++;
      totals.answered++;
    }
  })().catch((err) => error ??= err);
  await Promise.all([sender, reader]);
  try {
    await conn.close();
  } catch (err) {
    error ??= err as Error;
  }
  const missing = sent - answered;
  if (error !== null) {
    const name = (error as Error).name;
    totals.errors.set(name, (totals.errors.get(name) ?? 0) + 1);
    totals.failed += missing;
  } else {
    // The stream ended cleanly with messages unanswered: lost.
    totals.lost += missing;
  }
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

function signed(bytes: number): string {
  return `${bytes >= 0 ? "+" : "−"}${mib(Math.abs(bytes))}`;
}

function parseArgs(argv: string[]) {
  const o = { seconds: 60, clients: 16, seed: 1, sample: 1000, server: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help") return null;
    if (arg === "--server") {
      o.server = true;
      continue;
    }
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    const value = Number(inline ?? argv[++i]);
    const key = flag.replace(/^--/, "");
    if (!(key in o) || key === "server" || !(value >= 0)) {
      throw new Error(`bad option "${arg}" (see --help)`);
    }
    (o as Record<string, number | boolean>)[key] = value;
  }
  return o;
}

async function runSoak(
  seconds: number,
  clients: number,
  seed: number,
  sampleMs: number,
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-N",
      "--v8-flags=--expose-gc",
      import.meta.url,
      "--server",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextJson = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return JSON.parse(line);
      }
      const r = await lines.read();
      if (r.done) throw new Error("The server process ended");
      buffered += r.value;
    }
  };
  const ask = async (): Promise<ServerReport> => {
    await stdin.write(new TextEncoder().encode("report\n"));
    return await nextJson() as unknown as ServerReport;
  };

  const { ports } = await nextJson() as { ports: Record<CodecName, number> };
  const start = await ask();
  const samples: number[] = [start.rss];
  const totals: Totals = {
    connections: 0,
    sent: 0,
    answered: 0,
    failed: 0,
    lost: 0,
    corrupt: 0,
    bytes: 0,
    errors: new Map(),
    byCodec: { length: 0, lines: 0, json: 0 },
  };
  const random = prng(seed);
  const began = performance.now();
  const deadline = began + seconds * 1000;
  let sampling = true;
  /** The first reading after 10 s, when buffers and the heap have grown. */
  let warm: ServerReport | null = null;
  const sampler = (async () => {
    let nextPrint = began + 10_000;
    while (sampling) {
      await new Promise((r) => setTimeout(r, sampleMs));
      if (!sampling) break;
      const r = await ask();
      samples.push(r.rss);
      if (warm === null && performance.now() >= began + 10_000) warm = r;
      if (performance.now() >= nextPrint) {
        nextPrint += 10_000;
        console.error(
          `soak: ${((performance.now() - began) / 1000).toFixed(0)} s, ` +
            `${totals.connections} connections, ${totals.answered} answered, ` +
            `server RSS ${mib(r.rss)}`,
        );
      }
    }
  })();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < deadline) {
      const codec = CODECS[Math.floor(random() * CODECS.length)]!;
      await session(ports[codec], codec, random, totals);
    }
  }));
  const elapsed = (performance.now() - began) / 1000;
  sampling = false;
  await sampler;
  const end = await ask();
  samples.push(end.rss);
  await stdin.write(new TextEncoder().encode("quit\n"));
  await stdin.close();
  const final = await nextJson() as {
    final: ServerReport;
    errors: string[];
    errorCount: number;
  };
  await lines.cancel();
  const status = await child.status;

  const errorCount = [...totals.errors.values()].reduce((a, b) => a + b, 0);
  const serverStats = CODECS.map((name) => {
    const s = final.final.stats[name];
    return `${name} ${s.accepted} accepted, ${s.rejected} rejected, ${s.errors} errors`;
  });
  const max = Math.max(...samples);
  const warmRss = (warm as ServerReport | null)?.rss ?? null;
  const out = [
    `soak: ${elapsed.toFixed(1)} s, ${clients} clients, seed ${seed}`,
    `connections       ${totals.connections} (${
      (totals.connections / elapsed).toFixed(0)
    }/s): length ${totals.byCodec.length}, lines ${totals.byCodec.lines}, json ${totals.byCodec.json}`,
    `messages          sent ${totals.sent}, answered ${totals.answered}, failed ${totals.failed}, lost ${totals.lost}, corrupt ${totals.corrupt}`,
    `bytes echoed      ${mib(totals.bytes)} (${
      mib(totals.bytes / elapsed)
    }/s), sizes ${MIN_SIZE} B – ${MAX_SIZE / KiB} KiB`,
    `client errors     ${errorCount}${
      errorCount
        ? ` (${[...totals.errors].map(([k, v]) => `${k} ${v}`).join(", ")})`
        : ""
    }`,
    `server            ${serverStats.join("; ")}; onError ${final.errorCount}`,
    ...final.errors.map((e) => `  ${e}`),
    `server RSS        start ${mib(start.rss)}, at 10 s ${
      warmRss === null ? "-" : mib(warmRss)
    }, end ${mib(end.rss)}, max ${mib(max)}`,
    `                  drift ${signed(end.rss - start.rss)} from the start, ${
      warmRss === null ? "-" : signed(end.rss - warmRss)
    } from 10 s (${samples.length} samples)`,
    `server heap used  start ${mib(start.heapUsed)}, end ${
      mib(end.heapUsed)
    } (after GC); heap total end ${mib(end.heapTotal)}`,
    `server exit       ${status.code}`,
  ];
  console.log(out.join("\n"));
  const ok = totals.lost === 0 && totals.corrupt === 0 && errorCount === 0 &&
    final.errorCount === 0 && status.success;
  console.log(ok ? "soak: ok" : "soak: FAILED");
  return ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  let o;
  try {
    o = parseArgs(argv);
  } catch (err) {
    console.error(`soak: ${(err as Error).message}`);
    return 2;
  }
  if (o === null) {
    console.log(HELP);
    return 0;
  }
  if (o.server) {
    await runServer();
    return 0;
  }
  return await runSoak(o.seconds, Math.max(1, o.clients), o.seed, o.sample);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
