// Copyright 2026 the netkit authors. MIT license.

// Real peers: HAProxy in front of a netkit server (send-proxy and
// send-proxy-v2), HAProxy reading a PROXY header that netkit's client wrote
// (accept-proxy), `openssl s_client` against a netkit TLS echo, and `socat`
// against a netkit line chat. The configurations are the templates in
// testdata/haproxy/, filled in with the ports of each test.

import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "@std/assert";
import { TextLineStream } from "@std/streams";
import {
  connect,
  type Connection,
  formatAddr,
  lines,
  type ProxyHeaderInit,
  type ProxyProtocolMode,
  serve,
  type Server,
  text,
} from "./mod.ts";

const te = new TextEncoder();
const td = new TextDecoder();

// ---------------------------------------------------------------------------
// Helpers

/** A free TCP port: bind port 0, read it, close it just before use. */
function freePort(hostname = "127.0.0.1"): number {
  using listener = Deno.listen({ hostname, port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}

function hasIpv6Loopback(): boolean {
  try {
    using _listener = Deno.listen({ hostname: "::1", port: 0 });
    return true;
  } catch {
    return false;
  }
}

function hostPort(hostname: string, port: number): string {
  return hostname.includes(":")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}

/** Reads a template from testdata/haproxy/ and fills in `{{NAME}}`s. */
async function config(
  template: string,
  vars: Record<string, string>,
): Promise<string> {
  const url = new URL(`./testdata/haproxy/${template}`, import.meta.url);
  const text = await Deno.readTextFile(url);
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`No value for {{${name}}}`);
    return value;
  });
}

/**
 * Whether a TCP socket listens on `port`, from the kernel's socket tables
 * (Linux). They are read through `cat`: Deno reads /proc only with -A.
 */
async function isListening(port: number): Promise<boolean> {
  const out = await new Deno.Command("cat", {
    args: ["/proc/net/tcp", "/proc/net/tcp6"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return td.decode(out.stdout).split("\n").some((row) => {
    const [, local, , state] = row.trim().split(/\s+/);
    return state === "0A" && local?.endsWith(`:${hex}`);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `haproxy -f CONFIG -db` in the foreground, stopped on dispose. */
class HAProxy implements AsyncDisposable {
  readonly #dir: string;
  readonly #child: Deno.ChildProcess;
  #exited = false;

  /** The port HAProxy listens on. */
  readonly port: number;

  private constructor(dir: string, child: Deno.ChildProcess, port: number) {
    this.port = port;
    this.#dir = dir;
    this.#child = child;
    child.status.then(() => this.#exited = true);
  }

  /**
   * Starts HAProxy from a template in testdata/haproxy/ on a free port of
   * `hostname`, forwarding to `backend` with the given server options.
   */
  static async between(
    template: string,
    backend: Deno.NetAddr,
    sendProxy: string,
    hostname = "127.0.0.1",
  ): Promise<HAProxy> {
    const port = freePort(hostname);
    return await HAProxy.start(
      await config(template, {
        LISTEN: hostPort(hostname, port),
        BACKEND: hostPort("127.0.0.1", backend.port),
        SEND_PROXY: sendProxy,
      }),
      { hostname, port },
    );
  }

  /** Writes the configuration to a temporary directory and starts HAProxy. */
  static async start(
    configText: string,
    listen: { hostname: string; port: number },
  ): Promise<HAProxy> {
    const dir = await Deno.makeTempDir({ prefix: "netkit_haproxy_" });
    const path = `${dir}/haproxy.cfg`;
    await Deno.writeTextFile(path, configText);
    const child = new Deno.Command("haproxy", {
      args: ["-f", path, "-db"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const proxy = new HAProxy(dir, child, listen.port);
    try {
      await proxy.#waitListening(listen);
    } catch (err) {
      const out = await proxy.stop();
      throw new Error(`${(err as Error).message}\nhaproxy said:\n${out}`);
    }
    return proxy;
  }

  /**
   * A bounded poll of the kernel's socket table: HAProxy says nothing when
   * it is ready, and a probe connection would reach the backend.
   */
  async #waitListening(listen: { hostname: string; port: number }) {
    const deadline = Date.now() + 10_000;
    while (!(await isListening(listen.port))) {
      if (this.#exited) throw new Error("HAProxy exited at start");
      if (Date.now() > deadline) {
        throw new Error(
          `HAProxy did not listen on ${hostPort(listen.hostname, listen.port)}`,
        );
      }
      await delay(20);
    }
  }

  #stopped: Promise<string> | null = null;

  /** Stops HAProxy; resolves with what it wrote. Safe to call twice. */
  stop(): Promise<string> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<string> {
    if (!this.#exited) {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // Exited meanwhile.
      }
    }
    const out = await this.#child.output();
    await Deno.remove(this.#dir, { recursive: true });
    return td.decode(out.stdout) + td.decode(out.stderr);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * A line server that answers each line with the address it sees for the
 * client (the PROXY header's) and the address of the socket (the proxy's).
 */
function whoAmIServer(
  proxyProtocol: ProxyProtocolMode,
  errors: Error[],
): Server<string, string> {
  return serve({
    codec: text(lines()),
    proxyProtocol,
    trustedProxies: ["127.0.0.1/32", "::1/128"],
    onError: (error) => errors.push(error),
  }, async (conn: Connection<string, string>) => {
    for await (const line of conn) {
      await conn.send(
        `${formatAddr(conn.remoteAddr)} via ${
          formatAddr(conn.transport.remoteAddr)
        } ${line}`,
      );
    }
  });
}

function parseWhoAmI(
  reply: string | undefined,
  line: string,
): { seen: string; via: string } {
  assert(reply !== undefined, "No reply");
  const m = reply.match(/^(\S+) via (\S+) (.*)$/);
  assert(m !== null, `Unexpected reply: ${reply}`);
  assertEquals(m[3], line);
  return { seen: m[1]!, via: m[2]! };
}

/** Spawns a command with piped stdio and a line reader on its stdout. */
function spawnLines(command: string, args: string[]) {
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream()).getReader();
  const stderr = new Response(child.stderr).text();
  return {
    stdin,
    /** The next line, or null at the end of stdout. */
    async line(): Promise<string | null> {
      const r = await stdout.read();
      return r.done ? null : r.value;
    },
    /** Closes stdin, reads the rest of stdout, and awaits the exit. */
    async finish(): Promise<{ code: number; rest: string[]; stderr: string }> {
      try {
        await stdin.close();
      } catch {
        // The process closed it.
      }
      const rest: string[] = [];
      for (let r; !(r = await stdout.read()).done;) rest.push(r.value);
      const status = await child.status;
      return { code: status.code, rest, stderr: await stderr };
    },
  };
}

// ---------------------------------------------------------------------------
// HAProxy in front of netkit

const SEND_PROXY_CASES: Array<[string, ProxyProtocolMode]> = [
  ["send-proxy", "v1"],
  ["send-proxy-v2", "v2"],
  ["send-proxy", "any"],
  ["send-proxy-v2", "any"],
];

for (const [sendProxy, mode] of SEND_PROXY_CASES) {
  Deno.test(`\`serve()\` behind HAProxy ${sendProxy} sees the client's own address (proxyProtocol "${mode}")`, async () => {
    const errors: Error[] = [];
    await using server = whoAmIServer(mode, errors);
    await using haproxy = await HAProxy.between(
      "send_proxy.cfg",
      server.addr as Deno.NetAddr,
      sendProxy,
    );
    const port = haproxy.port;
    for (let i = 0; i < 3; i++) {
      await using client = await connect({ hostname: "127.0.0.1", port }, {
        codec: text(lines()),
        readTimeout: 10_000,
      });
      const me = client.localAddr as Deno.NetAddr;
      await client.send(`hello ${i}`);
      const reply = await client.receive();
      const { seen, via } = parseWhoAmI(reply, `hello ${i}`);
      // The server saw this client's address and source port, not the
      // proxy's socket.
      assertEquals(seen, formatAddr(me));
      assertMatch(via, /^127\.0\.0\.1:\d+$/);
      assertNotEquals(via, seen);
    }
    assertEquals(errors, []);
    assertEquals(server.stats.rejected, 0);
  });
}

Deno.test({
  name: "`serve()` behind HAProxy send-proxy-v2 sees an IPv6 client's address",
  ignore: !hasIpv6Loopback(),
  fn: async () => {
    const errors: Error[] = [];
    await using server = whoAmIServer("v2", errors);
    await using haproxy = await HAProxy.between(
      "send_proxy.cfg",
      server.addr as Deno.NetAddr,
      "send-proxy-v2",
      "::1",
    );
    const port = haproxy.port;
    await using client = await connect({ hostname: "::1", port }, {
      codec: text(lines()),
      readTimeout: 10_000,
    });
    await client.send("hello");
    const { seen } = parseWhoAmI(await client.receive(), "hello");
    assertEquals(seen, formatAddr(client.localAddr));
    assertMatch(seen, /^\[::1\]:\d+$/);
    assertEquals(errors, []);
  },
});

Deno.test("`serve()` behind HAProxy with health checks stays up and reports no accept failures", async () => {
  // HAProxy's TCP check connects and resets (RST) at once: Deno's accept()
  // may fail with NotConnected, or the check is accepted, sends its LOCAL
  // header and resets. Neither may stop or stall the server.
  const errors: Error[] = [];
  await using server = whoAmIServer("v2", errors);
  await using haproxy = await HAProxy.between(
    "send_proxy.cfg",
    server.addr as Deno.NetAddr,
    "send-proxy-v2 check inter 100ms fall 2 rise 1",
  );
  const port = haproxy.port;
  // An observation window of about five checks.
  await delay(500);
  await using client = await connect({ hostname: "127.0.0.1", port }, {
    codec: text(lines()),
    readTimeout: 10_000,
  });
  await client.send("after the checks");
  const { seen } = parseWhoAmI(await client.receive(), "after the checks");
  assertEquals(seen, formatAddr(client.localAddr));
  const output = await haproxy.stop();
  assert(!output.includes("is DOWN"), output);
  const acceptFailures = errors.filter((e) => e.message.includes("accept"));
  assertEquals(acceptFailures, []);
  for (const error of errors) assertEquals(error.name, "ConnectionResetError");
});

// ---------------------------------------------------------------------------
// netkit's client in front of HAProxy

const CLAIMS: Array<[string, ProxyHeaderInit, string]> = [
  ["v1", {
    version: 1,
    source: { transport: "tcp", hostname: "203.0.113.7", port: 51234 },
    destination: { transport: "tcp", hostname: "198.51.100.1", port: 443 },
  }, "203.0.113.7:51234"],
  ["v2", {
    version: 2,
    source: { transport: "tcp", hostname: "192.0.2.200", port: 4242 },
    destination: { transport: "tcp", hostname: "198.51.100.1", port: 443 },
  }, "192.0.2.200:4242"],
  ["v2 IPv6", {
    version: 2,
    source: { transport: "tcp", hostname: "2001:db8::7", port: 65000 },
    destination: { transport: "tcp", hostname: "2001:db8::1", port: 443 },
  }, "[2001:db8::7]:65000"],
];

for (const [name, header, expected] of CLAIMS) {
  for (const sendProxy of ["send-proxy", "send-proxy-v2"]) {
    Deno.test(`\`connect()\` writes a ${name} PROXY header that HAProxy accept-proxy passes on with ${sendProxy}`, async () => {
      const errors: Error[] = [];
      await using server = whoAmIServer("any", errors);
      await using haproxy = await HAProxy.between(
        "accept_proxy.cfg",
        server.addr as Deno.NetAddr,
        sendProxy,
      );
      const port = haproxy.port;
      await using client = await connect({ hostname: "127.0.0.1", port }, {
        codec: text(lines()),
        proxyHeader: header,
        readTimeout: 10_000,
      });
      await client.send("who am I");
      const { seen } = parseWhoAmI(await client.receive(), "who am I");
      assertEquals(seen, expected);
      assertEquals(errors, []);
    });
  }
}

// ---------------------------------------------------------------------------
// openssl s_client and socat

Deno.test("`serve()` with TLS echoes a line to `openssl s_client`", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit_tls_" });
  try {
    const made = await new Deno.Command("bash", {
      args: [
        new URL("./testdata/make_certs.sh", import.meta.url).pathname,
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(made.success, td.decode(made.stderr));
    await using server = serve({
      codec: text(lines()),
      tls: {
        cert: await Deno.readTextFile(`${dir}/cert.pem`),
        key: await Deno.readTextFile(`${dir}/key.pem`),
      },
    }, async (conn) => {
      for await (const line of conn) {
        if (line === "quit") return;
        await conn.send(line);
      }
    });
    const port = (server.addr as Deno.NetAddr).port;
    const client = spawnLines("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-verify_hostname",
      "localhost",
      "-CAfile",
      `${dir}/ca.pem`,
      "-verify_return_error",
      "-quiet",
    ]);
    await client.stdin.write(te.encode("Hello, World!\nquit\n"));
    const echoed = await client.line();
    const { code, rest, stderr } = await client.finish();
    assertEquals(echoed, "Hello, World!");
    assertEquals(rest, []);
    assertEquals(code, 0, stderr);
    assertStringIncludes(stderr, "verify return:1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`serve()` runs a line chat for two `socat` clients", async () => {
  let joined = 0;
  const bothJoined = Promise.withResolvers<void>();
  await using server = serve({
    codec: text(lines()),
    onOpen: () => {
      if (++joined === 2) bothJoined.resolve();
    },
  }, async (conn) => {
    const me = formatAddr(conn.remoteAddr);
    for await (const line of conn) {
      for (const other of server.connections) {
        if (other !== conn && !other.isClosed) other.write(`[${me}] ${line}`);
      }
    }
  });
  const port = (server.addr as Deno.NetAddr).port;
  const alice = spawnLines("socat", ["-", `TCP:127.0.0.1:${port}`]);
  const bob = spawnLines("socat", ["-", `TCP:127.0.0.1:${port}`]);
  await bothJoined.promise;
  await alice.stdin.write(te.encode("hello from alice\n"));
  const heard = await bob.line();
  await bob.stdin.write(te.encode("hi alice\n"));
  const answered = await alice.line();
  const a = await alice.finish();
  const b = await bob.finish();
  assertMatch(heard ?? "", /^\[127\.0\.0\.1:\d+\] hello from alice$/);
  assertMatch(answered ?? "", /^\[127\.0\.0\.1:\d+\] hi alice$/);
  assertNotEquals(heard!.split(" ")[0], answered!.split(" ")[0]);
  assertEquals([a.code, b.code], [0, 0], a.stderr + b.stderr);
  assertEquals([a.rest, b.rest], [[], []]);
});
