// Copyright 2026 the netkit authors. MIT license.
//
// examples/echo.ts against the socket tutorial's own Python client and
// server (testdata/tutorial_client.py, testdata/tutorial_server.py).

import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "@std/assert";

const ROOT = new URL(".", import.meta.url).pathname;
const ECHO = [
  "run",
  "-N",
  "--import-map=offline/import_map.json",
  "examples/echo.ts",
];
const ENV = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", RUST_BACKTRACE: "0" };
const decoder = new TextDecoder();

/** Runs examples/echo.ts to completion. */
async function runEcho(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...ECHO, ...args],
    cwd: ROOT,
    env: ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** A closed port: free a moment ago. */
function closedPort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/**
 * A child process whose stdout is read line by line, and whose stderr is
 * collected; `finish()` awaits its exit and both streams.
 */
class Child {
  readonly #process: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #stderr: Promise<string>;
  #buffer = "";
  #rest: string[] = [];

  constructor(command: string, args: string[]) {
    this.#process = new Deno.Command(command, {
      args,
      cwd: ROOT,
      env: ENV,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#lines = this.#process.stdout
      .pipeThrough(new TextDecoderStream())
      .getReader();
    this.#stderr = new Response(this.#process.stderr).text();
  }

  /** The next line on stdout, or `null` at its end. */
  async readLine(): Promise<string | null> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl !== -1) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#lines.read();
      if (done) {
        const last = this.#buffer;
        this.#buffer = "";
        return last.length > 0 ? last : null;
      }
      this.#buffer += value;
    }
  }

  kill(signal: Deno.Signal): void {
    this.#process.kill(signal);
  }

  /** Waits for the exit; returns the code, the rest of stdout and stderr. */
  async finish(): Promise<{ code: number; stdout: string; stderr: string }> {
    for (let line = await this.readLine(); line !== null;) {
      this.#rest.push(line);
      line = await this.readLine();
    }
    const [status, stderr] = await Promise.all([
      this.#process.status,
      this.#stderr,
    ]);
    return { code: status.code, stdout: this.#rest.join("\n"), stderr };
  }

  /** Kills the process if it still runs, and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#process.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await this.finish();
  }
}

Deno.test("`examples/echo.ts --mode server` echoes to the tutorial's Python client and stops on SIGTERM", async () => {
  await using server = new Child(Deno.execPath(), [
    ...ECHO,
    "--mode",
    "server",
    "--port",
    "0",
  ]);
  const first = await server.readLine();
  assert(first !== null, "the server printed nothing");
  const match = first.match(/^listening on 127\.0\.0\.1:(\d+)$/);
  assert(match, `unexpected first line: ${first}`);
  const port = match[1]!;
  assertNotEquals(port, "0");

  const client = await new Deno.Command("python3", {
    args: [`${ROOT}testdata/tutorial_client.py`, port],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(decoder.decode(client.stderr), "");
  assertEquals(client.code, 0);
  assertEquals(decoder.decode(client.stdout), "Hello, World!\n");

  server.kill("SIGTERM");
  const { code, stdout, stderr } = await server.finish();
  assertEquals(code, 0);
  assertEquals(stdout, "");
  const open = stderr.match(/^open\s+(127\.0\.0\.1:\d+)$/m);
  assert(open, `no "open" line in:\n${stderr}`);
  const peer = open[1]!;
  assertMatch(
    stderr,
    new RegExp(
      `^close\\s+${peer.replaceAll(".", "\\.")} in 13 B, out 13 B`,
      "m",
    ),
  );
  assertStringIncludes(stderr, "stopped after 1 connections");
});

Deno.test("`examples/echo.ts --mode client` talks to the tutorial's Python server", async () => {
  await using server = new Child("python3", [
    `${ROOT}testdata/tutorial_server.py`,
    "0",
  ]);
  const port = await server.readLine();
  assert(port !== null && /^\d+$/.test(port), `unexpected port: ${port}`);
  const client = await runEcho([
    "--mode",
    "client",
    "--port",
    port,
    "--hostname",
    "127.0.0.1",
  ]);
  assertEquals(client.stderr, "");
  assertEquals(client.stdout, "Hello, World!\n");
  assertEquals(client.code, 0);
  const { code, stderr } = await server.finish();
  assertEquals(stderr, "");
  assertEquals(code, 0);
});

Deno.test("`examples/echo.ts` demo serves, echoes once and exits 0", async () => {
  const { code, stdout, stderr } = await runEcho([]);
  assertEquals(stderr, "");
  assertEquals(code, 0);
  assertMatch(stdout, /^listening on 127\.0\.0\.1:\d+\nHello, World!\n$/);
});

for (
  const [codec, expected] of [
    ["raw", "Hello, World!"],
    ["lines", "Hello, World!"],
    ["length", "Hello, World!"],
    ["json", '"Hello, World!"'],
  ] as const
) {
  Deno.test(`\`examples/echo.ts\` demo round-trips with --codec ${codec}`, async () => {
    const { code, stdout, stderr } = await runEcho([
      "--codec",
      codec,
      "--count",
      "2",
    ]);
    assertEquals(stderr, "");
    assertEquals(code, 0);
    const lines = stdout.trimEnd().split("\n");
    assertMatch(lines[0]!, /^listening on /);
    assertEquals(lines.slice(1), [expected, expected]);
  });
}

Deno.test("`examples/echo.ts --mode client` reports a closed port in one line and exits non-zero", async () => {
  const port = closedPort();
  const { code, stdout, stderr } = await runEcho([
    "--mode",
    "client",
    "--port",
    String(port),
  ]);
  assertNotEquals(code, 0);
  assertEquals(stdout, "");
  const lines = stderr.trimEnd().split("\n");
  assertEquals(lines.length, 1, `expected one line, received:\n${stderr}`);
  assertMatch(lines[0]!, /^echo: /);
  assertStringIncludes(lines[0]!, `127.0.0.1:${port}`);
  assert(!/\n\s+at /.test(stderr), "a stack trace was printed");
});

Deno.test("`examples/echo.ts --help` prints the usage and exits 0", async () => {
  const { code, stdout, stderr } = await runEcho(["--help"]);
  assertEquals(code, 0);
  assertEquals(stderr, "");
  assertMatch(stdout, /^Usage: /);
  for (const flag of ["--mode", "--port", "--codec", "--max-connections"]) {
    assertStringIncludes(stdout, flag);
  }
});

Deno.test("`examples/echo.ts` rejects an unknown option with exit code 2", async () => {
  const { code, stdout, stderr } = await runEcho(["--no-such-flag"]);
  assertEquals(code, 2);
  assertEquals(stdout, "");
  assertMatch(stderr, /^echo: unknown option/);
});
