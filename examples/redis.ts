// Copyright 2026 the netkit authors. MIT license.

/**
 * A Redis-compatible server that `redis-cli` and `redis-benchmark` use:
 * RESP2 and inline commands, strings with expiry, and the replies of Redis
 * 7.0 (Debian's `redis-server`) byte for byte, error texts included.
 *
 * ```sh
 * deno run -N examples/redis.ts --port 6379      # listening on 127.0.0.1:6379
 * redis-cli -p 6379 SET greeting hello EX 60
 * redis-benchmark -p 6379 -t ping,set,get -q
 * ```
 *
 * Commands: PING, ECHO, GET, SET (EX, PX, EXAT, PXAT, NX, XX, KEEPTTL,
 * GET), DEL, EXISTS, INCR, DECR, INCRBY, DECRBY, MGET, MSET, EXPIRE,
 * PEXPIRE, EXPIREAT, PEXPIREAT (NX, XX, GT, LT), TTL, PTTL, PERSIST,
 * DBSIZE, SELECT 0, FLUSHALL, QUIT, and what the Redis tools send when
 * they start: HELLO (RESP2 only: `HELLO 3` is refused with NOPROTO),
 * CLIENT SETNAME/GETNAME/ID, CONFIG GET, COMMAND (empty: no docs).
 *
 * The parts: the RESP codec (`resp.ts`), a {@linkcode Database} (values and
 * expiry times), a {@linkcode Session} per connection that executes
 * commands — pure, testable without sockets — and a handler that runs a
 * session over a netkit connection.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import {
  type Connection,
  formatAddr,
  FrameTooLargeError,
  serve,
  type Server,
  STOP,
  UnexpectedEofError,
} from "../mod.ts";
import { integer, runMain, serveUntilSignal, UsageError } from "./_cli.ts";
import {
  BulkString,
  latin1,
  latin1Range,
  parseInteger,
  RespCommand,
  RespError,
  RespProtocolError,
  respServer,
  type RespValue,
} from "./resp.ts";

/** The Redis whose replies this server gives, as HELLO reports it. */
export const REDIS_VERSION = "7.0.15";

const LLONG_MAX = 9223372036854775807n, LLONG_MIN = -9223372036854775808n;

/** Options for {@linkcode Database}. */
export interface DatabaseOptions {
  /**
   * The clock, in milliseconds since the epoch.
   *
   * @default {Date.now}
   */
  now?: () => number;
}

/**
 * A value as the database keeps it: bytes, or a short value as a byte
 * string ({@linkcode BulkString}); either is a bulk string reply as it is.
 */
export type Value = Uint8Array | BulkString;

/**
 * The longest value a server keeps as a {@linkcode BulkString}, in bytes,
 * as Redis keeps strings up to 44 bytes in one allocation. Deno allocates
 * a new `Uint8Array` in about 0.3 µs whatever its size; a string takes
 * about 50 ns for 16 bytes and half the array's time for 64, and past some
 * hundred bytes more than the array (measured with Deno 2.9).
 */
export const SHORT_VALUE = 64;

/**
 * A copy of bytes to keep as a value: a byte string up to
 * {@linkcode SHORT_VALUE} bytes, bytes past that.
 *
 * @param b The bytes.
 * @param from The first byte.
 * @param to After the last byte.
 * @returns The value.
 */
export function keepValue(
  b: Uint8Array,
  from = 0,
  to: number = b.length,
): Value {
  return to - from <= SHORT_VALUE
    ? new BulkString(latin1Range(b, from, to))
    : b.slice(from, to);
}

/**
 * The keyspace of the one database: string values and their expiry times,
 * kept apart as Redis keeps them (most keys have none). A key whose time
 * has passed is deleted when it is next looked at, or by
 * {@linkcode Database.expireSome}, which a server calls on a timer.
 *
 * Keys are byte strings (one character per byte, see `latin1`).
 *
 * @example Usage
 * ```ts
 * import { Database } from "./redis.ts";
 * import { assertEquals } from "@std/assert";
 *
 * let now = 1000;
 * const db = new Database({ now: () => now });
 * db.set("k", new Uint8Array([1]), 1500);
 * assertEquals(db.get("k", now), new Uint8Array([1]));
 * now = 1501;
 * assertEquals(db.get("k", now), undefined);
 * ```
 */
export class Database {
  /** The clock, in milliseconds. */
  readonly now: () => number;
  readonly #values = new Map<string, Value>();
  /** When keys expire (ms since the epoch); only keys that do. */
  readonly #expires = new Map<string, number>();
  /** Where the sweep of {@linkcode Database.expireSome} got to. */
  #sweep: MapIterator<[string, number]> | undefined;

  /**
   * Constructs a new instance.
   *
   * @param options The clock.
   */
  constructor(options: DatabaseOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** How many keys are held (some may have expired unseen, as in Redis). */
  get size(): number {
    return this.#values.size;
  }

  /**
   * The value of a key, deleting it if it has expired.
   *
   * @param key The key.
   * @param now The time; the clock is read only for a key that expires.
   * @returns The value, or `undefined`.
   */
  get(key: string, now?: number): Value | undefined {
    const value = this.#values.get(key);
    if (value === undefined || this.#expires.size === 0) return value;
    const when = this.#expires.get(key);
    if (when !== undefined && (now ?? this.now()) > when) {
      this.#values.delete(key);
      this.#expires.delete(key);
      return undefined;
    }
    return value;
  }

  /**
   * Sets a key's value.
   *
   * @param key The key.
   * @param value The value.
   * @param expires When it expires (ms); `undefined`: never; `"keep"`: as
   * it did.
   */
  set(key: string, value: Value, expires?: number | "keep"): void {
    this.#values.set(key, value);
    if (expires === "keep") return;
    if (expires !== undefined) this.#expires.set(key, expires);
    else if (this.#expires.size > 0) this.#expires.delete(key);
  }

  /**
   * Deletes a key.
   *
   * @param key The key.
   * @param now The time, if known.
   * @returns Whether it existed (and had not expired).
   */
  delete(key: string, now?: number): boolean {
    const existed = this.get(key, now) !== undefined;
    this.#values.delete(key);
    this.#expires.delete(key);
    return existed;
  }

  /**
   * When a key expires.
   *
   * @param key The key.
   * @returns Milliseconds since the epoch, or `undefined`: never.
   */
  expiresAt(key: string): number | undefined {
    return this.#expires.get(key);
  }

  /**
   * Sets or removes when a key (which must exist) expires.
   *
   * @param key The key.
   * @param when Milliseconds since the epoch; `undefined` removes it.
   * @returns Whether it had an expiry time before.
   */
  expire(key: string, when: number | undefined): boolean {
    const had = this.#expires.has(key);
    if (when === undefined) this.#expires.delete(key);
    else this.#expires.set(key, when);
    return had;
  }

  /** Deletes every key. */
  clear(): void {
    this.#values.clear();
    this.#expires.clear();
    this.#sweep = undefined;
  }

  /**
   * Deletes expired keys among the next `budget` keys that have an expiry
   * time (Redis' active expiry), taking up where the last call stopped.
   *
   * @param now The time.
   * @param budget How many keys to look at.
   * @returns How many were deleted.
   */
  expireSome(now: number, budget = 100): number {
    let deleted = 0;
    this.#sweep ??= this.#expires.entries();
    for (let i = 0; i < budget; i++) {
      const next = this.#sweep.next();
      if (next.done) {
        this.#sweep = undefined;
        break;
      }
      const [key, when] = next.value;
      if (now > when) {
        this.#values.delete(key);
        this.#expires.delete(key);
        deleted++;
      }
    }
    return deleted;
  }
}

// ---------------------------------------------------------------------------
// Replies and the texts of Redis' errors

const OK = "OK";
const err = (text: string) =>
  new RespError(text.startsWith("-") ? text.slice(1) : `ERR ${text}`);
const NOT_INTEGER = err("value is not an integer or out of range");
const SYNTAX = err("syntax error");
const arity = (name: string) =>
  err(`wrong number of arguments for '${name}' command`);
const invalidExpire = (name: string) =>
  err(`invalid expire time in '${name}' command`);

/** A C string's view of bytes: up to the first NUL, and at most `max`. */
function cstr(b: Uint8Array, max = Infinity): string {
  const nul = b.indexOf(0);
  return latin1(b.subarray(0, Math.min(nul === -1 ? b.length : nul, max)));
}

/** Redis' formatted errors: line ends trimmed off the end, others spaces. */
const oneLine = (s: string) =>
  s.replace(/[\r\n]+$/, "").replace(/[\r\n]/g, " ");

/** An option or command name, lower-cased as ASCII; "" past 24 bytes. */
function word(b: Uint8Array): string {
  if (b.length > 24) return "";
  const codes = new Array<number>(b.length);
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    codes[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return String.fromCharCode.apply(null, codes);
}

/** A 64-bit integer argument, or `undefined`. */
function int64(b: Uint8Array): bigint | undefined {
  const n = parseInteger(b, 0, b.length);
  if (Number.isNaN(n)) return undefined;
  return Number.isSafeInteger(n) ? BigInt(n) : BigInt(latin1(b));
}

/** A value as a 64-bit integer (as Redis' `string2ll` reads it), or `undefined`. */
function valueInt64(v: Value): bigint | undefined {
  if (v instanceof Uint8Array) return int64(v);
  const s = v.text;
  if (!/^(?:0|-?[1-9][0-9]{0,18})$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= LLONG_MIN && n <= LLONG_MAX ? n : undefined;
}

/** An integer reply: a number where it is exact, a bigint past that. */
const int = (n: bigint | number): number | bigint =>
  typeof n === "number"
    ? (Number.isSafeInteger(n) ? n : BigInt(Math.trunc(n)))
    : (n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n);

const ascii = new TextEncoder();
const bulk = (s: string) => ascii.encode(s);

/** The key that word `i` of a command names. */
const key = (c: RespCommand, i: number) =>
  latin1Range(c.data, c.start(i), c.end(i));

// ---------------------------------------------------------------------------
// Commands

/** Options for {@linkcode Session}. */
export interface SessionOptions {
  /**
   * The client's id, as HELLO and CLIENT ID report it.
   *
   * @default {1}
   */
  id?: number;
  /**
   * What CONFIG GET reports, by lower-case name.
   *
   * @default {DEFAULT_CONFIG}
   */
  config?: ReadonlyMap<string, string>;
}

/** What CONFIG GET reports unless told otherwise. */
export const DEFAULT_CONFIG: ReadonlyMap<string, string> = new Map([
  ["appendonly", "no"],
  ["databases", "1"],
  ["proto-max-bulk-len", String(8 * 1024 * 1024)],
  ["save", ""],
]);

/**
 * A command's code. The hot ones read the words they need in place; the
 * others take every word as a view (see {@linkcode words}).
 */
type Run = (s: Session, c: RespCommand) => RespValue | undefined;

/** A command's code that takes its words as views. */
const words =
  (run: (s: Session, a: Uint8Array[]) => RespValue | undefined): Run =>
  (s, c) => run(s, c.words());

interface Command {
  /** The name in errors: `get`, `config|get`. */
  name: string;
  /** The name as the command gives it, lower case: `get`. */
  word: Uint8Array;
  /** N: exactly N words; -N: at least N. */
  arity: number;
  run: Run;
  subcommands?: Table;
}

/**
 * One client's state, and the commands it runs on the database.
 * {@linkcode Session.execute} takes a command and gives its reply, as
 * Redis' `processCommand` does: the unknown command and arity checks, then
 * the command.
 *
 * A command's words may be in a read buffer that the next read reuses
 * (`respServer({ borrow: true })`): what a session keeps (a value, a
 * name), it copies. A reply may be a view of an argument (ECHO's): encode
 * it before taking the next command, as `conn.write()` does.
 *
 * @example Usage
 * ```ts
 * import { Database, Session } from "./redis.ts";
 * import { RespCommand } from "./resp.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const session = new Session(new Database());
 * const cmd = (...words: string[]) =>
 *   session.execute(RespCommand.from(words.map((w) => new TextEncoder().encode(w))));
 * assertEquals(cmd("SET", "n", "41"), "OK");
 * assertEquals(cmd("INCR", "n"), 42);
 * assertEquals(cmd("GET", "nope"), null);
 * ```
 */
export class Session {
  /** The database. */
  readonly db: Database;
  /** The client's id. */
  readonly id: number;
  /** The name CLIENT SETNAME gave. */
  name: Uint8Array | null = null;
  /**
   * Whether the connection is to close after the reply: set by QUIT, and by
   * a request that looks like HTTP (no reply, as Redis' security warning).
   */
  closing = false;
  readonly #config: ReadonlyMap<string, string>;

  /**
   * Constructs a new instance.
   *
   * @param db The database.
   * @param options The client's id and the configuration.
   */
  constructor(db: Database, options: SessionOptions = {}) {
    this.db = db;
    this.id = options.id ?? 1;
    this.#config = options.config ?? DEFAULT_CONFIG;
  }

  /**
   * Executes a command.
   *
   * @param c The command's name and arguments.
   * @returns The reply, or `undefined` for none (then `closing` is set).
   */
  execute(c: RespCommand): RespValue | undefined {
    let cmd = lookup(COMMANDS, c, 0);
    if (cmd?.subcommands && c.length > 1) {
      const sub = lookup(cmd.subcommands, c, 1);
      if (sub === undefined) {
        return err(oneLine(
          `unknown subcommand '${cstr(c.word(1)!, 128)}'. Try ${
            cstr(c.word(0)!).replace(/[a-z]+/g, (w) => w.toUpperCase())
          } HELP.`,
        ));
      }
      cmd = sub;
    }
    if (cmd === undefined) {
      if (lookup(HTTP, c, 0)) {
        this.closing = true; // Redis' guard against HTTP requests
        return undefined;
      }
      let rest = "";
      for (let i = 1; i < c.length && rest.length < 128; i++) {
        rest += `'${cstr(c.word(i)!, 128 - rest.length)}' `;
      }
      return err(oneLine(
        `unknown command '${
          cstr(c.word(0)!, 128)
        }', with args beginning with: ${rest}`,
      ));
    }
    const n = c.length;
    if (cmd.arity > 0 ? n !== cmd.arity : n < -cmd.arity) {
      return arity(cmd.name);
    }
    return cmd.run(this, c);
  }

  /** What CONFIG GET reports for a name. */
  config(name: string): string | undefined {
    return this.#config.get(name);
  }

  /** The names CONFIG GET knows. */
  configNames(): Iterable<string> {
    return this.#config.keys();
  }
}

const NX = 1, XX = 2, GET = 4, KEEPTTL = 8, EX = 16, PX = 32, EXAT = 64;
const PXAT = 128;

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
function set(s: Session, c: RespCommand): RespValue {
  if (c.length === 3) {
    // Without options: no views of the words.
    s.db.set(key(c, 1), keepValue(c.data, c.start(2), c.end(2)));
    return OK;
  }
  const a = c.words();
  let flags = 0, expire: Uint8Array | undefined;
  for (let j = 3; j < a.length; j++) {
    const opt = word(a[j]!), next = a[j + 1];
    // Redis' parseExtendedStringArgumentsOrReply: each option with the
    // options it may not follow.
    const take = (flag: number, not: number) => {
      if (flags & not || next === undefined) return false;
      flags |= flag, expire = next, j++;
      return true;
    };
    if (opt === "nx" && !(flags & XX)) flags |= NX;
    else if (opt === "xx" && !(flags & NX)) flags |= XX;
    else if (opt === "get") flags |= GET;
    else if (opt === "keepttl" && !(flags & (EX | PX | EXAT | PXAT))) {
      flags |= KEEPTTL;
    } else if (opt === "ex" && take(EX, KEEPTTL | EXAT | PX | PXAT)) continue;
    else if (opt === "px" && take(PX, KEEPTTL | EX | EXAT | PXAT)) continue;
    else if (opt === "exat" && take(EXAT, KEEPTTL | EX | PX | PXAT)) continue;
    else if (opt === "pxat" && take(PXAT, KEEPTTL | EX | EXAT | PX)) continue;
    else return SYNTAX;
  }
  let when: number | undefined;
  if (expire !== undefined) {
    let t = int64(expire);
    if (t === undefined) return NOT_INTEGER;
    const seconds = (flags & (EX | EXAT)) !== 0;
    if (t <= 0n || (seconds && t > LLONG_MAX / 1000n)) {
      return invalidExpire("set");
    }
    if (seconds) t *= 1000n;
    if (flags & (EX | PX)) t += BigInt(s.db.now());
    if (t > LLONG_MAX) return invalidExpire("set");
    when = Number(t);
  }
  const k = key(c, 1);
  const old = flags & (NX | XX | GET) ? s.db.get(k) : undefined;
  if ((flags & NX && old !== undefined) || (flags & XX && old === undefined)) {
    return flags & GET ? old ?? null : null;
  }
  s.db.set(k, keepValue(a[2]!), flags & KEEPTTL ? "keep" : when);
  return flags & GET ? old ?? null : OK;
}

/** INCR, DECR, INCRBY, DECRBY: a 64-bit integer, keeping its expiry. */
function incrBy(s: Session, k: string, by: bigint): RespValue {
  const old = s.db.get(k);
  const v = old === undefined ? 0n : valueInt64(old);
  if (v === undefined) return NOT_INTEGER;
  if (
    (by < 0n && v < 0n && by < LLONG_MIN - v) ||
    (by > 0n && v > 0n && by > LLONG_MAX - v)
  ) {
    return err("increment or decrement would overflow");
  }
  s.db.set(k, new BulkString(String(v + by)), "keep");
  return int(v + by);
}

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT key time [NX|XX|GT|LT] */
function expire(name: string, seconds: boolean, relative: boolean): Run {
  return words((s, a) => {
    const now = s.db.now();
    let nx = false, xx = false, gt = false, lt = false;
    for (let j = 3; j < a.length; j++) {
      const opt = word(a[j]!);
      if (opt === "nx") nx = true;
      else if (opt === "xx") xx = true;
      else if (opt === "gt") gt = true;
      else if (opt === "lt") lt = true;
      else return err(oneLine(`Unsupported option ${cstr(a[j]!)}`));
    }
    if (nx && (xx || gt || lt)) {
      return err(
        "NX and XX, GT or LT options at the same time are not compatible",
      );
    }
    if (gt && lt) {
      return err("GT and LT options at the same time are not compatible");
    }
    let when = int64(a[2]!);
    if (when === undefined) return NOT_INTEGER;
    if (seconds) {
      if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) {
        return invalidExpire(name);
      }
      when *= 1000n;
    }
    const base = relative ? BigInt(now) : 0n;
    if (when > LLONG_MAX - base) return invalidExpire(name);
    when += base;
    const k = latin1(a[1]!);
    if (s.db.get(k, now) === undefined) return 0;
    const current = s.db.expiresAt(k);
    if (
      (nx && current !== undefined) || (xx && current === undefined) ||
      (gt && (current === undefined || when <= current)) ||
      (lt && current !== undefined && when >= current)
    ) {
      return 0;
    }
    if (when <= now) s.db.delete(k, now);
    else s.db.expire(k, Number(when));
    return 1;
  });
}

/** TTL and PTTL. */
function ttl(ms: boolean): Run {
  return (s, c) => {
    const now = s.db.now();
    const k = key(c, 1);
    if (s.db.get(k, now) === undefined) return -2;
    const when = s.db.expiresAt(k);
    if (when === undefined) return -1;
    const left = Math.max(0, when - now);
    return int(ms ? left : Math.trunc((left + 500) / 1000));
  };
}

/** HELLO [protover [AUTH username password] [SETNAME clientname]] */
function hello(s: Session, a: Uint8Array[]): RespValue {
  if (a.length >= 2) {
    const version = int64(a[1]!);
    if (version === undefined) {
      return err("Protocol version is not an integer or out of range");
    }
    // Redis 7 also speaks RESP3 (HELLO 3); this server only RESP2.
    if (version !== 2n) return err("-NOPROTO unsupported protocol version");
  }
  for (let j = 2; j < a.length; j++) {
    const opt = word(a[j]!), more = a.length - 1 - j;
    if (opt === "auth" && more >= 2) {
      // The default user, without a password, as a fresh Redis has it.
      if (latin1(a[j + 1]!) !== "default") {
        return err(
          "-WRONGPASS invalid username-password pair or user is disabled.",
        );
      }
      j += 2;
    } else if (opt === "setname" && more >= 1) {
      const refused = setName(s, a[++j]!);
      if (refused) return refused;
    } else {
      return err(oneLine(`Syntax error in HELLO option '${cstr(a[j]!)}'`));
    }
  }
  return [
    bulk("server"),
    bulk("redis"),
    bulk("version"),
    bulk(REDIS_VERSION),
    bulk("proto"),
    2,
    bulk("id"),
    s.id,
    bulk("mode"),
    bulk("standalone"),
    bulk("role"),
    bulk("master"),
    bulk("modules"),
    [],
  ];
}

function setName(s: Session, name: Uint8Array): RespError | undefined {
  if (name.some((c) => c < 0x21 || c > 0x7e)) {
    return err(
      "Client names cannot contain spaces, newlines or special characters.",
    );
  }
  s.name = name.length === 0 ? null : name.slice();
}

/** CONFIG GET parameter [parameter ...], with glob patterns. */
function configGet(s: Session, a: Uint8Array[]): RespValue {
  const found = new Map<string, string>(); // name as replied → canonical
  for (let i = 2; i < a.length; i++) {
    const pattern = cstr(a[i]!);
    if (!/[[*?]/.test(pattern)) {
      const name = pattern.toLowerCase();
      if (s.config(name) !== undefined && ![...found.values()].includes(name)) {
        found.set(pattern, name);
      }
      continue;
    }
    const re = globToRegExp(pattern);
    for (const name of s.configNames()) {
      if (re.test(name) && ![...found.values()].includes(name)) {
        found.set(name, name);
      }
    }
  }
  return [...found].sort((x, y) => x[1] < y[1] ? -1 : 1).flatMap((
    [shown, name],
  ) => [bulk(shown), bulk(s.config(name)!)]);
}

/** Redis' glob (`stringmatch`, ignoring case): `*`, `?`, `[a-z]`, `[^x]`, `\x`. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += "[^]*";
    else if (c === "?") re += "[^]";
    else if (c === "\\" && i + 1 < glob.length) re += `\\${glob[++i]}`;
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end === -1) re += "\\[";
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, "\\\\");
        re += body.startsWith("^") ? `[^${body.slice(1)}]` : `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[$()*+.?[\]^{|}/\\-]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "i");
}

/**
 * Commands by the length of their name and its first letter (its low five
 * bits, the same in both cases): `table[length * 32 + (first & 31)]` holds
 * the few that share them. A name is found by one array load and a
 * comparison, without making a string of it.
 */
type Table = Command[][];

/** The command (or subcommand) that word `i` of `c` names. */
function lookup(table: Table, c: RespCommand, i: number): Command | undefined {
  const d = c.data, from = c.start(i), to = c.end(i);
  const candidates = table[(to - from) * 32 + (d[from]! & 31)];
  if (candidates === undefined) return undefined;
  for (const cmd of candidates) {
    const word = cmd.word;
    let j = 0;
    for (; j < word.length; j++) {
      const b = d[from + j]!;
      if ((b >= 0x41 && b <= 0x5a ? b | 0x20 : b) !== word[j]) break;
    }
    if (j === word.length) return cmd;
  }
  return undefined;
}

function table(
  entries: Record<string, [number, Run, Record<string, [number, Run]>?]>,
  parent?: string,
): Table {
  const t: Table = [];
  for (const [name, [arity, run, subs]] of Object.entries(entries)) {
    const full = parent === undefined ? name : `${parent}|${name}`;
    const cmd: Command = { name: full, word: bulk(name), arity, run };
    if (subs) cmd.subcommands = table(subs, name);
    (t[name.length * 32 + (cmd.word[0]! & 31)] ??= []).push(cmd);
  }
  return t;
}

const COMMANDS: Table = table({
  ping: [-1, (_, c) => c.length > 2 ? arity("ping") : c.word(1) ?? "PONG"],
  echo: [2, (_, c) => c.word(1)!],
  get: [2, (s, c) => s.db.get(key(c, 1)) ?? null],
  set: [-3, set],
  del: [
    -2,
    words((s, a) => a.slice(1).filter((k) => s.db.delete(latin1(k))).length),
  ],
  exists: [
    -2,
    words((s, a) =>
      a.slice(1).filter((k) => s.db.get(latin1(k)) !== undefined).length
    ),
  ],
  incr: [2, (s, c) => incrBy(s, key(c, 1), 1n)],
  decr: [2, (s, c) => incrBy(s, key(c, 1), -1n)],
  incrby: [
    3,
    words((s, a) => {
      const by = int64(a[2]!);
      return by === undefined ? NOT_INTEGER : incrBy(s, latin1(a[1]!), by);
    }),
  ],
  decrby: [
    3,
    words((s, a) => {
      const by = int64(a[2]!);
      if (by === undefined) return NOT_INTEGER;
      if (by === LLONG_MIN) return err("decrement would overflow");
      return incrBy(s, latin1(a[1]!), -by);
    }),
  ],
  mget: [
    -2,
    words((s, a) => a.slice(1).map((k) => s.db.get(latin1(k)) ?? null)),
  ],
  mset: [
    -3,
    words((s, a) => {
      if (a.length % 2 === 0) return arity("mset");
      for (let j = 1; j < a.length; j += 2) {
        s.db.set(latin1(a[j]!), keepValue(a[j + 1]!));
      }
      return OK;
    }),
  ],
  expire: [-3, expire("expire", true, true)],
  pexpire: [-3, expire("pexpire", false, true)],
  expireat: [-3, expire("expireat", true, false)],
  pexpireat: [-3, expire("pexpireat", false, false)],
  ttl: [2, ttl(false)],
  pttl: [2, ttl(true)],
  persist: [2, (s, c) => {
    const k = key(c, 1);
    return s.db.get(k) !== undefined && s.db.expire(k, undefined) ? 1 : 0;
  }],
  dbsize: [1, (s) => s.db.size],
  select: [2, (_, c) => {
    const id = int64(c.word(1)!);
    if (id === undefined) return NOT_INTEGER;
    if (id < -2147483648n || id > 2147483647n) {
      return err(
        "value is out of range, value must between -2147483648 and 2147483647",
      );
    }
    return id === 0n ? OK : err("DB index is out of range");
  }],
  flushall: [-1, (s, c) => {
    const mode = c.length === 2 ? word(c.word(1)!) : "";
    if (
      c.length > 2 || (c.length === 2 && mode !== "sync" && mode !== "async")
    ) {
      return SYNTAX;
    }
    s.db.clear();
    return OK;
  }],
  quit: [-1, (s) => {
    s.closing = true;
    return OK;
  }],
  hello: [-1, words(hello)],
  client: [-2, () => arity("client"), {
    setname: [3, (s, c) => setName(s, c.word(2)!) ?? OK],
    getname: [2, (s) => s.name],
    id: [2, (s) => s.id],
  }],
  config: [-2, () => arity("config"), { get: [-3, words(configGet)] }],
  // No command documentation: redis-cli then shows none.
  command: [-1, () => [], {
    docs: [-2, () => []],
    count: [2, () => COMMAND_COUNT],
  }],
});

const COMMAND_COUNT = COMMANDS.flat().length;

/** The first words of HTTP requests, which Redis hangs up on. */
const HTTP = table({ post: [-1, () => null], "host:": [-1, () => null] });

// ---------------------------------------------------------------------------
// The server

/**
 * Runs a {@linkcode Session} on each connection: each command's reply is
 * written as it is executed (replies of a pipeline go out together); a
 * protocol error is answered, then the connection closes, as Redis does.
 *
 * @param db The database the sessions share.
 * @param config What CONFIG GET reports.
 * @returns The connection handler for `serve()`.
 */
export function redisHandler(
  db: Database,
  config: ReadonlyMap<string, string> = DEFAULT_CONFIG,
): (conn: Connection<RespCommand, RespValue>) => Promise<void> {
  let ids = 0;
  return async (conn) => {
    const session = new Session(db, { id: ++ids, config });
    try {
      await conn.forEach((args) => {
        const reply = session.execute(args);
        if (reply !== undefined) conn.write(reply);
        // QUIT: the commands after it are not run.
        if (session.closing) return STOP;
      });
    } catch (err) {
      if (err instanceof RespProtocolError) {
        await conn.send(new RespError(`ERR ${err.message}`));
      } else if (
        !(err instanceof FrameTooLargeError ||
          err instanceof UnexpectedEofError)
      ) {
        throw err;
      }
      // A command over the bound (Redis' query buffer limit), or a client
      // gone in the middle of one: close without a reply.
    }
  };
}

/** Options for {@linkcode serveRedis}. */
export interface ServeRedisOptions {
  /**
   * The address to bind.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The TCP port; `0` picks a free one.
   *
   * @default {6379}
   */
  port?: number;
  /**
   * The most clients at once.
   *
   * @default {10000}
   */
  maxConnections?: number;
  /**
   * The longest bulk string of a command (Redis' `proto-max-bulk-len`).
   *
   * @default {8388608}
   */
  maxBulkLength?: number;
}

/**
 * Starts the server: a database, its active expiry on a 100 ms timer, and
 * `serve()` with the RESP codec and {@linkcode redisHandler}.
 *
 * @example Usage
 * ```ts
 * import { serveRedis } from "./redis.ts";
 * import { assertEquals } from "@std/assert";
 *
 * await using server = serveRedis({ port: 0 });
 * const { hostname, port } = server.addr as Deno.NetAddr;
 * const conn = await Deno.connect({ hostname, port });
 * await conn.write(new TextEncoder().encode("PING\r\n"));
 * const reply = new Uint8Array(7);
 * assertEquals(await conn.read(reply), 7);
 * assertEquals(new TextDecoder().decode(reply), "+PONG\r\n");
 * conn.close();
 * ```
 *
 * @param options Where to listen, and the bounds.
 * @returns The server; shutting it down stops the expiry timer.
 */
export function serveRedis(
  options: ServeRedisOptions = {},
): Server<RespCommand, RespValue> {
  const maxBulkLength = options.maxBulkLength ?? 8 * 1024 * 1024;
  const db = new Database();
  const config = new Map(DEFAULT_CONFIG);
  config.set("proto-max-bulk-len", String(maxBulkLength));
  const server = serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 6379,
    maxConnections: options.maxConnections ?? 10000,
    codec: respServer({ maxBulkLength, borrow: true }),
  }, redisHandler(db, config));
  const timer = setInterval(() => db.expireSome(db.now(), 200), 100);
  server.finished.finally(() => clearInterval(timer));
  return server;
}

// ---------------------------------------------------------------------------
// The program

const HELP = `Usage: deno run -N examples/redis.ts [options]

A Redis-compatible server (RESP2): redis-cli and redis-benchmark use it.

  --hostname HOST            address to listen on (127.0.0.1)
  --port PORT                TCP port (6379; 0 picks a free one)
  --max-connections N        clients at once (10000)
  --proto-max-bulk-len BYTES the longest argument (8388608)
  --help                     this text
`;

interface Settings {
  hostname: string;
  port: number;
  maxConnections: number;
  maxBulkLength: number;
}

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: ["hostname", "port", "max-connections", "proto-max-bulk-len"],
    boolean: ["help"],
    default: {
      hostname: "127.0.0.1",
      port: "6379",
      "max-connections": "10000",
      "proto-max-bulk-len": String(8 * 1024 * 1024),
    },
    unknown: (arg: string) => {
      throw new UsageError(`unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  return {
    hostname: String(args.hostname),
    port: integer(String(args.port), "port", 0, 65535),
    maxConnections: integer(
      String(args["max-connections"]),
      "max-connections",
      1,
    ),
    maxBulkLength: integer(
      String(args["proto-max-bulk-len"]),
      "proto-max-bulk-len",
      1,
    ),
  };
}

function main(argv: string[]): Promise<number> {
  return runMain("redis", HELP, argv, parse, async (s) => {
    const server = serveRedis(s);
    console.log(`listening on ${formatAddr(server.addr)}`);
    await serveUntilSignal(server);
    console.error(`stopped after ${server.stats.accepted} connections`);
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
