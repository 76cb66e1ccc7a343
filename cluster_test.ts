// Copyright 2026 the netkit authors. MIT license.

// examples/cluster.ts: worker processes share one port with SO_REUSEPORT;
// connections spread across them, and SIGTERM stops them all gracefully.
// The workers get --unstable-net from the parent, so this file needs only
// --allow-run.

import {
  assert,
  assertEquals,
  assertGreater,
  assertMatch,
  assertStringIncludes,
} from "@std/assert";
import { TextLineStream } from "@std/streams";
import { connect, type Connection, lines, text } from "./mod.ts";

const WORKERS = 2;
/**
 * SO_REUSEPORT hashes each connection's 4-tuple to a worker: with 40
 * connections and 2 workers, all landing on one has odds of 2^-39.
 */
const CONNECTIONS = 40;

/** `examples/cluster.ts` as a child process, its stdout read line by line. */
function startCluster(workers: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-run",
      new URL("./examples/cluster.ts", import.meta.url).href,
      "--workers",
      String(workers),
      "--port",
      "0",
      "--shutdown-timeout",
      "2000",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream()).getReader();
  const stderr = new Response(child.stderr).text();
  return {
    child,
    async line(): Promise<string | null> {
      const r = await stdout.read();
      return r.done ? null : r.value;
    },
    async finish() {
      const rest: string[] = [];
      for (let r; !(r = await stdout.read()).done;) rest.push(r.value);
      const status = await child.status;
      return { status, rest, stderr: await stderr };
    },
  };
}

Deno.test("examples/cluster.ts spreads connections across its workers and stops them all on SIGTERM", async () => {
  const cluster = startCluster(WORKERS);
  const clients: Connection<string>[] = [];
  let stopped = false;
  try {
    const banner = await cluster.line();
    const m = banner?.match(
      /^listening on 127\.0\.0\.1:(\d+) \((\d+) workers\)$/,
    );
    assert(m, `Unexpected banner: ${banner}`);
    assertEquals(Number(m[2]), WORKERS);
    const port = Number(m[1]);

    for (let i = 0; i < CONNECTIONS; i++) {
      clients.push(
        await connect({ hostname: "127.0.0.1", port }, {
          codec: text(lines()),
          readTimeout: 10_000,
        }),
      );
    }
    const replies = await Promise.all(clients.map(async (conn, i) => {
      await conn.send(`hello ${i}`);
      return await conn.receive();
    }));
    const perWorker = new Map<string, number>();
    for (const [i, reply] of replies.entries()) {
      const r = reply?.match(/^worker (\d+): (.*)$/);
      assert(r, `Unexpected reply: ${reply}`);
      assertEquals(r[2], `hello ${i}`);
      perWorker.set(r[1]!, (perWorker.get(r[1]!) ?? 0) + 1);
    }
    assertEquals(perWorker.size, WORKERS, JSON.stringify([...perWorker]));
    for (const count of perWorker.values()) assertGreater(count, 0);

    // Close all but one; the last one stays open across SIGTERM and is
    // closed by its worker's graceful shutdown.
    const last = clients.pop()!;
    await Promise.all(clients.map((c) => c.close()));
    clients.length = 0;
    clients.push(last);
    cluster.child.kill("SIGTERM");
    stopped = true;
    assertEquals(await last.receive(), undefined);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    if (!stopped) {
      try {
        cluster.child.kill("SIGTERM");
      } catch {
        // It exited on its own; its status tells.
      }
    }
    const { status, rest, stderr } = await cluster.finish();
    assertEquals(rest, []);
    assertEquals(status.code, 0, stderr);
    for (let id = 1; id <= WORKERS; id++) {
      assertMatch(
        stderr,
        new RegExp(`worker ${id} \\(pid \\d+\\) exited with code 0`),
      );
    }
    assertStringIncludes(stderr, "stopped after");
  }
});
