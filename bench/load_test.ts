// Copyright 2026 the netkit authors. MIT license.

// A smoke test of the load tool against in-process netkit echo servers: every
// echoed byte is verified, in each framing. No speed is asserted.

import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  type Codec,
  lengthPrefixed,
  lines,
  raw,
  serve,
  type Server,
} from "../mod.ts";
import { frameLength, type Framing, main, runLoad } from "./load.ts";

function echoServer(codec: Codec<Uint8Array>): Server<Uint8Array> {
  return serve({ port: 0, codec }, async (conn) => {
    for await (const message of conn) await conn.send(message);
  });
}

function portOf(server: Server<Uint8Array>): number {
  const addr = server.addr;
  assert(addr.transport === "tcp");
  return addr.port;
}

const FRAMINGS: Array<[Framing, () => Codec<Uint8Array>]> = [
  ["length", () => lengthPrefixed()],
  ["lines", () => lines()],
  ["raw", () => raw()],
];

for (const [framing, codec] of FRAMINGS) {
  Deno.test(`runLoad() verifies every echoed byte with ${framing} framing`, async () => {
    await using server = echoServer(codec());
    const messages = 300;
    const size = 100;
    const result = await runLoad({
      port: portOf(server),
      connections: 3,
      pipeline: 8,
      size,
      framing,
      messages,
      timeout: 20,
    });
    assertEquals(result.errorMessages, []);
    assertEquals(result.errors, 0);
    assertEquals(result.mismatches, 0);
    assertEquals(result.messages, messages);
    assertEquals(result.verifiedMessages, messages);
    assertEquals(result.verifiedBytes, messages * frameLength(framing, size));
    assertEquals(result.bytes, messages * size);
    assertEquals(result.latency.count, Math.ceil(messages / 8));
    assert(result.messagesPerSecond > 0);
    assert(result.latency.p50 <= result.latency.p99);
    assert(result.latency.p99 <= result.latency.max);
  });
}

Deno.test("runLoad() verifies payloads shorter than the counter and larger than a read", async () => {
  await using server = echoServer(lengthPrefixed());
  for (const size of [1, 7, 70_000]) {
    const result = await runLoad({
      port: portOf(server),
      connections: 2,
      pipeline: 3,
      size,
      messages: 20,
      timeout: 20,
    });
    assertEquals(result.errors, 0, `size ${size}: ${result.errorMessages}`);
    assertEquals(result.verifiedBytes, 20 * (size + 4));
  }
});

Deno.test("runLoad() reports a mismatch when the server corrupts one byte", async () => {
  let count = 0;
  await using server = serve(
    { port: 0, codec: lengthPrefixed() },
    async (conn) => {
      for await (const message of conn) {
        // The 50th message comes back with its last byte changed.
        if (++count === 50) message[message.length - 1]! ^= 0x01;
        await conn.send(message);
      }
    },
  );
  const result = await runLoad({
    port: portOf(server),
    connections: 1,
    pipeline: 4,
    size: 32,
    messages: 200,
    timeout: 20,
  });
  assertEquals(result.mismatches, 1);
  assertEquals(result.errors, 1);
  assertMatch(
    result.errorMessages[0]!,
    /differs from what was sent in message 49, byte 35 of its frame \(sent \d+, received \d+\)$/,
  );
  assert(result.verifiedMessages < 200);
});

Deno.test("runLoad() reports a mismatch when the server swaps two messages", async () => {
  await using server = serve(
    { port: 0, codec: lengthPrefixed() },
    async (conn) => {
      let held: Uint8Array | null = null;
      for await (const message of conn) {
        if (held === null) {
          held = message;
          continue;
        }
        await conn.send(message);
        await conn.send(held);
        held = null;
      }
    },
  );
  const result = await runLoad({
    port: portOf(server),
    pipeline: 2,
    size: 16,
    messages: 10,
    timeout: 20,
  });
  assertEquals(result.mismatches, 1);
  assertEquals(result.verifiedMessages, 0);
});

Deno.test("runLoad() reports an error when the server hangs up", async () => {
  await using server = serve(
    { port: 0, codec: lengthPrefixed() },
    async (conn) => {
      await conn.receive();
    },
  );
  const result = await runLoad({
    port: portOf(server),
    messages: 10,
    timeout: 20,
  });
  assertEquals(result.mismatches, 0);
  assertEquals(result.errors, 1);
  assertMatch(
    result.errorMessages[0]!,
    /server closed after 0 of 68 reply bytes/,
  );
});

Deno.test("runLoad() stops at its time bound when the server never replies", async () => {
  await using server = serve(
    { port: 0, codec: lengthPrefixed() },
    async (conn) => {
      for await (const _ of conn) {
        // Swallow everything.
      }
    },
  );
  const started = performance.now();
  const result = await runLoad({
    port: portOf(server),
    messages: 10,
    timeout: 0.3,
  });
  assert(performance.now() - started < 10_000);
  assertEquals(result.errors, 1);
  assertEquals(result.messages, 0);
  assertMatch(result.errorMessages[0]!, /time bound of 0.3 s/);
});

Deno.test("runLoad() runs for a duration after a warm-up", async () => {
  await using server = echoServer(lengthPrefixed());
  const result = await runLoad({
    port: portOf(server),
    connections: 2,
    pipeline: 4,
    size: 64,
    duration: 0.2,
    warmup: 0.1,
    timeout: 20,
  });
  assertEquals(result.errors, 0);
  assert(result.messages > 0);
  assert(result.verifiedMessages > result.messages, "warm-up not verified");
  assert(result.seconds >= 0.15 && result.seconds < 5, `${result.seconds} s`);
  assert(result.clientCpu !== null);
});

Deno.test("runLoad() rejects options out of range", async () => {
  for (
    const bad of [
      { port: 1, connections: 0 },
      { port: 1, pipeline: 1.5 },
      { port: 1, size: 0 },
      { port: 1, duration: -1 },
      { port: 1, framing: "udp" as Framing },
    ]
  ) {
    let error: unknown;
    try {
      await runLoad(bad);
    } catch (err) {
      error = err;
    }
    assert(error instanceof RangeError, JSON.stringify(bad));
  }
});

Deno.test("main() exits 2 on a usage error and 1 when echoes fail", async () => {
  const errors: string[] = [];
  const logs: string[] = [];
  const { error, log } = console;
  console.error = (...a: unknown[]) => void errors.push(a.join(" "));
  console.log = (...a: unknown[]) => void logs.push(a.join(" "));
  try {
    assertEquals(await main(["--port", "1", "--framing", "udp"]), 2);
    assertMatch(errors.pop()!, /--framing must be one of length, lines, raw/);
    {
      await using server = echoServer(lengthPrefixed());
      const args = ["--port", String(portOf(server)), "--messages", "50"];
      assertEquals(await main([...args, "--no-progress", "--json"]), 0);
      assertEquals(JSON.parse(logs.pop()!).messages, 50);
    }
    {
      await using server = serve({ port: 0 }, async (conn) => {
        await conn.receive();
      });
      const args = ["--port", String(portOf(server)), "--messages", "5"];
      assertEquals(await main([...args, "--no-progress"]), 1);
      assertMatch(logs.pop()!, /errors {6}1/);
    }
  } finally {
    console.error = error;
    console.log = log;
  }
});
