// Copyright 2026 the netkit authors. MIT license.

// The profile tool: how it sums a profile, and one short run of it. No
// speed is asserted.

import { assertEquals, assertMatch } from "@std/assert";
import { main, summarize } from "./profile.ts";

const ROOT = new URL("../", import.meta.url).href;

Deno.test("summarize() sums self time per kind of work and per function", () => {
  const frame = (functionName: string, url = "", lineNumber = -1) => ({
    functionName,
    url,
    lineNumber,
  });
  const { kinds, functions } = summarize({
    nodes: [
      { id: 1, callFrame: frame("(idle)") },
      { id: 2, callFrame: frame("op_write") },
      { id: 3, callFrame: frame("scan", `${ROOT}codec.ts`, 9) },
      { id: 4, callFrame: frame("echo", `${ROOT}bench/floor_echo.ts`, 0) },
      { id: 5, callFrame: frame("(garbage collector)") },
      { id: 6, callFrame: frame("read", "ext:deno_net/01_net.js", 3) },
    ],
    samples: [1, 2, 3, 3, 4, 5, 6, 2],
    timeDeltas: [100, 10, 5, 5, 3, 2, 1, 10],
  });
  assertEquals(Object.fromEntries(kinds), {
    "idle": 100,
    "Deno ops (socket calls)": 20,
    "netkit": 10,
    "the server's own code": 3,
    "garbage collection": 2,
    "Deno's JavaScript (ext:)": 1,
  });
  assertEquals(functions.get("scan codec.ts:10"), 10);
  assertEquals(functions.get("op_write "), 20);
  assertEquals(functions.has("(idle) "), false);
});

Deno.test("main() profiles a server and rejects unknown servers", async () => {
  const logs: string[] = [];
  const errors: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void logs.push(a.join(" "));
  console.error = (...a: unknown[]) => void errors.push(a.join(" "));
  try {
    assertEquals(await main(["--servers", "d"]), 2);
    assertMatch(errors.join("\n"), /--servers must list some of a,b,c,f/);
    const code = await main([
      "--servers",
      "c",
      "--messages",
      "2000",
      "--top",
      "3",
      "--no-pin",
    ]);
    assertEquals(code, 0, logs.join("\n"));
    // Which functions a short run's samples land in is luck: only the
    // report's shape is checked.
    assertMatch(
      logs.join("\n"),
      /\(c\) Deno hand-written: [\d,]+ msg\/s; 2,000 messages echoed; JavaScript thread busy \d+ ns\/message/,
    );
    assertMatch(logs.join("\n"), /top functions \(self time\):/);
  } finally {
    console.log = log;
    console.error = error;
  }
});
