// Copyright 2026 the netkit authors. MIT license.

// The RESP client against a real redis-server (installed by .ci/run; its
// absence fails these tests): every reply type, pipelining, error replies
// as values, the end of the connection; and its program's output next to
// redis-cli's.

import {
  assertEquals,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import { ConnectionClosedError } from "../mod.ts";
import { startRedisServer } from "../bench/_redis_tools.ts";
import { formatReply, RedisClient, RespError } from "./redis_client.ts";

const enc = new TextEncoder();
const text = (v: unknown) => new TextDecoder().decode(v as Uint8Array);

Deno.test("RedisClient gets every RESP2 reply type from redis-server", async () => {
  await using redis = await startRedisServer();
  await using client = await RedisClient.connect({ port: redis.port });
  assertEquals(await client.command("SET", "k", "v"), "OK"); // simple
  const max = Number.MAX_SAFE_INTEGER;
  assertEquals(await client.command("INCRBY", "n", max), max); // integer
  assertEquals(await client.command("INCRBY", "n", 2n), 9007199254740993n); // past 2^53
  assertEquals(text(await client.command("GET", "k")), "v"); // bulk
  assertEquals(await client.command("GET", "nope"), null); // nil
  assertEquals(await client.command("KEYS", "nothing*"), []); // empty array
  assertEquals(await client.command("BLPOP", "list", "0.01"), null); // nil array
  const mget = await client.command("MGET", "k", "nope");
  assertEquals(mget, [enc.encode("v"), null]); // array
  const scan = await client.command("SCAN", "0", "MATCH", "k");
  assertEquals(scan, [enc.encode("0"), [enc.encode("k")]]); // nested
  const err = await client.command("INCR", "k"); // an error, as a value
  assertInstanceOf(err, RespError);
  assertEquals(err.code, "ERR");
  assertEquals(err.message, "ERR value is not an integer or out of range");
  assertEquals(await client.command("PING"), "PONG"); // and on it goes
});

Deno.test("RedisClient round-trips any bytes, and values larger than a read", async () => {
  await using redis = await startRedisServer();
  await using client = await RedisClient.connect({ port: redis.port });
  const odd = new Uint8Array([0, 13, 10, 0xff, 0xc3, 0x28, 36, 42]);
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i * 7);
  await client.command("SET", odd, odd);
  await client.command("SET", "big", big);
  assertEquals(await client.command("GET", odd), odd);
  assertEquals(await client.command("GET", "big"), big);
  assertEquals(text(await client.command("ECHO", "h\u00e9llo")), "h\u00e9llo");
});

Deno.test("RedisClient pipelines: 20000 commands, each reply to its own command", async () => {
  await using redis = await startRedisServer();
  await using client = await RedisClient.connect({ port: redis.port });
  const n = 20_000;
  const commands = Array.from(
    { length: n },
    (_, i) =>
      i % 2 === 0 ? ["SET", `key:${i}`, String(i)] : ["INCR", `key:${i - 1}`],
  );
  const replies = await client.pipeline(commands);
  replies.forEach((r, i) => assertEquals(r, i % 2 === 0 ? "OK" : i));
  // Commands sent without awaiting go out together, replies in order:
  // the server reads them in a few reads, not a thousand.
  const stat = async (name: string) => {
    const info = text(await client.command("INFO", "stats"));
    return Number(info.match(new RegExp(`${name}:(\\d+)`))![1]);
  };
  const reads = await stat("total_reads_processed");
  const many = Array.from(
    { length: 1000 },
    (_, i) => client.command("GET", `key:${2 * i}`),
  );
  (await Promise.all(many)).forEach((r, i) =>
    assertEquals(text(r), String(2 * i + 1))
  );
  assertLess(await stat("total_reads_processed") - reads, 20);
  const processed = await stat("total_commands_processed");
  assertEquals(processed, n + 1000 + 3); // and start-up's PING, two INFO
});

Deno.test("RedisClient rejects the commands waiting when the server closes, and those after", async () => {
  await using redis = await startRedisServer();
  const client = await RedisClient.connect({ port: redis.port });
  const [quit, after] = [client.command("QUIT"), client.command("PING")];
  assertEquals(await quit, "OK");
  await assertRejects(() => after, ConnectionClosedError);
  await assertRejects(() => client.command("PING"), ConnectionClosedError);
  await client.close();
});

Deno.test("RedisClient rejects a reply that no command awaits", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    await conn.write(enc.encode("+HELLO\r\n")); // unasked for
    const buf = new Uint8Array(64);
    while (await conn.read(buf) !== null) { /* until the client closes */ }
    conn.close();
  })();
  const client = await RedisClient.connect({ port: listener.addr.port });
  await new Promise((r) => setTimeout(r, 100));
  const err = await assertRejects(() => client.command("PING"));
  assertEquals(
    (err as Error).message,
    "Cannot match a reply: no command awaits one",
  );
  await client.close().catch(() => {});
  await serving;
});

Deno.test("examples/redis_client.ts prints replies as redis-cli --no-raw does", async () => {
  await using redis = await startRedisServer();
  const run = async (cmd: string, args: string[]) => {
    const out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout);
  };
  const port = String(redis.port);
  await run("redis-cli", [
    "-p",
    port,
    "MSET",
    "a",
    "1",
    "b",
    'two "words"\n\u00e9\x01',
  ]);
  // Commands that change nothing: each runs twice.
  const commands = [
    ["GET", "b"],
    ["MGET", "a", "b", "nope"],
    ["EXISTS", "a", "b"],
    ["INCR", "b"],
    ["SCAN", "0"],
    ["KEYS", "nothing"],
    ["HELLO", "2", "SETNAME", "me"],
    ["COMMAND", "INFO", "get"],
  ];
  for (const args of commands) {
    const want = await run("redis-cli", ["--no-raw", "-p", port, ...args]);
    const got = await run(Deno.execPath(), [
      "run",
      "--import-map=offline/import_map.json",
      "-N",
      "examples/redis_client.ts",
      "--port",
      port,
      ...args,
    ]);
    // HELLO's client id differs from connection to connection.
    const id = (s: string) => s.replace(/\(integer\) \d+\n 9\)/, "ID\n 9)");
    assertEquals(id(got), id(want), args.join(" "));
  }
  assertStrictEquals(formatReply([]), "(empty array)\n");
});
