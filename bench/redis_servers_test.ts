// Copyright 2026 the netkit authors. MIT license.

// The Redis benchmark's baseline, bench/redis_hand_written.ts, must answer
// what redis-benchmark sends as redis-server does, byte for byte; and the
// benchmark must run its cells and write its table. No speed is asserted.

import { assertEquals, assertMatch } from "@std/assert";
import {
  exchange,
  redisBenchmark,
  startDenoServer,
  startRedisServer,
} from "./_redis_tools.ts";
import { latin1 } from "../examples/resp.ts";

const cmd = (...args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join("")}`;

Deno.test("bench/redis_hand_written.ts answers PING, SET, GET and CONFIG GET as redis-server does", async () => {
  await using redis = await startRedisServer();
  await using hand = await startDenoServer("bench/redis_hand_written.ts");
  // A value larger than the server's first buffer, or a small one when
  // the bytes go one at a time.
  const script = (value: string) =>
    [
      "PING\r\n",
      cmd("PING"),
      cmd("ping"),
      cmd("GET", "key:__rand_int__"),
      cmd("SET", "key:__rand_int__", "VXK"),
      cmd("GET", "key:__rand_int__"),
      cmd("SET", "k\r\n", value),
      cmd("GET", "k\r\n"),
      cmd("set", "e", ""),
      cmd("get", "e"),
      // Values each side of the longest kept as a string, and every byte.
      cmd("SET", "64", "\xff\0\x80".repeat(21) + "x"),
      cmd("GET", "64"),
      cmd("SET", "65", "\xff\0\x80".repeat(21) + "xy"),
      cmd("GET", "65"),
      cmd("CONFIG", "GET", "save"),
      cmd("CONFIG", "GET", "appendonly"),
      "PING\n",
    ].join("");
  for (const bytewise of [false, true]) {
    const ask = async (port: number) => {
      const request = script(bytewise ? "v" : "v".repeat(300_000));
      const { reply } = await exchange(port, request, {
        bytewise,
        until: "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n+PONG\r\n",
      });
      return latin1(reply);
    };
    const want = await ask(redis.port);
    assertMatch(want, /^\+PONG\r\n\+PONG\r\n\+PONG\r\n/);
    assertEquals(await ask(hand.port), want);
  }
});

Deno.test("bench/redis_hand_written.ts runs redis-benchmark without an error reply", async () => {
  await using hand = await startDenoServer("bench/redis_hand_written.ts");
  for (const pipeline of [1, 16]) {
    const r = await redisBenchmark(hand.port, {
      tests: "ping,set,get",
      clients: 10,
      pipeline,
      requests: 2000,
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals([...r.rps.keys()], [
      "PING_INLINE",
      "PING_MBULK",
      "SET",
      "GET",
    ]);
  }
});

Deno.test("bench:redis measures every cell and test of the three servers and writes its table", async () => {
  const out = await Deno.makeTempDir();
  try {
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--import-map=offline/import_map.json",
        "-A",
        "bench/redis_bench.ts",
        "--rounds",
        "1",
        "--seconds",
        "0.05",
        "--out",
        out,
      ],
      cwd: decodeURIComponent(new URL("../", import.meta.url).pathname),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(child.stderr);
    assertEquals(child.code, 0, stderr);
    const md = await Deno.readTextFile(`${out}/redis.md`);
    for (const cell of ["50 × 1", "50 × 16", "1 × 1"]) {
      for (const test of ["PING_INLINE", "PING_MBULK", "SET", "GET"]) {
        assertMatch(
          md,
          new RegExp(
            `^\\| ${cell} \\| ${test} \\| [\\d.]+ [kM] \\| [\\d.]+ [kM] \\| [\\d.]+ [kM] \\| [\\d.]+× \\| [\\d.]+× \\| [\\d.]+× \\|$`,
            "m",
          ),
        );
      }
      assertMatch(
        md,
        new RegExp(
          `^\\| ${cell} \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\|$`,
          "m",
        ),
      );
    }
    assertMatch(
      md,
      /^Target: examples\/redis\.ts ≥ 0\.95× the hand-written server on every cell and test: (met|NOT met \(.*\))\.$/m,
    );
    const json = JSON.parse(await Deno.readTextFile(`${out}/redis.json`));
    assertEquals(Object.keys(json.runs), [
      "redis-server",
      "examples/redis.ts",
      "hand-written Deno",
    ]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("bench:redis --profile profiles each Deno server on every cell", async () => {
  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--import-map=offline/import_map.json",
      "-A",
      "bench/redis_bench.ts",
      "--profile",
      "--seconds",
      "0.02",
      "--top",
      "3",
    ],
    cwd: decodeURIComponent(new URL("../", import.meta.url).pathname),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(child.stdout);
  assertEquals(child.code, 0, new TextDecoder().decode(child.stderr));
  for (const cell of ["50 × 1", "50 × 16", "1 × 1"]) {
    for (const name of ["examples/redis.ts", "hand-written Deno"]) {
      assertMatch(
        stdout,
        new RegExp(
          `^${cell}, ${name}: PING_INLINE .*; server CPU [\\d.]+ µs/request\\n(  +\\d+ ns  .+\\n)+  top functions \\(self time\\):\\n(  +\\d+ ns    .+\\n){3}$`,
          "m",
        ),
      );
    }
  }
  assertMatch(stdout, /^ +\d+ ns {2}the server's own code$/m);
});
