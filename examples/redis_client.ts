// Copyright 2026 the netkit authors. MIT license.

/**
 * A Redis client on a netkit connection: commands pipelined on one socket,
 * replies matched to them in order, every RESP2 reply type, and error
 * replies as {@linkcode RespError} values rather than throws. Run as a
 * program, it sends one command and prints the reply as `redis-cli` does.
 *
 * ```sh
 * deno run -N examples/redis_client.ts --port 6379 SET greeting hello
 * OK
 * deno run -N examples/redis_client.ts --port 6379 MGET greeting nope
 * 1) "hello"
 * 2) (nil)
 * ```
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import {
  connect,
  type Connection,
  ConnectionClosedError,
  DecodeError,
} from "../mod.ts";
import { integer, runMain, UsageError } from "./_cli.ts";
import {
  BulkString,
  type RespArg,
  respClient,
  RespError,
  type RespValue,
} from "./resp.ts";

export { RespError };
export type { RespArg, RespValue };

/** Options for {@linkcode RedisClient.connect}. */
export interface RedisClientOptions {
  /**
   * The server's address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The server's port.
   *
   * @default {6379}
   */
  port?: number;
  /**
   * How long to wait for the connection, in milliseconds.
   *
   * @default {10000}
   */
  connectTimeout?: number;
}

/**
 * A connection to a Redis server. Commands sent without waiting for the
 * previous reply go out together (pipelining); each promise resolves with
 * its own reply, in order.
 *
 * @example Pipelining, and an error reply as a value
 * ```ts ignore
 * import { RedisClient, RespError } from "./redis_client.ts";
 *
 * await using redis = await RedisClient.connect({ port: 6379 });
 * const [set, n, bad] = await redis.pipeline([
 *   ["SET", "n", "41"],
 *   ["INCR", "n"],
 *   ["INCR", "no", "such", "arity"],
 * ]);
 * console.log(set, n, bad instanceof RespError); // OK 42 true
 * ```
 */
export class RedisClient implements AsyncDisposable {
  readonly #conn: Connection<RespValue, readonly RespArg[]>;
  /** The commands awaiting replies, oldest first from `#head`. */
  #waiting: Array<PromiseWithResolvers<RespValue> | undefined> = [];
  #head = 0;
  readonly #reading: Promise<void>;
  #error: Error | null = null;

  /**
   * Connects to a server.
   *
   * @param options Where, and how long to try.
   * @returns The client.
   * @throws {ConnectionRefusedError | TimeoutError} It cannot connect.
   */
  static async connect(options: RedisClientOptions = {}): Promise<RedisClient> {
    const conn = await connect({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 6379,
    }, {
      codec: respClient(),
      connectTimeout: options.connectTimeout ?? 10_000,
    });
    return new RedisClient(conn);
  }

  /**
   * Wraps a connection that speaks RESP (see `respClient()`).
   *
   * @param conn The connection.
   */
  constructor(conn: Connection<RespValue, readonly RespArg[]>) {
    this.#conn = conn;
    this.#reading = this.#read();
  }

  async #read(): Promise<void> {
    let error: Error;
    try {
      for await (const reply of this.#conn) {
        const waiter = this.#waiting[this.#head];
        if (waiter === undefined) {
          throw new DecodeError("Cannot match a reply: no command awaits one");
        }
        this.#waiting[this.#head++] = undefined;
        if (this.#head === this.#waiting.length) {
          this.#waiting = [];
          this.#head = 0;
        }
        waiter.resolve(reply);
      }
      error = new ConnectionClosedError("Connection closed");
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      this.#conn.abort(error);
    }
    this.#error = error;
    for (let i = this.#head; i < this.#waiting.length; i++) {
      this.#waiting[i]!.reject(error);
    }
    this.#waiting = [];
  }

  /**
   * Sends a command. It goes out with the others sent in the same tick.
   *
   * @param args The command's name and arguments; strings go out as UTF-8.
   * @returns Its reply: an error reply resolves as a {@linkcode RespError}.
   * @throws {ConnectionClosedError} The connection is closed (the promise
   * rejects).
   */
  command(...args: RespArg[]): Promise<RespValue> {
    if (this.#error !== null) return Promise.reject(this.#error);
    const waiter = Promise.withResolvers<RespValue>();
    try {
      this.#conn.write(args);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#waiting.push(waiter);
    return waiter.promise;
  }

  /**
   * Sends commands back to back and waits for all their replies, minding
   * the connection's write buffer between them.
   *
   * @param commands The commands.
   * @returns Their replies, in order.
   */
  async pipeline(
    commands: Iterable<readonly RespArg[]>,
  ): Promise<RespValue[]> {
    const replies: Promise<RespValue>[] = [];
    for (const args of commands) {
      replies.push(this.command(...args));
      if (!this.#conn.writableNow) await this.#conn.drain();
    }
    return await Promise.all(replies);
  }

  /** Closes the connection, after the commands sent have been written. */
  async close(): Promise<void> {
    await this.#conn.close();
    await this.#reading;
  }

  /** Closes the connection. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A reply as `redis-cli` prints it on a terminal (`--no-raw`).
 *
 * @param reply The reply.
 * @returns The lines, each ending in a line feed.
 */
export function formatReply(reply: RespValue, prefix = ""): string {
  if (reply instanceof RespError) return `(error) ${reply.message}\n`;
  if (typeof reply === "string") return `${reply}\n`;
  if (typeof reply === "number" || typeof reply === "bigint") {
    return `(integer) ${reply}\n`;
  }
  if (reply === null) return "(nil)\n";
  if (reply instanceof Uint8Array) return `${quote(reply)}\n`;
  if (reply instanceof BulkString) {
    return `${quote(Uint8Array.from(reply.text, (c) => c.charCodeAt(0)))}\n`;
  }
  if (reply.length === 0) return "(empty array)\n";
  const width = String(reply.length).length;
  const inner = prefix + " ".repeat(width + 2);
  return reply.map((item, i) =>
    `${i === 0 ? "" : prefix}${String(i + 1).padStart(width)}) ${
      formatReply(item, inner)
    }`
  ).join("");
}

const ESCAPES: Record<number, string> = {
  0x5c: "\\\\",
  0x22: '\\"',
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x07: "\\a",
  0x08: "\\b",
};

/** Bytes quoted as `redis-cli` quotes them (Redis' `sdscatrepr`). */
function quote(b: Uint8Array): string {
  let s = '"';
  for (const c of b) {
    s += ESCAPES[c] ??
      (c >= 0x20 && c <= 0x7e
        ? String.fromCharCode(c)
        : `\\x${c.toString(16).padStart(2, "0")}`);
  }
  return s + '"';
}

const HELP =
  `Usage: deno run -N examples/redis_client.ts [options] COMMAND [ARG...]

Sends one command to a Redis server and prints the reply as redis-cli does.

  --hostname HOST   the server's address (127.0.0.1)
  --port PORT       the server's port (6379)
  --help            this text
`;

interface Settings {
  hostname: string;
  port: number;
  command: string[];
}

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: ["hostname", "port"],
    boolean: ["help"],
    default: { hostname: "127.0.0.1", port: "6379" },
    stopEarly: true,
    unknown: (arg: string) => {
      if (!arg.startsWith("-")) return true;
      throw new UsageError(`unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  const command = args._.map(String);
  if (command.length === 0) throw new UsageError("no command (see --help)");
  return {
    hostname: String(args.hostname),
    port: integer(String(args.port), "port", 1, 65535),
    command,
  };
}

function main(argv: string[]): Promise<number> {
  return runMain("redis_client", HELP, argv, parse, async (s) => {
    await using redis = await RedisClient.connect(s);
    const reply = await redis.command(...s.command);
    await Deno.stdout.write(new TextEncoder().encode(formatReply(reply)));
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
