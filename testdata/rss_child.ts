// Copyright 2026 the netkit authors. MIT license.

/**
 * A netkit echo server run as a child process, so that a test can measure
 * the server's memory apart from its own while it attacks it.
 *
 * ```sh
 * deno run -N --v8-flags=--expose-gc testdata/rss_child.ts length|lines|lines-skip
 * ```
 *
 * Writes one JSON object a line on stdout:
 *
 * - `{"event":"listening","port":41733}` once, first;
 * - `{"event":"close","error":{"name":…,"code":…,"length":…,"limit":…}}` each
 *   time a connection closes with an error;
 * - `{"event":"rss","rss":…,"heapUsed":…,"stats":{…}}` for each `rss` line
 *   read on stdin (after a garbage collection when `--expose-gc` is on).
 *
 * A `quit` line on stdin, or the end of stdin, shuts the server down and
 * ends the process.
 *
 * @module
 */

import { lengthPrefixed, lines, serve } from "../mod.ts";

const kind = Deno.args[0] ?? "length";
const codec = kind === "length"
  ? lengthPrefixed()
  : kind === "lines"
  ? lines()
  : kind === "lines-skip"
  ? lines({ oversize: "skip" })
  : null;
if (codec === null) {
  console.error(`rss_child: unknown codec "${kind}"`);
  Deno.exit(2);
}

const encoder = new TextEncoder();
function emit(event: Record<string, unknown>): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(event) + "\n"));
}

function describe(error: Error | null): Record<string, unknown> | null {
  if (error === null) return null;
  const e = error as Error & Record<string, unknown>;
  return {
    name: e.name,
    message: e.message,
    code: e.code ?? null,
    length: e.length ?? null,
    limit: e.limit ?? null,
    kind: e.kind ?? null,
  };
}

const server = serve({
  port: 0,
  codec,
  onError: () => {},
  onClose: (_conn, error) => {
    if (error !== null) emit({ event: "close", error: describe(error) });
  },
}, async (conn) => {
  // The echo lets go of each frame before it waits for the next: a
  // suspended \`for await\` keeps its last value alive, and what an idle
  // connection holds is to be netkit's, not the handler's last message.
  let frame: Uint8Array | undefined;
  while ((frame = await conn.receive()) !== undefined) {
    await conn.send(frame);
    frame = undefined;
  }
});

const addr = server.addr as Deno.NetAddr;
emit({ event: "listening", port: addr.port });

const gc = (globalThis as { gc?: () => void }).gc;
const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let pending = "";
outer: for await (const chunk of input) {
  pending += chunk;
  let nl: number;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const command = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (command === "quit") break outer;
    if (command === "rss") {
      gc?.();
      gc?.();
      const { rss, heapUsed, heapTotal, external } = Deno.memoryUsage();
      emit({
        event: "rss",
        rss,
        heapUsed,
        heapTotal,
        external,
        stats: { ...server.stats },
      });
    }
  }
}
await server.shutdown({ timeout: 1000 });
emit({ event: "stopped" });
