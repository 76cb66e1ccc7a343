// Copyright 2026 the netkit authors. MIT license.

// The command engine of examples/redis.ts without sockets, on a clock the
// tests move: what depends on time (expiry, TTL) and on the session. What
// the replies look like next to redis-server's is redis_interop_test.ts.

import { assertEquals, assertInstanceOf } from "@std/assert";
import { Database, REDIS_VERSION, Session } from "./redis.ts";
import {
  BulkString,
  latin1,
  RespCommand,
  RespError,
  type RespValue,
} from "./resp.ts";

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Replies as plain data: bulk strings as text, errors as `-text`. */
function plain(v: RespValue | undefined): unknown {
  if (v instanceof Uint8Array) return latin1(v);
  if (v instanceof BulkString) return v.text;
  if (v instanceof RespError) return `-${v.message}`;
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/** A database on a clock at `clock.now`, and a session on it. */
function setup(id = 1) {
  const clock = { now: 1_700_000_000_000 };
  const db = new Database({ now: () => clock.now });
  const session = new Session(db, { id });
  const run = (...words: string[]) =>
    plain(session.execute(RespCommand.from(words.map(bytes))));
  return { clock, db, session, run };
}

Deno.test("Session SET with EX, PX, EXAT and PXAT expires the key when its time has passed", () => {
  const { clock, run } = setup();
  const t = clock.now;
  assertEquals(run("SET", "ex", "v", "EX", "10"), "OK");
  assertEquals(run("SET", "px", "v", "PX", "1500"), "OK");
  assertEquals(run("SET", "exat", "v", "EXAT", String(t / 1000 + 20)), "OK");
  assertEquals(run("SET", "pxat", "v", "PXAT", String(t + 2500)), "OK");
  assertEquals(run("PTTL", "px"), 1500);
  assertEquals(run("TTL", "px"), 2); // rounded, as Redis rounds
  assertEquals(run("PTTL", "exat"), 20_000);
  clock.now = t + 1500;
  assertEquals(run("GET", "px"), "v"); // expired only once past its time
  clock.now = t + 1501;
  assertEquals(run("GET", "px"), null);
  assertEquals(run("TTL", "px"), -2);
  assertEquals(run("PTTL", "pxat"), 999);
  assertEquals(run("TTL", "pxat"), 1);
  clock.now = t + 10_001;
  assertEquals(run("MGET", "ex", "exat", "pxat"), [null, "v", null]);
  assertEquals(run("EXISTS", "ex", "exat"), 1);
  assertEquals(run("SET", "past", "v", "PXAT", "1"), "OK");
  assertEquals(run("GET", "past"), null);
});

Deno.test("Session SET keeps the expiry only with KEEPTTL; INCR keeps it", () => {
  const { run } = setup();
  run("SET", "k", "1", "EX", "100");
  assertEquals(run("SET", "k", "2", "KEEPTTL"), "OK");
  assertEquals(run("TTL", "k"), 100);
  assertEquals(run("INCR", "k"), 3);
  assertEquals(run("TTL", "k"), 100);
  assertEquals(run("SET", "k", "4"), "OK");
  assertEquals(run("TTL", "k"), -1);
  run("SET", "k", "4", "PX", "100");
  run("MSET", "k", "5");
  assertEquals(run("PTTL", "k"), -1);
});

Deno.test("Session SET NX, XX and GET reply and write as Redis does", () => {
  const { run } = setup();
  assertEquals(run("SET", "k", "a", "XX"), null);
  assertEquals(run("SET", "k", "a", "XX", "GET"), null);
  assertEquals(run("GET", "k"), null);
  assertEquals(run("SET", "k", "a", "NX", "GET"), null);
  assertEquals(run("SET", "k", "b", "NX", "GET"), "a");
  assertEquals(run("SET", "k", "c", "xx", "get"), "a");
  assertEquals(
    run("SET", "k", "d", "GET", "EX", "0"),
    "-ERR invalid expire time in 'set' command",
  );
  assertEquals(run("GET", "k"), "c");
  assertEquals(run("SET", "k", "d", "EX", "10", "EX", "20"), "OK"); // the last one counts
  assertEquals(run("TTL", "k"), 20);
  assertEquals(run("SET", "k", "d", "NX", "XX"), "-ERR syntax error");
  assertEquals(
    run("SET", "k", "d", "EX", "10", "PX", "10"),
    "-ERR syntax error",
  );
  assertEquals(run("SET", "k", "d", "KEEPTTL", "EX", "1"), "-ERR syntax error");
  assertEquals(run("SET", "k", "d", "EX"), "-ERR syntax error");
  assertEquals(
    run("SET", "k", "d", "EX", "x"),
    "-ERR value is not an integer or out of range",
  );
  assertEquals(
    run("SET", "k", "d", "EX", "9223372036854776"),
    "-ERR invalid expire time in 'set' command",
  );
  assertEquals(
    run("SET", "k", "d", "PX", "9223372036854775807"),
    "-ERR invalid expire time in 'set' command",
  );
  assertEquals(run("SET", "k", "d", "PXAT", "9223372036854775807"), "OK");
});

Deno.test("Session EXPIRE with NX, XX, GT and LT compares with the current expiry", () => {
  const { clock, run } = setup();
  run("SET", "k", "v");
  assertEquals(run("EXPIRE", "k", "100", "XX"), 0); // no expiry to replace
  assertEquals(run("EXPIRE", "k", "100", "GT"), 0); // none counts as infinite
  assertEquals(run("EXPIRE", "k", "100", "LT"), 1);
  assertEquals(run("EXPIRE", "k", "50", "NX"), 0);
  assertEquals(run("EXPIRE", "k", "200", "LT"), 0);
  assertEquals(run("EXPIRE", "k", "200", "GT"), 1);
  assertEquals(run("TTL", "k"), 200);
  assertEquals(run("PEXPIRE", "k", "5000", "xx"), 1);
  assertEquals(run("PTTL", "k"), 5000);
  assertEquals(run("EXPIREAT", "k", String(clock.now / 1000 + 7)), 1);
  assertEquals(run("PEXPIREAT", "k", String(clock.now + 8000), "GT"), 1);
  assertEquals(run("PTTL", "k"), 8000);
  assertEquals(run("PERSIST", "k"), 1);
  assertEquals(run("PERSIST", "k"), 0);
  assertEquals(run("EXPIRE", "nope", "10"), 0);
  assertEquals(run("EXPIRE", "k", "0"), 1); // a time past deletes the key
  assertEquals(run("EXISTS", "k"), 0);
  assertEquals(
    run("EXPIRE", "k", "9223372036854776"),
    "-ERR invalid expire time in 'expire' command",
  );
  assertEquals(
    run("PEXPIRE", "k", "9223372036854775807"),
    "-ERR invalid expire time in 'pexpire' command",
  );
  assertEquals(
    run("EXPIRE", "k", "1", "NX", "GT"),
    "-ERR NX and XX, GT or LT options at the same time are not compatible",
  );
  assertEquals(
    run("EXPIRE", "k", "1", "GT", "LT"),
    "-ERR GT and LT options at the same time are not compatible",
  );
  assertEquals(
    run("EXPIRE", "k", "1", "soon\r\n"),
    "-ERR Unsupported option soon",
  );
  assertEquals(
    run("EXPIRE", "k", "1", "a\rb\0c"),
    "-ERR Unsupported option a b",
  );
});

Deno.test("Session INCRBY and DECRBY stay within 64 bits, and refuse what is not an integer", () => {
  const { run } = setup();
  assertEquals(run("SET", "n", "9223372036854775806"), "OK");
  assertEquals(run("INCR", "n"), 9223372036854775807n);
  assertEquals(run("INCR", "n"), "-ERR increment or decrement would overflow");
  assertEquals(
    run("DECRBY", "n", "-1"),
    "-ERR increment or decrement would overflow",
  );
  assertEquals(run("INCRBY", "n", "-9223372036854775807"), 0);
  assertEquals(
    run("DECRBY", "n", "9223372036854775807"),
    -9223372036854775807n,
  );
  assertEquals(run("DECR", "n"), -9223372036854775808n);
  assertEquals(run("DECR", "n"), "-ERR increment or decrement would overflow");
  assertEquals(
    run("DECRBY", "m", "-9223372036854775808"),
    "-ERR decrement would overflow",
  );
  assertEquals(run("GET", "n"), "-9223372036854775808");
  for (const bad of [" 1", "01", "1.0", "", "9223372036854775808", "abc"]) {
    run("SET", "s", bad);
    assertEquals(
      run("INCR", "s"),
      "-ERR value is not an integer or out of range",
      bad,
    );
  }
  assertEquals(
    run("INCRBY", "x", "1e3"),
    "-ERR value is not an integer or out of range",
  );
  assertEquals(run("DECR", "fresh"), -1);
});

Deno.test("Session keys are bytes: keys that differ in any byte are different keys", () => {
  const { session } = setup();
  const run = (...args: Uint8Array[]) =>
    plain(session.execute(RespCommand.from(args)));
  const set = bytes("SET"), get = bytes("GET");
  run(set, new Uint8Array([0xff]), bytes("a"));
  run(set, new Uint8Array([0xfe]), bytes("b"));
  run(set, new Uint8Array([0xc3, 0xa9]), bytes("c"));
  assertEquals(run(get, new Uint8Array([0xff])), "a");
  assertEquals(run(get, new Uint8Array([0xfe])), "b");
  assertEquals(run(get, bytes("\u00e9")), null); // one byte, not two
  assertEquals(run(bytes("DBSIZE")), 3);
});

Deno.test("Session per connection: HELLO and CLIENT report its id and name", () => {
  const { db } = setup();
  const a = new Session(db, { id: 7 }), b = new Session(db, { id: 8 });
  const run = (s: Session, ...w: string[]) =>
    plain(s.execute(RespCommand.from(w.map(bytes))));
  assertEquals(run(a, "HELLO", "2", "SETNAME", "alice"), [
    "server",
    "redis",
    "version",
    REDIS_VERSION,
    "proto",
    2,
    "id",
    7,
    "mode",
    "standalone",
    "role",
    "master",
    "modules",
    [],
  ]);
  assertEquals(run(a, "CLIENT", "GETNAME"), "alice");
  assertEquals(run(b, "CLIENT", "GETNAME"), null);
  assertEquals(run(b, "CLIENT", "ID"), 8);
  assertEquals(run(a, "CLIENT", "SETNAME", ""), "OK");
  assertEquals(run(a, "CLIENT", "GETNAME"), null);
  assertEquals(run(a, "HELLO", "3"), "-NOPROTO unsupported protocol version");
  assertEquals(run(a, "HELLO", "2", "AUTH", "default", "any"), run(a, "HELLO"));
});

Deno.test("Session closes on QUIT after its reply, and without one on an HTTP request", () => {
  const quit = setup();
  assertEquals(quit.run("QUIT", "now"), "OK");
  assertEquals(quit.session.closing, true);
  for (const first of ["POST", "Host:", "host:"]) {
    const http = setup();
    assertEquals(
      http.session.execute(RespCommand.from([bytes(first), bytes("/")])),
      undefined,
    );
    assertEquals(http.session.closing, true);
  }
  const get = setup();
  assertInstanceOf(
    get.session.execute(RespCommand.from([bytes("GET")])),
    RespError,
  );
  assertEquals(get.session.closing, false);
});

Deno.test("Session refuses unknown commands and subcommands with Redis' texts", () => {
  const { run } = setup();
  assertEquals(
    run("x".repeat(130), "y".repeat(100), "z".repeat(100), "w"),
    `-ERR unknown command '${"x".repeat(128)}', with args beginning with: '${
      "y".repeat(100)
    }' '${"z".repeat(25)}' `,
  );
  assertEquals(
    run("nope\0hidden", "a\nb"),
    "-ERR unknown command 'nope', with args beginning with: 'a b' ",
  );
  assertEquals(
    run("Client", "kill-all"),
    "-ERR unknown subcommand 'kill-all'. Try CLIENT HELP.",
  );
  assertEquals(
    run("config"),
    "-ERR wrong number of arguments for 'config' command",
  );
  assertEquals(
    run("CONFIG", "GET"),
    "-ERR wrong number of arguments for 'config|get' command",
  );
  assertEquals(
    run("MSET", "a", "1", "b"),
    "-ERR wrong number of arguments for 'mset' command",
  );
  assertEquals(run("SELECT", "1"), "-ERR DB index is out of range");
  assertEquals(
    run("SELECT", "2147483648"),
    "-ERR value is out of range, value must between -2147483648 and 2147483647",
  );
});

Deno.test("Session finds a command by its name in any case, and nothing else", () => {
  const { run } = setup();
  assertEquals(run("sEt", "k", "v"), "OK");
  assertEquals(run("GeT", "k"), "v");
  // Same length and first letter as commands, and a byte past "z" & 31.
  for (const name of ["GEX", "gett", "ge", "PINX", "\x7et", "G\u00c5T", ""]) {
    assertEquals(
      run(name, "k"),
      `-ERR unknown command '${name}', with args beginning with: 'k' `,
    );
  }
  assertEquals(run("COMMAND", "COUNT"), 27);
  assertEquals(run("client", "ID"), 1);
});

Deno.test("Session CONFIG GET matches names and glob patterns, ignoring case", () => {
  const { run } = setup();
  assertEquals(run("CONFIG", "GET", "SAVE"), ["SAVE", ""]);
  assertEquals(run("CONFIG", "GET", "save", "appendonly", "save"), [
    "appendonly",
    "no",
    "save",
    "",
  ]);
  assertEquals(run("CONFIG", "GET", "*a[u-v]e*"), ["save", ""]);
  assertEquals(run("CONFIG", "GET", "[^s]*"), [
    "appendonly",
    "no",
    "databases",
    "1",
    "proto-max-bulk-len",
    "8388608",
  ]);
  assertEquals(run("CONFIG", "GET", "nope", "s?v"), []);
});

Deno.test("Database.expireSome() deletes expired keys a few at a time, unseen", () => {
  let now = 1000;
  const db = new Database({ now: () => now });
  for (let i = 0; i < 250; i++) {
    db.set(`k${i}`, new Uint8Array(1), 1000 + (i % 2));
  }
  db.set("forever", new Uint8Array(1));
  now = 1001; // the even ones have expired
  assertEquals(db.expireSome(now, 100), 50);
  assertEquals(db.size, 201);
  assertEquals(db.expireSome(now, 200), 75);
  assertEquals(db.expireSome(now, 200), 0); // the sweep starts over
  now = 2000;
  assertEquals(db.expireSome(now, 1000), 125);
  assertEquals(db.size, 1);
});

Deno.test("Session copies what it keeps: arguments may be views of a buffer read into again", () => {
  const { session, run } = setup();
  const wire = bytes("SETkv1MSETk2v2CLIENTSETNAMEn1");
  session.execute(new RespCommand(wire, [0, 3, 3, 4, 4, 6]));
  session.execute(new RespCommand(wire, [6, 10, 10, 12, 12, 14]));
  session.execute(new RespCommand(wire, [14, 20, 20, 27, 27, 29]));
  wire.fill(0x3f); // the next read
  assertEquals(run("MGET", "k", "k2"), ["v1", "v2"]);
  assertEquals(run("CLIENT", "GETNAME"), "n1");
});
