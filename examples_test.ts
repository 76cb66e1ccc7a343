// Copyright 2026 the netkit authors. MIT license.

// The example programs, run as a person runs them: each in its own Deno
// process (with the offline import map), talked to over real sockets, by
// each other, and by plain clients (`Deno.connect`, `openssl s_client`).

import {
  assert,
  assertEquals,
  assertFalse,
  assertGreaterOrEqual,
  assertMatch,
  assertStringIncludes,
} from "@std/assert";
import { TextLineStream } from "@std/streams";

const ROOT = decodeURIComponent(new URL(".", import.meta.url).pathname);
const WAIT_MS = 15_000;

/**
 * A running program: its stdout and stderr collected line by line as they
 * come, its stdin open for writing.
 */
class Program implements AsyncDisposable {
  readonly name: string;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #done: Promise<Deno.CommandStatus>;
  #stdinClosed = false;
  #exited = false;
  #wakers: Array<() => void> = [];

  constructor(
    name: string,
    command: string,
    args: string[],
    env: Record<string, string> = {},
  ) {
    this.name = name;
    this.#child = new Deno.Command(command, {
      args,
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: {
        DENO_NO_UPDATE_CHECK: "1",
        NO_COLOR: "1",
        RUST_BACKTRACE: "0",
        ...env,
      },
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    const pumps = Promise.all([
      this.#pump(this.#child.stdout, this.stdout),
      this.#pump(this.#child.stderr, this.stderr),
    ]);
    this.#done = pumps.then(() => this.#child.status).then((status) => {
      this.#exited = true;
      this.#wake();
      return status;
    });
  }

  async #pump(stream: ReadableStream<Uint8Array>, into: string[]) {
    const lines = stream
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new TextLineStream());
    for await (const line of lines) {
      into.push(line);
      this.#wake();
    }
  }

  #wake(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }

  /** Both outputs, for assertion messages. */
  get output(): string {
    return `${this.name} stdout:\n${
      this.stdout.join("\n")
    }\n${this.name} stderr:\n${this.stderr.join("\n")}`;
  }

  /**
   * Waits until a line of `where` matches `pattern` (lines already printed
   * count), and returns the match.
   */
  async waitFor(
    where: "stdout" | "stderr",
    pattern: RegExp | string,
  ): Promise<RegExpMatchArray> {
    const test = (line: string) =>
      typeof pattern === "string"
        ? (line === pattern ? [line] as RegExpMatchArray : null)
        : line.match(pattern);
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      for (const line of this[where]) {
        const hit = test(line);
        if (hit) return hit;
      }
      const left = deadline - Date.now();
      if (this.#exited || left <= 0) {
        throw new Error(
          `${this.name} ${
            this.#exited ? "exited" : "timed out"
          } before printing ${String(pattern)} on ${where}\n${this.output}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wakers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Writes text to its stdin. */
  async write(text: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(text));
  }

  /** Closes its stdin: the program reads EOF. */
  async closeStdin(): Promise<void> {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    await this.#stdin.close().catch(() => {});
  }

  /** Sends a signal, unless it has exited. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch {
      // It exited in the meantime.
    }
  }

  /**
   * Waits for it to exit, with both outputs read to the end; kills it if
   * it has not exited within `WAIT_MS`.
   */
  async status(): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), WAIT_MS);
    });
    const result = await Promise.race([this.#done, late]);
    clearTimeout(timer);
    if (result === "late") {
      this.kill("SIGKILL");
      await this.#done;
      throw new Error(`${this.name} did not exit\n${this.output}`);
    }
    return result;
  }

  /** Waits for it to exit with code 0. */
  async succeeds(): Promise<void> {
    const { code } = await this.status();
    assertEquals(code, 0, `${this.name} exited with ${code}\n${this.output}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    await this.closeStdin();
    await this.#done;
  }
}

/** Runs `deno run` on an example, with the offline import map. */
function example(
  file: string,
  args: string[],
  permissions: string[] = ["-N"],
  env: Record<string, string> = {},
): Program {
  return new Program(file, Deno.execPath(), [
    "run",
    "--import-map=offline/import_map.json",
    ...permissions,
    `examples/${file}`,
    ...args,
  ], env);
}

/** Waits for "listening on 127.0.0.1:PORT" and returns the port. */
async function listening(server: Program): Promise<number> {
  const [, port] = await server.waitFor(
    "stdout",
    /^listening on 127\.0\.0\.1:(\d+)$/,
  );
  return Number(port);
}

/** Lines read from a plain socket, one at a time. */
function lineReader(conn: Deno.Conn): ReadableStreamDefaultReader<string> {
  return conn.readable
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream())
    .getReader();
}

/**
 * Reads lines until one matches `wanted`, within `WAIT_MS`; returns the
 * lines before it.
 */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  wanted: string | RegExp,
): Promise<string[]> {
  const before: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(
          `Timed out waiting for ${String(wanted)}; read: ${
            before.slice(-5).join(" | ")
          }`,
        ),
      );
    }, WAIT_MS);
  });
  try {
    for (;;) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) {
        throw new Error(
          `Stream ended before ${String(wanted)}; read: ${
            before.slice(-5).join(" | ")
          }`,
        );
      }
      if (typeof wanted === "string" ? value === wanted : wanted.test(value)) {
        return before;
      }
      before.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
}

function addr(conn: Deno.Conn): string {
  const a = conn.localAddr as Deno.NetAddr;
  return `${a.hostname}:${a.port}`;
}

const encoder = new TextEncoder();

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(bytes.subarray(off));
  }
}

// ---------------------------------------------------------------------------

Deno.test("examples print usage for --help and one line for a bad flag", async () => {
  for (
    const file of [
      "chat.ts",
      "json_rpc.ts",
      "tls_echo.ts",
      "throttle.ts",
      "redis.ts",
      "redis_client.ts",
    ]
  ) {
    await using help = example(file, ["--help"]);
    await help.succeeds();
    assertMatch(help.stdout[0] ?? "", /^Usage: deno run .* examples\//);

    await using bad = example(file, ["--bogus"]);
    assertEquals((await bad.status()).code, 2, bad.output);
    assertEquals(bad.stderr, [
      `${file.slice(0, -3)}: unknown option "--bogus" (see --help)`,
    ]);
  }
});

Deno.test("examples/chat.ts relays a line to every other client with the sender's address", async () => {
  await using server = example("chat.ts", ["--mode", "server", "--port", "0"]);
  const port = String(await listening(server));

  await using a = example("chat.ts", ["--mode", "client", "--port", port]);
  const [, aAddr] = await a.waitFor(
    "stdout",
    /^\* welcome (\S+), 0 others online$/,
  );
  await using b = example("chat.ts", ["--mode", "client", "--port", port]);
  const [, bAddr] = await b.waitFor(
    "stdout",
    /^\* welcome (\S+), 1 other online$/,
  );
  await a.waitFor("stdout", `* ${bAddr} joined`);

  // A line from b reaches a, prefixed; b does not get its own line back.
  await b.write("hello from b\n");
  await a.waitFor("stdout", `[${bAddr}] hello from b`);
  // b's stdin ends: it half-closes, the server closes, b exits.
  await b.closeStdin();
  await b.succeeds();
  await a.waitFor("stdout", `* ${bAddr} left`);
  assertFalse(
    b.stdout.some((line) => line.includes("hello from b")),
    b.output,
  );

  // A plain TCP client speaking LF lines, as nc or socat would.
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: +port });
  const reader = lineReader(raw);
  await readUntil(reader, `* welcome ${addr(raw)}, 1 other online`);
  await writeAll(raw, encoder.encode("hi\n"));
  await a.waitFor("stdout", `[${addr(raw)}] hi`);
  await raw.closeWrite();
  const rest: string[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    rest.push(r.value);
  }
  assertFalse(rest.some((line) => line.endsWith("] hi")), rest.join("\n"));
  await a.waitFor("stdout", `* ${addr(raw)} left`);

  // The server shuts down on SIGTERM: a's stdin is still open, yet a is
  // told, sees the server close, and exits.
  server.kill("SIGTERM");
  await server.succeeds();
  await a.succeeds();
  assertEquals(a.stdout.at(-1), "* the server is shutting down");
  assertStringIncludes(server.output, "stopped after 3 connections");
  assert(aAddr !== bAddr);
});

Deno.test("examples/chat.ts disconnects a client that stops reading, and the others go on", async () => {
  await using server = example("chat.ts", ["--port", "0"]);
  const port = await listening(server);
  const slow = await Deno.connect({ hostname: "127.0.0.1", port });
  await server.waitFor("stderr", `join   ${addr(slow)}`);
  const reader = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = lineReader(reader);
  const flooder = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await readUntil(lines, `* ${addr(flooder)} joined`);

    // Rounds of 64 lines of 1 KiB from the flooder. The reader reads each
    // round before the next is sent; the slow client reads nothing, so
    // once the kernel's buffers are full its queue at the server grows by
    // a round each time, until it passes --max-queued.
    const dropped = new RegExp(
      `^leave  ${
        addr(slow).replaceAll(".", "\\.")
      } \\(Error: Disconnected: \\d+ bytes queued exceed --max-queued 262144\\)$`,
    );
    const x = "x".repeat(1023);
    const deadline = Date.now() + WAIT_MS;
    let after = -1; // rounds sent since the slow client was dropped
    const seen: string[] = []; // notices the reader got meanwhile
    for (let round = 0; after < 2; round++) {
      assert(
        round < 512 && Date.now() < deadline,
        `The slow client was not disconnected after ${round} rounds\n${server.output}`,
      );
      const chunk = `${x}\n`.repeat(63) + `round ${round}\n`;
      await writeAll(flooder, encoder.encode(chunk));
      const got = await readUntil(lines, `[${addr(flooder)}] round ${round}`);
      seen.push(...got.filter((line) => line.startsWith("* ")));
      assertEquals(
        got.filter((line) => line === `[${addr(flooder)}] ${x}`).length,
        63,
      );
      if (after >= 0) after++;
      else if (server.stderr.some((line) => dropped.test(line))) after = 0;
    }
    assertEquals(seen, [`* ${addr(slow)} left`]);
  } finally {
    slow.close();
    flooder.close();
    await lines.cancel();
  }
  server.kill("SIGTERM");
  await server.succeeds();
});

Deno.test("examples/json_rpc.ts demo pipelines requests and shows a timeout and an error", async () => {
  await using demo = example("json_rpc.ts", []);
  await demo.succeeds();
  assertMatch(
    demo.stdout[1] ?? "",
    /^1000 requests, 0 errors in \d+ ms: \d+ req\/s \(window 32\)$/,
  );
  assertEquals(demo.stdout.slice(2), [
    "sleep(300): TimeoutError: Request 1 (sleep) got no response within 100 ms",
    'nope(null): RpcError: Method not found: "nope"',
  ]);
});

Deno.test("examples/json_rpc.ts client gets every response, and a TimeoutError past --timeout", async () => {
  await using server = example("json_rpc.ts", [
    "--mode",
    "server",
    "--port",
    "0",
  ]);
  const port = String(await listening(server));

  for (const method of ["add", "echo", "upper", "sleep"]) {
    await using client = example("json_rpc.ts", [
      "--mode",
      "client",
      "--port",
      port,
      "--requests",
      "300",
      "--window",
      "16",
      "--method",
      method,
    ]);
    await client.succeeds();
    assertMatch(
      client.stdout.join("\n"),
      /^300 requests, 0 errors in \d+ ms: \d+ req\/s \(window 16\)$/,
    );
  }

  await using slow = example("json_rpc.ts", [
    "--mode",
    "client",
    "--port",
    port,
    "--requests",
    "1",
    "--method",
    "sleep",
    "--params",
    "600",
    "--timeout",
    "100",
  ]);
  assertEquals((await slow.status()).code, 1, slow.output);
  assertEquals(slow.stderr, [
    "TimeoutError: Request 1 (sleep) got no response within 100 ms",
  ]);
  assertMatch(slow.stdout.join("\n"), /^1 request, 1 error in \d+ ms/);

  server.kill("SIGTERM");
  await server.succeeds();
});

Deno.test("examples/tls_echo.ts demo makes a certificate, echoes over TLS and cleans up", async () => {
  // The demo gets a temporary directory of its own to make its own in.
  const tmp = await Deno.makeTempDir({ prefix: "netkit_tls_demo_" });
  try {
    await using demo = example("tls_echo.ts", [], [
      "-N",
      "-R",
      "-W",
      "--allow-run=openssl",
    ], { TMPDIR: tmp });
    await demo.succeeds();
    assertMatch(demo.stdout[0] ?? "", /^listening on 127\.0\.0\.1:\d+$/);
    assertEquals(demo.stdout[1], "Hello, TLS!");
    assertEquals(await Array.fromAsync(Deno.readDir(tmp)), []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("examples/tls_echo.ts server echoes to openssl s_client and to its own client", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit_tls_test_" });
  try {
    const cert = `${dir}/cert.pem`;
    await using gen = example("tls_echo.ts", ["--generate", dir], [
      "-R",
      "-W",
      "--allow-run=openssl",
    ]);
    await gen.succeeds();

    await using server = example("tls_echo.ts", [
      "--mode",
      "server",
      "--port",
      "0",
      "--cert",
      cert,
      "--key",
      `${dir}/key.pem`,
    ], ["-N", "-R"]);
    const port = String(await listening(server));

    // s_client verifies the certificate and the name, then echoes stdin.
    await using sClient = new Program("openssl s_client", "openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-quiet",
      "-CAfile",
      cert,
      "-verify_return_error",
      "-verify_hostname",
      "localhost",
    ]);
    await sClient.write("hello over tls\n");
    await sClient.waitFor("stdout", "hello over tls");
    sClient.kill("SIGTERM");
    await sClient.status();

    await using client = example("tls_echo.ts", [
      "--mode",
      "client",
      "--port",
      port,
      "--ca-cert",
      cert,
      "--message",
      "ping",
    ], ["-N", "-R"]);
    await client.succeeds();
    assertEquals(client.stdout, ["ping"]);

    // Without the certificate as its CA, the client refuses the server:
    // one line, no stack trace.
    await using untrusting = example("tls_echo.ts", [
      "--mode",
      "client",
      "--port",
      port,
    ], ["-N", "-R"]);
    assertEquals((await untrusting.status()).code, 1, untrusting.output);
    assertEquals(untrusting.stderr.length, 1, untrusting.output);
    assertMatch(
      untrusting.stderr[0]!,
      /^tls_echo: Cannot connect to 127\.0\.0\.1:\d+: .*(certificate|UnknownIssuer)/,
    );

    server.kill("SIGTERM");
    await server.succeeds();
    // The example's client ended its session cleanly (close_notify).
    const clientClose = server.stderr.filter((l) => l.startsWith("close  "));
    assert(
      clientClose.some((l) => !l.includes("(")),
      server.output,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/throttle.ts demo delivers every byte no faster than the rate", async () => {
  const start = performance.now();
  await using demo = example("throttle.ts", [
    "--bytes",
    "65536",
    "--rate",
    "131072",
  ]);
  await demo.succeeds();
  const wall = performance.now() - start;
  const [, seconds] = await demo.waitFor(
    "stdout",
    /^65536 bytes in (\d+\.\d\d) s: [\d.]+ KiB\/s \(target 128\.00 KiB\/s\)$/,
  );
  // A bucket of 13107 bytes, full at the start, then 131072 bytes per
  // second: the other 52429 bytes take at least 0.4 s.
  assertGreaterOrEqual(Number(seconds), 0.39, demo.output);
  assertGreaterOrEqual(wall, 400);
  assertStringIncludes(demo.stderr.join("\n"), "64.00/64.00 KiB");
});

Deno.test("examples/throttle.ts server answers a plain client's request line", async () => {
  await using server = example("throttle.ts", [
    "--mode",
    "server",
    "--port",
    "0",
  ]);
  const port = await listening(server);

  const download = async (request: string) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(conn, encoder.encode(request));
    await conn.closeWrite();
    // The readable closes the socket at the server's EOF.
    return new Uint8Array(await new Response(conn.readable).arrayBuffer());
  };
  const data = await download("5000 1000000\n");
  assertEquals(data.length, 5000);
  assert(data.every((b) => b === 0x2e));
  assertEquals(
    new TextDecoder().decode(await download("lots, quickly\n")),
    "Error: expected a line '<bytes> <bytes per second>'\n",
  );

  server.kill("SIGTERM");
  await server.succeeds();
  await server.waitFor("stderr", /^sent {3}5000 bytes to 127\.0\.0\.1:\d+ in /);
});
