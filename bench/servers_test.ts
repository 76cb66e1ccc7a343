// Copyright 2026 the netkit authors. MIT license.

// The echo benchmark's Deno servers, each run as the benchmark runs it (a
// child process), must echo every byte: small pipelined frames, frames
// larger than a first read buffer, and frames larger than the largest one.
// No speed is asserted.

import { assert, assertEquals } from "@std/assert";
import { runLoad } from "./load.ts";
import { type ServerKey, ServerProcess, SERVERS } from "./echo_bench.ts";

const WORKLOADS = [
  { connections: 3, pipeline: 8, size: 100, messages: 480 },
  { connections: 1, pipeline: 4, size: 70_000, messages: 12 },
  { connections: 2, pipeline: 2, size: 300_000, messages: 8 },
];

// netkit (a) and its web-stream face (b), the hand-written loop (c), the
// for-await floor (f), netkit's for await (g), the idle floor (h), the
// callback floor (i).
for (
  const key of ["a", "b", "c", "f", "g", "h", "i"] satisfies ServerKey[]
) {
  const spec = SERVERS.find((s) => s.key === key);
  assert(spec !== undefined);
  Deno.test(`${spec.name} of the echo benchmark echoes every byte`, async () => {
    const server = await ServerProcess.start(spec, []);
    try {
      for (const w of WORKLOADS) {
        const result = await runLoad({ port: server.port, ...w, timeout: 30 });
        assertEquals(
          result.errorMessages,
          [],
          `${spec.name}: ${JSON.stringify(w)}`,
        );
        assertEquals(result.mismatches, 0);
        assertEquals(result.verifiedMessages, w.messages);
      }
    } finally {
      await server.stop();
    }
  });
}
