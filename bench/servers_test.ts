// Copyright 2026 the netkit authors. MIT license.

// The echo benchmark's Deno servers, each run as the benchmark runs it (a
// child process), must echo every byte: small pipelined frames, frames
// larger than a first read buffer, and frames larger than the largest one.
// No speed is asserted.

import { assertEquals } from "@std/assert";
import { runLoad } from "./load.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** Starts a benchmark server; resolves with its port and a way to stop it. */
async function start(
  file: string,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--import-map=${ROOT}offline/import_map.json`,
      "-N",
      `${ROOT}bench/${file}`,
      "--port",
      "0",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Exited already.
    }
    await child.status;
  };
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => stop(), 20_000);
  try {
    for (;;) {
      const m = text.match(/listening on .*:(\d+)\s*$/m);
      if (m !== null) {
        // Read the rest in the background, so the pipe never fills.
        void (async () => {
          while (!(await lines.read()).done) {
            // Discarded.
          }
        })();
        return { port: Number(m[1]), stop };
      }
      const { value, done } = await lines.read();
      if (done) throw new Error(`${file} exited before listening: ${text}`);
      text += value;
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const WORKLOADS = [
  { connections: 3, pipeline: 8, size: 100, messages: 480 },
  { connections: 1, pipeline: 4, size: 70_000, messages: 12 },
  { connections: 2, pipeline: 2, size: 300_000, messages: 8 },
];

for (const file of ["baseline_echo.ts", "floor_echo.ts", "streams_echo.ts"]) {
  Deno.test(`bench/${file} echoes every byte`, async () => {
    const server = await start(file);
    try {
      for (const w of WORKLOADS) {
        const result = await runLoad({ port: server.port, ...w, timeout: 30 });
        assertEquals(result.errorMessages, [], `${file}: ${JSON.stringify(w)}`);
        assertEquals(result.mismatches, 0);
        assertEquals(result.verifiedMessages, w.messages);
      }
    } finally {
      await server.stop();
    }
  });
}
