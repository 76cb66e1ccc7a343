// Copyright 2026 the netkit authors. MIT license.

/**
 * Request/response over one connection, pipelined: JSON messages in
 * length-prefixed frames, many requests in flight at once, responses
 * matched to requests by `id` in whatever order they come back.
 *
 * ```sh
 * deno run -N examples/json_rpc.ts                    # demo: server + client, then exit
 * deno run -N examples/json_rpc.ts --mode server      # listening on 127.0.0.1:8890
 * deno run -N examples/json_rpc.ts --mode client --requests 10000 --window 64
 * deno run -N examples/json_rpc.ts --mode client --method sleep --params 500 --timeout 100
 * ```
 *
 * On the wire, each message is a 4-byte big-endian length and that many
 * bytes of UTF-8 JSON (`json(lengthPrefixed())`):
 *
 * ```text
 * request   00 00 00 26 {"id":1,"method":"add","params":[1,2]}
 * response  00 00 00 13 {"id":1,"result":3}
 * error     {"id":2,"error":{"code":-32601,"message":"Method not found: \"nope\""}}
 * ```
 *
 * The server's methods: `add` ([a, b] → a + b), `echo` (anything → the
 * same), `upper` (string → upper case) and `sleep` (ms → ms, after that
 * long; at most 10000). It works on up to 64 requests of a connection at
 * once, so a slow `sleep` does not hold up the requests behind it.
 *
 * The client keeps at most `--window` requests in flight with an
 * `InFlightWindow` (throughput ≈ window / round-trip time), gives each
 * request `--timeout` ms before it fails with a `TimeoutError` of kind
 * `"request"`, checks each result, and prints a summary:
 *
 * ```text
 * 1000 requests, 0 errors in 61 ms: 16393 req/s (window 32)
 * ```
 *
 * `--help` lists every flag.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import {
  type Codec,
  connect,
  type Connection,
  ConnectionClosedError,
  createCodec,
  delay,
  formatAddr,
  InFlightWindow,
  json,
  lengthPrefixed,
  Semaphore,
  serve,
  type Server,
  TimeoutError,
} from "../mod.ts";
import {
  integer,
  oneOf,
  runMain,
  serveUntilSignal,
  UsageError,
} from "./_cli.ts";

const HELP = `Usage: deno run -N examples/json_rpc.ts [options]

  --mode demo|server|client   demo (default): serve, run the client, exit
  --hostname HOST             address to listen on or connect to (127.0.0.1)
  --port PORT                 TCP port (8890; the demo picks a free one)
  --requests N                how many requests the client sends (1000)
  --window N                  the most requests in flight at once (32)
  --timeout MS                time each request has for its response (5000)
  --method add|echo|upper|sleep
                              the method the client calls (add)
  --params JSON               its params (default: made from the request number,
                              and the result is checked)
  --help                      this text
`;

/** A request: call `method` with `params`; the response carries the same `id`. */
interface Request {
  id: number;
  method: string;
  params?: unknown;
}

/** A response: the `result`, or an `error` with a code and a message. */
type Response =
  | { id: number | null; result: unknown }
  | { id: number | null; error: { code: number; message: string } };

/** Error codes, as JSON-RPC 2.0 numbers them. */
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

const MAX_FRAME = 1 << 20;
const MAX_SLEEP = 10_000;
const CONCURRENCY = 64;

/** An error response, as the client sees it. */
class RpcError extends Error {
  override name = "RpcError";
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/**
 * A codec that decodes `In` and encodes `Out`, both JSON in length-prefixed
 * frames: the server reads requests and writes responses, the client the
 * other way round. Incoming values are checked by hand, not trusted.
 */
function rpcCodec<In, Out>(): Codec<In, Out> {
  const framing = lengthPrefixed({ maxFrameLength: MAX_FRAME });
  return createCodec<In, Out>({
    name: "json-rpc",
    decoder: () => json<In>(framing).decoder(),
    encoder: () => json<Out>(framing).encoder(),
  });
}

interface Settings {
  mode: "demo" | "server" | "client";
  hostname: string;
  port: number;
  requests: number;
  window: number;
  timeout: number;
  method: Method;
  params: unknown;
}

function parse(argv: string[]): Settings | null {
  const args = parseArgs(argv, {
    string: [
      "mode",
      "hostname",
      "port",
      "requests",
      "window",
      "timeout",
      "method",
      "params",
    ],
    boolean: ["help"],
    default: {
      mode: "demo",
      hostname: "127.0.0.1",
      requests: "1000",
      window: "32",
      timeout: "5000",
      method: "add",
    },
    unknown: (arg: string) => {
      throw new UsageError(`unknown option "${arg}" (see --help)`);
    },
  });
  if (args.help) return null;
  const mode = oneOf(String(args.mode), "mode", ["demo", "server", "client"]);
  let params: unknown = undefined;
  if (args.params !== undefined) {
    try {
      params = JSON.parse(String(args.params));
    } catch {
      throw new UsageError(
        `--params must be JSON, received "${String(args.params)}"`,
      );
    }
  }
  return {
    mode,
    hostname: String(args.hostname),
    port: args.port !== undefined
      ? integer(String(args.port), "port", 0)
      : mode === "demo"
      ? 0
      : 8890,
    requests: integer(String(args.requests), "requests", 1),
    window: integer(String(args.window), "window", 1),
    timeout: integer(String(args.timeout), "timeout", 1),
    method: oneOf(String(args.method), "method", METHOD_NAMES),
    params,
  };
}

// ---------------------------------------------------------------------------
// Server

type Method = "add" | "echo" | "upper" | "sleep";
const METHOD_NAMES: readonly Method[] = ["add", "echo", "upper", "sleep"];

const METHODS: Record<
  Method,
  (params: unknown, signal: AbortSignal) => unknown
> = {
  add(params) {
    const [a, b] = Array.isArray(params) ? params : [];
    if (
      !Array.isArray(params) || params.length !== 2 ||
      typeof a !== "number" || typeof b !== "number"
    ) {
      throw new RpcError(
        INVALID_PARAMS,
        "Invalid params: add expects two numbers",
      );
    }
    return a + b;
  },
  echo(params) {
    return params ?? null;
  },
  upper(params) {
    if (typeof params !== "string") {
      throw new RpcError(
        INVALID_PARAMS,
        "Invalid params: upper expects a string",
      );
    }
    return params.toUpperCase();
  },
  async sleep(params, signal) {
    if (
      typeof params !== "number" || !(params >= 0) || params > MAX_SLEEP
    ) {
      throw new RpcError(
        INVALID_PARAMS,
        `Invalid params: sleep expects milliseconds from 0 to ${MAX_SLEEP}`,
      );
    }
    await delay(params, signal);
    return params;
  },
};

function isRequest(value: unknown): value is Request {
  if (typeof value !== "object" || value === null) return false;
  const { id, method } = value as Partial<Request>;
  return Number.isSafeInteger(id) && typeof method === "string";
}

/** Works out the response to one incoming message. */
async function respond(
  message: unknown,
  signal: AbortSignal,
): Promise<Response> {
  if (!isRequest(message)) {
    const id = (message as { id?: unknown } | null)?.id;
    return {
      id: Number.isSafeInteger(id) ? id as number : null,
      error: {
        code: INVALID_REQUEST,
        message: "Invalid request: expected {id, method, params}",
      },
    };
  }
  const { id, method, params } = message;
  if (!Object.hasOwn(METHODS, method)) {
    return {
      id,
      error: {
        code: METHOD_NOT_FOUND,
        message: `Method not found: ${JSON.stringify(method)}`,
      },
    };
  }
  try {
    return { id, result: await METHODS[method as Method](params, signal) };
  } catch (err) {
    if (err instanceof RpcError) {
      return { id, error: { code: err.code, message: err.message } };
    }
    return {
      id,
      error: {
        code: INTERNAL_ERROR,
        message: `Internal error: ${(err as Error).message}`,
      },
    };
  }
}

/**
 * Serves one connection: reads requests and answers each as soon as it is
 * done, up to `CONCURRENCY` at a time. Holding a permit until the response
 * is sent (`send()` waits while the client reads slowly) stops the reading
 * too: backpressure reaches the client's socket.
 */
async function serveConnection(
  conn: Connection<unknown, Response>,
): Promise<void> {
  const limit = new Semaphore(CONCURRENCY);
  const working = new Set<Promise<void>>();
  // When the connection dies, pending sleeps stop at once.
  const closed = new AbortController();
  conn.closed.then(() => closed.abort(), () => closed.abort());
  // Each request is taken as the last one's permit allows (a handler that
  // returns a promise is awaited before the next message).
  await conn.forEach(async (message) => {
    const permit = await limit.acquire();
    const task = respond(message, closed.signal)
      .then((response) => conn.send(response))
      .catch(() => {}) // The connection is gone; its error is reported.
      .finally(() => {
        permit.release();
        working.delete(task);
      });
    working.add(task);
  });
  // The client half-closed (or the server is shutting down): answer what
  // was asked, then return, which closes the connection.
  await Promise.all(working);
}

function startServer(s: Settings): Server<unknown, Response> {
  return serve<unknown, Response>({
    hostname: s.hostname,
    port: s.port,
    codec: rpcCodec<unknown, Response>(),
    onError: (error, conn) => {
      const peer = conn ? ` (${formatAddr(conn.remoteAddr)})` : "";
      console.error(`error  ${error.name}${peer}: ${error.message}`);
    },
  }, serveConnection);
}

// ---------------------------------------------------------------------------
// Client

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A pipelining client: `call()` sends at once and returns a promise that
 * the matching response (by `id`) settles, whatever the order of the
 * responses.
 */
class RpcClient implements AsyncDisposable {
  #conn: Connection<unknown, Request>;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #reading: Promise<void>;
  /** Responses that came after their request had timed out. */
  late = 0;

  constructor(conn: Connection<unknown, Request>) {
    this.#conn = conn;
    this.#reading = this.#read();
  }

  /**
   * Calls a method.
   *
   * @param method The method.
   * @param params Its params.
   * @param timeout Milliseconds to wait for the response.
   * @returns The result.
   * @throws {RpcError} The server answered with an error.
   * @throws {TimeoutError} No response within `timeout` (kind `"request"`).
   */
  call(method: string, params: unknown, timeout: number): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new TimeoutError(
            `Request ${id} (${method}) got no response within ${timeout} ms`,
            { kind: "request", timeout },
          ),
        );
      }, timeout);
      this.#pending.set(id, { method, resolve, reject, timer });
      this.#conn.send({ id, method, params }).catch((err) =>
        this.#settle(id, (p) => p.reject(err))
      );
    });
  }

  #settle(id: number, how: (p: Pending) => void): boolean {
    const p = this.#pending.get(id);
    if (p === undefined) return false;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    how(p);
    return true;
  }

  async #read(): Promise<void> {
    let failure: Error = new ConnectionClosedError(
      "Cannot receive the response: the server closed the connection",
    );
    try {
      for await (const message of this.#conn) {
        const r = message as Partial<{
          id: number;
          result: unknown;
          error: { code: number; message: string };
        }>;
        if (typeof r?.id !== "number") continue;
        const settled = this.#settle(r.id, (p) => {
          if (r.error) p.reject(new RpcError(r.error.code, r.error.message));
          else p.resolve(r.result);
        });
        if (!settled) this.late++;
      }
    } catch (err) {
      failure = err as Error;
    }
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, (p) => p.reject(failure));
    }
  }

  /** Closes the connection; requests still pending fail. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#conn.close();
    await this.#reading;
  }
}

/** Params for request number `i`, and the result to expect. */
const SAMPLES: Record<Method, (i: number) => [unknown, unknown]> = {
  add: (i) => [[i, 1], i + 1],
  echo: (i) => [{ n: i }, { n: i }],
  upper: (i) => [`request ${i}`, `REQUEST ${i}`],
  sleep: (i) => [i % 10, i % 10],
};

/**
 * Sends `--requests` requests, at most `--window` in flight, and prints a
 * summary. Each failure is printed on stderr (the first ten).
 *
 * @returns The number of failed requests.
 */
async function runClient(s: Settings, port: number): Promise<number> {
  const conn = await connect({ hostname: s.hostname, port }, {
    codec: rpcCodec<unknown, Request>(),
    connectTimeout: 5000,
  });
  await using rpc = new RpcClient(conn);
  const inFlight = new InFlightWindow(s.window);
  let errors = 0;
  const fail = (err: Error) => {
    if (++errors <= 10) console.error(`${err.name}: ${err.message}`);
  };
  const start = performance.now();
  const calls: Promise<void>[] = [];
  for (let i = 0; i < s.requests; i++) {
    await inFlight.acquire(); // waits while --window requests are in flight
    const [params, expected] = s.params === undefined
      ? SAMPLES[s.method](i)
      : [s.params, undefined];
    calls.push(
      rpc.call(s.method, params, s.timeout).then((result) => {
        if (
          expected !== undefined &&
          JSON.stringify(result) !== JSON.stringify(expected)
        ) {
          fail(
            new Error(
              `Request ${i + 1} (${s.method}) returned ${
                JSON.stringify(result)
              }, expected ${JSON.stringify(expected)}`,
            ),
          );
        }
      }, fail).finally(() => inFlight.release()),
    );
  }
  await Promise.all(calls);
  const ms = performance.now() - start;
  const plural = (n: number, word: string) =>
    `${n} ${word}${n === 1 ? "" : "s"}`;
  console.log(
    `${plural(s.requests, "request")}, ${plural(errors, "error")} in ${
      Math.round(ms)
    } ms: ${Math.round(s.requests / (ms / 1000))} req/s (window ${s.window})${
      rpc.late > 0 ? `, ${plural(rpc.late, "late response")}` : ""
    }`,
  );
  return errors;
}

/** The demo's second act: what a timeout and an error response look like. */
async function showFailures(s: Settings, port: number): Promise<void> {
  const conn = await connect({ hostname: s.hostname, port }, {
    codec: rpcCodec<unknown, Request>(),
  });
  await using rpc = new RpcClient(conn);
  for (
    const [method, params, timeout] of [
      ["sleep", 300, 100],
      ["nope", null, 1000],
    ] as const
  ) {
    try {
      await rpc.call(method, params, timeout);
    } catch (err) {
      const e = err as Error;
      console.log(`${method}(${params}): ${e.name}: ${e.message}`);
    }
  }
}

/**
 * Runs the program.
 *
 * @param argv The command-line arguments.
 * @returns The exit code: 1 when a request failed.
 */
function main(argv: string[]): Promise<number> {
  return runMain("json_rpc", HELP, argv, parse, async (s) => {
    if (s.mode === "client") {
      return await runClient(s, s.port) === 0 ? 0 : 1;
    }
    const server = startServer(s);
    const addr = server.addr as Deno.NetAddr;
    console.log(`listening on ${formatAddr(addr)}`);
    if (s.mode === "demo") {
      try {
        const errors = await runClient(s, addr.port);
        await showFailures(s, addr.port);
        return errors === 0 ? 0 : 1;
      } finally {
        await server.shutdown({ timeout: 1000 });
      }
    }
    await serveUntilSignal(server, 2000);
    return 0;
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
