// Copyright 2026 the netkit authors. MIT license.

// examples/redis.ts next to a real redis-server (Debian's, 7.0): the same
// request bytes to both, the reply bytes compared exactly; redis-cli and
// redis-benchmark driving the example; the protocol limits over sockets.
// No redis-server, redis-cli or redis-benchmark is a failure: .ci/run
// installs them.
//
// The protocol errors run both on the example and on its codec and
// sessions over raw sockets and a ReadBuffer (serveOnReadBuffer below).

import {
  assert,
  assertEquals,
  assertGreater,
  assertLess,
  assertMatch,
} from "@std/assert";
import {
  exchange,
  redisBenchmark,
  type RunningServer,
  startDenoServer,
  startRedisServer,
} from "./bench/_redis_tools.ts";
import { ByteBuffer } from "./codec/byte_buffer.ts";
import { nextFrame } from "./codec/decoder.ts";
import { NEED_MORE, ReadBuffer } from "./codec/read_buffer.ts";
import { Database, DEFAULT_CONFIG, Session } from "./examples/redis.ts";
import {
  latin1,
  RespError,
  RespProtocolError,
  respServer,
} from "./examples/resp.ts";

const decoder = new TextDecoder();

/** A command as an array of bulk strings (strings are one byte per char). */
const cmd = (...args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join("")}`;

/** The end of every script: its reply says all before it was answered. */
const END = cmd("ECHO", "<<end>>");
const END_REPLY = "$7\r\n<<end>>\r\n";

/** HELLO's client id differs from server to server. */
const normalize = (s: string) =>
  s.replace(/\$2\r\nid\r\n:\d+\r\n/g, "$2\r\nid\r\n:ID\r\n");

/** The same requests as redis-server gets them, one connection each. */
const SCRIPTS: Array<[string, string]> = [
  [
    "PING and ECHO",
    [
      cmd("PING"),
      cmd("ping", "hello"),
      cmd("PING", "a", "b"),
      cmd("ECHO"),
      cmd("ECHO", ""),
      cmd("echo", "\0\r\n\xff"),
      cmd("ECHO", "a", "b"),
    ].join(""),
  ],
  [
    "unknown commands",
    [
      cmd("FOO"),
      cmd("foo", "bar", "baz"),
      cmd("x".repeat(200), "y".repeat(100), "z".repeat(100), "w"),
      cmd("nope\0hidden", "a\r\nb", "c\0d", "\xe9"),
      cmd(""),
    ].join(""),
  ],
  [
    "GET, SET and its options",
    [
      cmd("GET", "k"),
      cmd("SET", "k", "v"),
      cmd("GET", "k"),
      cmd("SET", "k"),
      cmd("GET"),
      cmd("GET", "a", "b"),
      cmd("SET", "k", "w", "NX"),
      cmd("SET", "k", "w", "XX"),
      cmd("SET", "j", "w", "XX"),
      cmd("SET", "k", "x", "GET"),
      cmd("SET", "new", "x", "GET"),
      cmd("SET", "k", "y", "NX", "GET"),
      cmd("SET", "k", "y", "nx", "xx"),
      cmd("SET", "k", "y", "EX", "100"),
      cmd("TTL", "k"),
      cmd("SET", "k", "z", "KEEPTTL"),
      cmd("TTL", "k"),
      cmd("SET", "k", "z", "PX", "100000"),
      cmd("TTL", "k"),
      cmd("SET", "k", "z"),
      cmd("TTL", "k"),
      cmd("SET", "k", "z", "EX", "0"),
      cmd("SET", "k", "z", "EX", "-1"),
      cmd("SET", "k", "z", "EX", "x"),
      cmd("SET", "k", "z", "EX", "1.5"),
      cmd("SET", "k", "z", "EX", "9223372036854776"),
      cmd("SET", "k", "z", "PX", "9223372036854775807"),
      cmd("SET", "k", "z", "EX"),
      cmd("SET", "k", "z", "EX", "10", "PX", "10"),
      cmd("SET", "k", "z", "KEEPTTL", "EX", "10"),
      cmd("SET", "k", "z", "EX", "10", "EX", "20"),
      cmd("TTL", "k"),
      cmd("SET", "k", "z", "EXAT", "1"),
      cmd("GET", "k"),
      cmd("SET", "k", "z", "PXAT", "9223372036854775807"),
      cmd("SET", "k", "z", "BOGUS"),
      cmd("SET", "k", "z", "GET", "GET"),
    ].join(""),
  ],
  [
    "DEL, EXISTS, MGET, MSET, DBSIZE",
    [
      cmd("MSET", "a", "1", "b", "2", "c", "3"),
      cmd("MSET", "a", "1", "b"),
      cmd("MSET"),
      cmd("MGET", "a", "nope", "c", "a"),
      cmd("EXISTS", "a", "a", "nope", "b"),
      cmd("DBSIZE"),
      cmd("DBSIZE", "x"),
      cmd("DEL", "a", "a", "nope", "b"),
      cmd("DEL"),
      cmd("EXISTS"),
      cmd("MGET"),
      cmd("DBSIZE"),
    ].join(""),
  ],
  [
    "INCR, DECR, INCRBY, DECRBY",
    [
      cmd("INCR", "n"),
      cmd("INCRBY", "n", "41"),
      cmd("DECR", "n"),
      cmd("DECRBY", "n", "-10"),
      cmd("INCRBY", "n", "x"),
      cmd("INCRBY", "n"),
      cmd("INCR", "n", "m"),
      cmd("SET", "s", "abc"),
      cmd("INCR", "s"),
      cmd("SET", "s", " 1"),
      cmd("INCR", "s"),
      cmd("SET", "s", "007"),
      cmd("INCR", "s"),
      cmd("SET", "big", "9223372036854775806"),
      cmd("INCR", "big"),
      cmd("INCR", "big"),
      cmd("DECRBY", "m", "-9223372036854775808"),
      cmd("DECRBY", "m", "9223372036854775807"),
      cmd("DECR", "m"),
      cmd("DECR", "m"),
      cmd("INCRBY", "m", "9223372036854775808"),
      cmd("GET", "m"),
    ].join(""),
  ],
  [
    "EXPIRE and its options, TTL, PTTL, PERSIST",
    [
      cmd("SET", "k", "v"),
      cmd("TTL", "k"),
      cmd("PTTL", "k"),
      cmd("TTL", "nope"),
      cmd("PTTL", "nope"),
      cmd("EXPIRE", "nope", "10"),
      cmd("EXPIRE", "k", "100", "XX"),
      cmd("EXPIRE", "k", "100", "GT"),
      cmd("EXPIRE", "k", "100", "LT"),
      cmd("TTL", "k"),
      cmd("EXPIRE", "k", "50", "NX"),
      cmd("EXPIRE", "k", "200", "LT"),
      cmd("EXPIRE", "k", "200", "gt"),
      cmd("TTL", "k"),
      cmd("PEXPIRE", "k", "300000", "XX"),
      cmd("TTL", "k"),
      cmd("EXPIRE", "k", "1", "NX", "XX"),
      cmd("EXPIRE", "k", "1", "nx", "gt"),
      cmd("EXPIRE", "k", "1", "GT", "LT"),
      cmd("EXPIRE", "k", "1", "SOON"),
      cmd("EXPIRE", "k", "1", "soon\r\n"),
      cmd("EXPIRE", "k", "x"),
      cmd("EXPIRE", "k"),
      cmd("EXPIRE", "k", "9223372036854776"),
      cmd("EXPIRE", "k", "-9223372036854776"),
      cmd("PEXPIRE", "k", "9223372036854775807"),
      cmd("EXPIREAT", "k", "9223372036854776"),
      cmd("PEXPIREAT", "k", "9223372036854775807"),
      cmd("PERSIST", "k"),
      cmd("PERSIST", "k"),
      cmd("PERSIST", "nope"),
      cmd("TTL", "k"),
      cmd("EXPIRE", "k", "-1"),
      cmd("EXISTS", "k"),
      cmd("SET", "k", "v"),
      cmd("EXPIREAT", "k", "1"),
      cmd("GET", "k"),
      cmd("SET", "k", "v"),
      cmd("PEXPIREAT", "k", "1", "LT"),
      cmd("GET", "k"),
    ].join(""),
  ],
  [
    "SELECT, FLUSHALL, QUIT's arity",
    [
      cmd("SELECT", "0"),
      cmd("SELECT", "1"),
      cmd("SELECT", "-1"),
      cmd("SELECT", "x"),
      cmd("SELECT", "2147483648"),
      cmd("SELECT"),
      cmd("SET", "k", "v"),
      cmd("FLUSHALL", "ASYNC"),
      cmd("FLUSHALL", "sync"),
      cmd("FLUSHALL", "now"),
      cmd("FLUSHALL", "sync", "async"),
      cmd("FLUSHALL"),
      cmd("DBSIZE"),
    ].join(""),
  ],
  [
    "what redis-cli and redis-benchmark send first",
    [
      cmd("HELLO"),
      cmd("HELLO", "2"),
      cmd("HELLO", "4"),
      cmd("HELLO", "1"),
      cmd("HELLO", "x"),
      cmd("HELLO", "2", "AUTH", "default", "secret"),
      cmd("HELLO", "2", "AUTH", "alice", "secret"),
      cmd("HELLO", "2", "AUTH", "default"),
      cmd("HELLO", "2", "SETNAME", "bob"),
      cmd("HELLO", "2", "SETNAME"),
      cmd("HELLO", "2", "BOGUS\r\n"),
      cmd("CLIENT", "GETNAME"),
      cmd("CLIENT", "SETNAME", "a b"),
      cmd("CLIENT", "SETNAME", "\xe9"),
      cmd("CLIENT", "SETNAME", "carol"),
      cmd("CLIENT", "GETNAME"),
      cmd("CLIENT", "SETNAME", ""),
      cmd("CLIENT", "GETNAME"),
      cmd("CLIENT", "SETNAME"),
      cmd("CLIENT", "SETINFO", "lib-name", "netkit"),
      cmd("CLIENT"),
      cmd("client", "nope\r\nx"),
      cmd("CONFIG", "GET", "save"),
      cmd("CONFIG", "GET", "appendonly"),
      cmd("CONFIG", "GET", "SAVE"),
      cmd("CONFIG", "GET", "databases"),
      cmd("CONFIG", "GET", "proto-max-bulk-len"),
      cmd("CONFIG", "GET", "nope"),
      cmd("CONFIG", "GET", "sav*"),
      cmd("CONFIG", "GET", "save", "save"),
      cmd("CONFIG", "GET"),
      cmd("CONFIG"),
      cmd("CONFIG", "nope"),
      cmd("COMMAND", "DOCS", "nope"),
      cmd("COMMAND", "DOCS"),
      cmd("COMMAND", "nope"),
    ].filter((c) => c !== cmd("COMMAND", "DOCS")).join(""),
  ],
  [
    "inline commands",
    [
      "PING\r\n",
      "ping\n",
      "\r\n",
      "\n",
      "   \r\n",
      'ECHO "a b"\r\n',
      'ECHO "\\x41\\x7a\\n\\t\\q"\r\n',
      "ECHO 'it\\'s'\r\n",
      'ECHO ab"cd"\r\n',
      "ECHO a\x0bb\r\n",
      "SET  k   v  \r\n",
      "GET k\r\n",
      "ECHO x\ry\r\n",
      "FOO \xe9\r\n",
    ].join(""),
  ],
  [
    "arrays of zero items and bytes after bulk strings",
    [
      "*0\r\n",
      "*-1\r\n",
      "*-5\r\n",
      "*1\r\n$4\r\nPINGxx",
      "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
    ].join(""),
  ],
  ["QUIT: its reply, then the end", cmd("PING") + cmd("QUIT") + cmd("PING")],
  ["QUIT with arguments", cmd("QUIT", "now", "please") + cmd("PING")],
  ["an HTTP request: no reply", "POST / HTTP/1.1\r\nHost: x\r\n\r\n"],
  ["Host: as a first line", "Host: example.com\r\nPING\r\n"],
];

/** Protocol errors, each after good commands: the error, then the end. */
const PROTOCOL_ERRORS: Array<[string, string]> = [
  ["invalid multibulk length", "*x\r\n"],
  ["multibulk length past 64 bits", "*9223372036854775808\r\n"],
  ["invalid bulk length", "*1\r\n$-1\r\n"],
  ["bulk length of letters", "*2\r\n$4\r\nECHO\r\n$1x\r\n"],
  ["bulk length past proto-max-bulk-len", "*1\r\n$8388609\r\n"],
  ["expected $", "*1\r\nPING\r\n"],
  ["expected $, got CR", "*2\r\n$4\r\nECHO\r\n\r\n"],
  ["expected $, got a high byte", "*1\r\n\xff\r\n"],
  ["unbalanced quotes", 'SET k "v\r\n'],
  ["a closing quote before a letter", "ECHO 'a'b\r\n"],
  ["too big inline request", "x".repeat(70_000)],
  ["too big mbulk count string", "*" + "1".repeat(70_000)],
  ["too big bulk count string", "*1\r\n$" + "1".repeat(70_000)],
];

/**
 * The example's codec and sessions on raw sockets, reading as a netkit
 * connection will once it reads through a ReadBuffer: every whole command
 * of a read answered, a protocol error answered after them, then the end.
 */
function serveOnReadBuffer(): RunningServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const codec = respServer({ borrow: true }); // as examples/redis.ts
  const db = new Database();
  const open = new Map<Deno.Conn, Promise<void>>();
  let ids = 0;
  const serveConn = async (conn: Deno.Conn) => {
    const session = new Session(db, { id: ++ids, config: DEFAULT_CONFIG });
    const decoder = codec.decoder(), encoder = codec.encoder();
    const buf = new ReadBuffer({ limit: decoder.maxBuffered });
    const out = new ByteBuffer();
    try {
      for (let done = false; !done;) {
        const n = await conn.read(buf.space());
        if (n === null) buf.eof = done = true;
        else buf.commit(n);
        try {
          for (
            let c = nextFrame(decoder, buf, false);
            c !== NEED_MORE && !done;
            c = nextFrame(decoder, buf, false)
          ) {
            const reply = session.execute(c);
            if (reply !== undefined) encoder.encodeInto(reply, out);
            done = session.closing;
          }
        } catch (err) {
          if (err instanceof RespProtocolError) {
            encoder.encodeInto(new RespError(`ERR ${err.message}`), out);
          }
          done = true;
        }
        for (let at = 0; at < out.length;) {
          at += await conn.write(out.bytes().subarray(at));
        }
        out.clear();
      }
    } catch {
      // Reset by the peer, or closed by stop().
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // Closed by stop().
      }
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) open.set(conn, serveConn(conn));
  })().catch(() => {});
  return {
    name: "the example's codec and sessions on a ReadBuffer",
    port: listener.addr.port,
    pid: Deno.pid,
    output: () => "",
    async stop() {
      listener.close();
      await accepting;
      const serving = [...open.values()];
      for (const conn of open.keys()) conn.close();
      await Promise.all(serving);
    },
    [Symbol.asyncDispose]() {
      return this.stop();
    },
  };
}

/** Sends a script to a server; its reply as text, and whether it closed. */
async function ask(
  server: RunningServer,
  script: string,
  bytewise = false,
): Promise<string> {
  // A request that looks like HTTP comes first: Redis drops the replies
  // of the commands of its read (FLUSHALL's), the example need not.
  const first = /^(POST|Host:)/.test(script) ? "" : cmd("FLUSHALL");
  // A script that ends the connection is read to its end: what would
  // follow it might end a line it left open.
  const ends = PROTOCOL_ERRORS.some(([, bad]) => script.endsWith(bad));
  const { reply, closed } = await exchange(
    server.port,
    first + script + (ends ? "" : END),
    { until: ends ? undefined : END_REPLY, bytewise },
  );
  return `${normalize(latin1(reply))}${closed ? "<closed>" : ""}`;
}

/** Checks that `target` answers each script exactly as redis-server does. */
async function differential(
  redis: RunningServer,
  target: RunningServer,
  scripts: Array<[string, string]>,
): Promise<void> {
  for (const [name, script] of scripts) {
    const want = await ask(redis, script);
    assertEquals(await ask(target, script), want, `${target.name}: ${name}`);
  }
}

const errorScripts = PROTOCOL_ERRORS.map(([name, bad]): [string, string] => [
  name,
  cmd("PING") + "PING\r\n" + bad,
]);

Deno.test("examples/redis.ts answers as redis-server does, byte for byte", async () => {
  await using redis = await startRedisServer();
  await using example = await startDenoServer("examples/redis.ts");
  await differential(redis, example, SCRIPTS);
});

Deno.test("examples/redis.ts answers a pipeline in one write, and one written a byte at a time, as redis-server does", async () => {
  await using redis = await startRedisServer();
  await using example = await startDenoServer("examples/redis.ts");
  await using onBuffer = serveOnReadBuffer();
  // Every script that does not close the connection, back to back.
  const all = SCRIPTS.filter(([name]) => !/QUIT:|HTTP|Host/.test(name))
    .map(([, s]) => s).join("");
  const want = await ask(redis, all);
  assertGreater(want.length, 3000);
  assertEquals(await ask(example, all), want);
  assertEquals(await ask(onBuffer, all), want);
  // A byte at a time: every command split at every byte, some replies
  // written while the next command is half read.
  const some = SCRIPTS.filter(([name]) => /^(PING|inline|arrays)/.test(name))
    .map(([, s]) => s).join("");
  const wantBytewise = await ask(redis, some, true);
  assertEquals(await ask(example, some, true), wantBytewise);
  assertEquals(await ask(onBuffer, some, true), wantBytewise);
});

Deno.test("the example's codec and sessions on a ReadBuffer answer protocol errors as redis-server does: the error, then the end", async () => {
  await using redis = await startRedisServer();
  await using onBuffer = serveOnReadBuffer();
  await differential(redis, onBuffer, [...SCRIPTS, ...errorScripts]);
  for (const [name, script] of errorScripts) {
    assertMatch(
      await ask(redis, script),
      /^\+OK\r\n\+PONG\r\n\+PONG\r\n-ERR Protocol error: .*\r\n<closed>$/,
      name,
    );
  }
});

Deno.test({
  name:
    "examples/redis.ts answers protocol errors as redis-server does: the error, then the end",
  async fn() {
    await using redis = await startRedisServer();
    await using example = await startDenoServer("examples/redis.ts");
    await differential(redis, example, errorScripts);
  },
});

// ---------------------------------------------------------------------------
// The Redis tools

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function runTool(
  cmd: string[],
  stdin?: Uint8Array,
): Promise<Ran> {
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

const cli = (server: RunningServer, args: string[], stdin?: Uint8Array) =>
  runTool(["redis-cli", "-p", String(server.port), ...args], stdin);

Deno.test("redis-cli gets from examples/redis.ts what it gets from redis-server", async () => {
  await using redis = await startRedisServer();
  await using example = await startDenoServer("examples/redis.ts");
  const commands = [
    ["SET", "greeting", "hello world"],
    ["GET", "greeting"],
    ["--no-raw", "GET", "greeting"],
    ["GET", "nope"],
    ["--no-raw", "MGET", "greeting", "nope"],
    ["INCR", "counter"],
    ["--no-raw", "INCRBY", "counter", "41"],
    ["EXPIRE", "greeting", "100"],
    ["TTL", "greeting"],
    ["SET", "k", "v", "BOGUS"],
    ["--no-raw", "NOPE", "x"],
    ["--no-raw", "CONFIG", "GET", "appendonly"],
    ["-n", "0", "PING"],
    ["-n", "3", "PING"],
    ["--no-raw", "HELLO", "3"].filter(() => false), // RESP3: not here
    ["DEL", "greeting", "counter", "k"],
  ].filter((c) => c.length > 0);
  for (const args of commands) {
    const want = await cli(redis, args);
    assertEquals(await cli(example, args), want, args.join(" "));
  }
  // With no command, redis-cli reads commands from stdin, after asking
  // for COMMAND DOCS (its help).
  const stdin = new TextEncoder().encode(
    'SET a 1\nINCR a\nGET a\nECHO "two words"\nPING\nFOO\n',
  );
  const want = await cli(redis, [], stdin);
  assertEquals(
    want.stdout,
    "OK\n2\n2\ntwo words\nPONG\nERR unknown command 'FOO', with args beginning with: \n\n",
  );
  assertEquals(await cli(example, [], stdin), want);
});

Deno.test("redis-cli --pipe inserts 20000 keys into examples/redis.ts without an error", async () => {
  await using redis = await startRedisServer();
  await using example = await startDenoServer("examples/redis.ts");
  const out = new ByteBuffer();
  const enc = new TextEncoder();
  for (let i = 0; i < 20_000; i++) {
    out.append(enc.encode(
      i % 10 === 9
        ? `SET key:${i} "inline value ${i}"\r\n`
        : cmd("SET", `key:${i}`, `value ${i}`),
    ));
  }
  out.append(enc.encode(cmd("INCRBY", "total", "20000")));
  const data = out.bytes().slice();
  for (const server of [example, redis]) {
    const piped = await cli(server, ["--pipe"], data);
    assertEquals(piped.code, 0, piped.stderr);
    assertMatch(piped.stdout, /errors: 0, replies: 20001\s*$/, server.name);
    assertEquals((await cli(server, ["DBSIZE"])).stdout, "20001\n");
    assertEquals(
      (await cli(server, ["MGET", "key:0", "key:19999", "total"])).stdout,
      "value 0\ninline value 19999\n20000\n",
    );
  }
});

Deno.test("redis-benchmark runs ping, set and get on examples/redis.ts without an error reply", async () => {
  await using example = await startDenoServer("examples/redis.ts");
  for (const pipeline of [1, 16]) {
    const r = await redisBenchmark(example.port, {
      tests: "ping,set,get",
      clients: 20,
      pipeline,
      requests: 4000,
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stderr.includes("Error"), false, r.stderr);
    assertEquals([...r.rps.keys()], [
      "PING_INLINE",
      "PING_MBULK",
      "SET",
      "GET",
    ]);
    for (const rps of r.rps.values()) assertGreater(rps, 0);
  }
  // Its SETs landed: key:__rand_int__ holds its three-byte value.
  const { reply } = await exchange(example.port, "GET key:__rand_int__\r\n", {
    until: "VXK\r\n",
  });
  assertEquals(latin1(reply), "$3\r\nVXK\r\n");
});

Deno.test("redis-benchmark exits 1 on an error reply, which the test above relies on", async () => {
  await using redis = await startRedisServer({
    args: ["--rename-command", "GET", ""],
  });
  const r = await redisBenchmark(redis.port, {
    tests: "get",
    clients: 1,
    pipeline: 1,
    requests: 10,
  });
  assertEquals(r.code, 1);
  assertMatch(r.stderr, /Error from server: ERR unknown command 'GET'/);
});

// ---------------------------------------------------------------------------
// Memory

/** A process's resident memory, from `ps` (the tests may run processes). */
async function rssKiB(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
  }).output();
  const kib = Number(decoder.decode(out.stdout).trim());
  assert(out.success && kib > 0, `No RSS for process ${pid}`);
  return kib;
}

Deno.test("examples/redis.ts takes no memory for lengths clients claim, only for bytes they send", async () => {
  await using example = await startDenoServer("examples/redis.ts");
  const clients: Deno.Conn[] = [];
  try {
    // Warm up, then measure: 200 clients each claim an 8 MiB argument (1.6
    // GB if taken at their word) and send 1000 bytes of it.
    await exchange(example.port, cmd("PING"), { until: "+PONG\r\n" });
    const before = await rssKiB(example.pid);
    const claim = new TextEncoder().encode(
      "*2\r\n$3\r\nSET\r\n$8388608\r\n" + "v".repeat(1000),
    );
    for (let i = 0; i < 200; i++) {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: example.port,
      });
      clients.push(conn);
      await conn.write(claim);
    }
    await exchange(example.port, cmd("PING"), { until: "+PONG\r\n" });
    await new Promise((r) => setTimeout(r, 300));
    const grown = await rssKiB(example.pid) - before;
    assertLess(grown, 60 * 1024, `RSS grew by ${grown} KiB`);
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("examples/redis.ts holds at most 64 KiB of a line that does not end, whatever a client sends", async () => {
  await using example = await startDenoServer("examples/redis.ts");
  const before = await rssKiB(example.pid);
  const junk = new Uint8Array(16 * 1024 * 1024).fill(0x78);
  const sent = await Promise.all(
    Array.from(
      { length: 10 },
      () => exchange(example.port, junk, { timeout: 20_000 }),
    ),
  );
  for (const { reply, closed } of sent) {
    assert(closed);
    assertEquals(
      latin1(reply),
      "-ERR Protocol error: too big inline request\r\n",
    );
  }
  const grown = await rssKiB(example.pid) - before;
  assertLess(grown, 60 * 1024, `RSS grew by ${grown} KiB`);
  // And it serves the next client.
  const { reply } = await exchange(example.port, "PING\r\n", {
    until: "+PONG\r\n",
  });
  assertEquals(decoder.decode(reply), "+PONG\r\n");
});
