// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLess,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { connect } from "./client.ts";
import { lengthPrefixed, lines, text } from "./codec.ts";
import type { Connection } from "./connection.ts";
import {
  ConnectionRefusedError,
  NetError,
  ServerClosedError,
  TimeoutError,
  TlsError,
} from "./errors.ts";
import { encodeProxyHeader, ProxyProtocolError } from "./proxy_protocol.ts";
import { formatAddr, serve } from "./server.ts";

import { fullGc, stillPending, testCert } from "./_test_utils.ts";
// ---------------------------------------------------------------------------
// Helpers

const LINES = text(lines());
const utf8 = new TextEncoder();

/** The TCP port of a server. */
function portOf(server: { addr: Deno.Addr }): number {
  return (server.addr as Deno.NetAddr).port;
}

/** A line echo handler. */
async function echo(conn: Connection<string>): Promise<void> {
  for await (const line of conn) await conn.send(line);
}

/** Resolves after `ms` milliseconds. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds, failing after `ms` milliseconds. */
async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(`Condition not met within ${ms} ms: ${condition}`);
    }
    await sleep(5);
  }
}

/** Rejects if `p` does not settle within `ms` milliseconds. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A raw TCP connection to a server. */
function dial(server: { addr: Deno.Addr }): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port: portOf(server) });
}

/** Writes every byte of `bytes`. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/**
 * Reads until the peer ends the stream; returns what was read and how it
 * ended: EOF, or a reset.
 */
async function readToEnd(
  conn: Deno.Conn,
): Promise<{ text: string; end: "eof" | "reset" }> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  let end: "eof" | "reset";
  for (;;) {
    try {
      const n = await conn.read(buf);
      if (n === null) {
        end = "eof";
        break;
      }
      chunks.push(buf.slice(0, n));
    } catch (err) {
      if (err instanceof Deno.errors.ConnectionReset) {
        end = "reset";
        break;
      }
      throw err;
    }
  }
  const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return { text: new TextDecoder().decode(all), end };
}

// ---------------------------------------------------------------------------
// The connection set and stats

Deno.test("`serve()` adds a connection to `connections` on accept and deletes it on close", async () => {
  const opened = Promise.withResolvers<Connection<string>>();
  const closed = Promise.withResolvers<Connection<string>>();
  const seenInSet: boolean[] = [];
  await using server = serve({
    port: 0,
    codec: LINES,
    onOpen: (conn) => {
      seenInSet.push(server.connections.has(conn));
      opened.resolve(conn);
    },
    onClose: (conn, error) => {
      seenInSet.push(server.connections.has(conn));
      assertStrictEquals(error, null);
      closed.resolve(conn);
    },
  }, echo);
  assertEquals(server.connections.size, 0);
  const client = await connect(server.addr, { codec: LINES });
  const conn = await opened.promise;
  assert(server.connections.has(conn));
  assertEquals(server.stats, {
    accepted: 1,
    rejected: 0,
    active: 1,
    closed: 0,
    errors: 0,
  });
  assertEquals(conn.remoteAddr, client.localAddr);
  await client.send("ping");
  assertEquals(await client.receive(), "ping");
  await client.close();
  assertStrictEquals(await closed.promise, conn);
  assertEquals(seenInSet, [true, false]);
  assertEquals(server.connections.size, 0);
  assertEquals(server.stats, {
    accepted: 1,
    rejected: 0,
    active: 0,
    closed: 1,
    errors: 0,
  });
});

Deno.test("`serve()` counts many connections in stats", async () => {
  await using server = serve({ port: 0, codec: LINES }, echo);
  const clients = await Promise.all(
    Array.from({ length: 10 }, () => connect(server.addr, { codec: LINES })),
  );
  await Promise.all(clients.map(async (c, i) => {
    await c.send(`n${i}`);
    assertEquals(await c.receive(), `n${i}`);
  }));
  assertEquals(server.connections.size, 10);
  assertEquals(server.stats.active, 10);
  for (const c of clients.slice(0, 4)) await c.close();
  await until(() => server.stats.closed === 4);
  assertEquals(server.stats.active, 6);
  assertEquals(server.connections.size, 6);
  for (const c of clients.slice(4)) await c.close();
  await until(() => server.stats.active === 0);
  assertEquals(server.stats.accepted, 10);
  assertEquals(server.stats.closed, 10);
});

Deno.test("`Server.connections` is a live read-only set: has, size, iteration and the set methods agree", async () => {
  await using server = serve({ port: 0, codec: LINES }, echo);
  const view = server.connections;
  await using a = await connect(server.addr, { codec: LINES });
  await using _b = await connect(server.addr, { codec: LINES });
  await until(() => view.size === 2);
  const all = [...view];
  assertEquals(all.length, 2);
  assert(all.every((c) => view.has(c)));
  assertEquals([...view.keys()], all);
  assertEquals([...view.entries()], all.map((c) => [c, c]));
  const seen: unknown[] = [];
  view.forEach((value, key, set) => seen.push(value === key && set === view));
  assertEquals(seen, [true, true]);
  const first = new Set([all[0]!]);
  assertEquals(view.union(new Set(["x"])).size, 3);
  assertEquals([...view.intersection(first)], [all[0]]);
  assertEquals([...view.difference(first)], [all[1]]);
  assertEquals([...view.symmetricDifference(first)], [all[1]]);
  assert(view.isSupersetOf(first) && view.isSubsetOf(new Set(all)));
  assert(view.isDisjointFrom(new Set(["x"])));
  const servedA = all.find((c) =>
    formatAddr(c.remoteAddr) === formatAddr(a.localAddr)
  )!;
  await a.close();
  await until(() => view.size === 1);
  assertFalse(view.has(servedA));
  assertEquals([...view].length, 1);
  assertStrictEquals(server.connections, view);
});

// ---------------------------------------------------------------------------
// maxConnections

Deno.test("`serve()` closes a connection over maxConnections", async () => {
  const errors: Array<[Error, unknown]> = [];
  await using server = serve({
    port: 0,
    codec: LINES,
    maxConnections: 2,
    onError: (err, conn) => void errors.push([err, conn]),
  }, echo);
  const served = [
    await connect(server.addr, { codec: LINES }),
    await connect(server.addr, { codec: LINES }),
  ];
  for (const c of served) {
    await c.send("in");
    assertEquals(await c.receive(), "in");
  }
  const excess = await Promise.all([dial(server), dial(server), dial(server)]);
  for (const c of excess) {
    const { text, end } = await readToEnd(c);
    assertEquals(text, "");
    assert(end === "eof" || end === "reset");
    c.close();
  }
  assertEquals(server.stats.rejected, 3);
  assertEquals(server.stats.accepted, 5);
  assertEquals(server.stats.active, 2);
  assertEquals(server.connections.size, 2);
  assertEquals(errors.length, 3);
  for (const [err, conn] of errors) {
    assertInstanceOf(err, NetError);
    assertEquals((err as NetError).code, "ECONNLIMIT");
    assertStrictEquals(conn, null);
  }
  // The served connections still work.
  for (const c of served) {
    await c.send("still");
    assertEquals(await c.receive(), "still");
  }
  // A slot freed is a slot to take.
  await served[0]!.close();
  await until(() => server.stats.active === 1);
  await using again = await connect(server.addr, { codec: LINES });
  await again.send("again");
  assertEquals(await again.receive(), "again");
  await served[1]!.close();
});

// ---------------------------------------------------------------------------
// Failure isolation

Deno.test("`serve()` ends only the connection whose handler throws and reports it to onError", async () => {
  const reported = Promise.withResolvers<[Error, Connection<string> | null]>();
  await using server = serve({
    port: 0,
    codec: LINES,
    onError: (err, conn) => reported.resolve([err, conn]),
  }, async (conn) => {
    for await (const line of conn) {
      if (line === "boom") throw new Error("Handler failed on purpose");
      await conn.send(line);
    }
  });
  await using good = await connect(server.addr, { codec: LINES });
  await using bad = await connect(server.addr, { codec: LINES });
  await good.send("before");
  assertEquals(await good.receive(), "before");
  await bad.send("boom");
  const [err, conn] = await reported.promise;
  assertEquals(err.message, "Handler failed on purpose");
  assert(conn !== null);
  assertEquals(conn.remoteAddr, bad.localAddr);
  assertStrictEquals(conn.error, err);
  // The failed connection ends; the other one keeps working.
  try {
    assertEquals(await bad.receive(), undefined);
  } catch (e) {
    assertInstanceOf(e, NetError); // a reset is fine too
  }
  await good.send("after");
  assertEquals(await good.receive(), "after");
  assertEquals(server.stats.errors, 1);
  await until(() => server.stats.closed === 1);
  assertEquals(server.stats.active, 1);
});

Deno.test("`serve()` survives a handler that throws synchronously", async () => {
  const errors: Error[] = [];
  let calls = 0;
  await using server = serve({
    port: 0,
    codec: LINES,
    onError: (err) => void errors.push(err),
  }, (conn) => {
    if (++calls === 1) throw new TypeError("Not a function, on purpose");
    return echo(conn);
  });
  const first = await dial(server);
  assertEquals((await readToEnd(first)).text, "");
  first.close();
  await using second = await connect(server.addr, { codec: LINES });
  await second.send("ok");
  assertEquals(await second.receive(), "ok");
  assertEquals(errors.length, 1);
  assertInstanceOf(errors[0], TypeError);
});

Deno.test("`serve()` refuses a socket whose codec cannot make a decoder and serves the next", async () => {
  const errors: Error[] = [];
  let made = 0;
  const codec = {
    ...LINES,
    decoder: () => {
      if (++made === 1) throw new TypeError("No decoder today, on purpose");
      return LINES.decoder();
    },
  };
  await using server = serve({
    port: 0,
    codec,
    onError: (err) => void errors.push(err),
  }, echo);
  const first = await dial(server);
  const refused = readToEnd(first);
  assertFalse(await stillPending(refused, 2000), "the socket was not closed");
  assertEquals((await refused).text, "");
  first.close();
  await using second = await connect(server.addr, { codec: LINES });
  await second.send("ok");
  const reply = second.receive();
  assertFalse(
    await stillPending(reply, 2000),
    "the next client was not served",
  );
  assertEquals(await reply, "ok");
  assertEquals(server.stats.rejected, 1);
  assertEquals(errors.length, 1);
  assertInstanceOf(errors[0], TypeError);
});

Deno.test("`serve()` reports a connection timeout to onError and onClose", async () => {
  const reported = Promise.withResolvers<Error>();
  const closedWith = Promise.withResolvers<Error | null>();
  await using server = serve({
    port: 0,
    codec: LINES,
    idleTimeout: 100,
    onError: (err) => reported.resolve(err),
    onClose: (_conn, err) => closedWith.resolve(err),
  }, echo);
  const client = await connect(server.addr, { codec: LINES });
  const err = await reported.promise;
  assertInstanceOf(err, TimeoutError);
  assertEquals(err.kind, "idle");
  // An idle timeout closes gracefully: the server's FIN, then it lingers
  // until the client closes too.
  assertEquals(await client.receive(), undefined);
  assert(await stillPending(closedWith.promise, 50));
  await client.close();
  assertStrictEquals(await closedWith.promise, err);
  await client.closed;
});

Deno.test("`serve()` without onError writes one line per error to stderr and keeps serving", async () => {
  // In a child process, so that the line can be read from its stderr.
  const url = (name: string) => new URL(name, import.meta.url).href;
  const code = `
    import { connect } from "${url("./client.ts")}";
    import { lines, text } from "${url("./codec.ts")}";
    import { serve } from "${url("./server.ts")}";
    const codec = text(lines());
    const server = serve({ port: 0, codec }, async (conn) => {
      const line = await conn.receive();
      if (line === "boom") throw new Error("Boom at the handler");
      await conn.send(line ?? "");
    });
    const bad = await connect(server.addr, { codec });
    await bad.send("boom");
    await bad.receive();
    await bad.close();
    const good = await connect(server.addr, { codec });
    await good.send("fine");
    const reply = await good.receive();
    await good.close();
    await server.shutdown();
    console.log(reply, bad.localAddr.port, server.stats.errors);
  `;
  const { code: status, stdout, stderr } = await new Deno.Command(
    Deno.execPath(),
    { args: ["eval", code], stdout: "piped", stderr: "piped" },
  ).output();
  const err = new TextDecoder().decode(stderr);
  assertEquals(status, 0, err);
  const [reply, port, errors] = new TextDecoder().decode(stdout).trim()
    .split(" ");
  assertEquals([reply, errors], ["fine", "1"]);
  assertEquals(err, `netkit: Error (127.0.0.1:${port}): Boom at the handler\n`);
});

Deno.test("`serve()` keeps serving when onError throws", async () => {
  let calls = 0;
  await using server = serve({
    port: 0,
    codec: LINES,
    onError: () => {
      calls++;
      throw new Error("A broken error hook");
    },
  }, async (conn) => {
    const line = await conn.receive();
    if (line === "boom") throw new Error("Boom");
    await conn.send(line ?? "");
  });
  await using bad = await connect(server.addr, { codec: LINES });
  await bad.send("boom");
  assertEquals(await bad.receive(), undefined);
  await using good = await connect(server.addr, { codec: LINES });
  await good.send("fine");
  assertEquals(await good.receive(), "fine");
  assertEquals(calls, 1);
});

// ---------------------------------------------------------------------------
// Shutdown

Deno.test("`Server.shutdown()` delivers every reply to messages already sent", async () => {
  const first = Promise.withResolvers<void>();
  const server = serve({ port: 0, codec: LINES }, async (conn) => {
    for await (const line of conn) {
      first.resolve();
      await sleep(20);
      await conn.send(`re ${line}`);
    }
  });
  const client = await dial(server);
  const msgs = ["a", "b", "c", "d", "e"];
  // One write: the server reads all of it before it stops reading.
  await writeAll(client, utf8.encode(msgs.map((m) => `${m}\n`).join("")));
  await first.promise;
  const shutdown = server.shutdown({ timeout: 5000 });
  const { text, end } = await readToEnd(client);
  assertEquals(text, msgs.map((m) => `re ${m}\n`).join(""));
  assertEquals(end, "eof");
  // The server lingers until the client closes too.
  assert(await stillPending(shutdown, 50));
  client.close();
  await shutdown;
  assertEquals(server.stats.closed, 1);
  assertEquals(server.stats.errors, 0);
  await server.finished;
});

Deno.test("`Server.shutdown()` stops accepting and is safe to call twice", async () => {
  const server = serve({ port: 0, codec: LINES }, echo);
  const port = portOf(server);
  const a = server.shutdown();
  const b = server.shutdown();
  assertStrictEquals(a, b);
  await a;
  await assertRejects(
    () => connect({ hostname: "127.0.0.1", port }),
    ConnectionRefusedError,
  );
});

Deno.test("`Server.shutdown()` aborts a handler stuck on a peer that never reads after the timeout", async () => {
  const closedWith = Promise.withResolvers<Error | null>();
  const started = Promise.withResolvers<void>();
  const server = serve({
    port: 0,
    onError() {},
    onClose: (_conn, err) => closedWith.resolve(err),
  }, async (conn) => {
    started.resolve();
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < 1024; i++) await conn.send(big);
  });
  const client = await dial(server);
  await started.promise;
  const start = performance.now();
  await within(server.shutdown({ timeout: 200 }), 5000, "shutdown()");
  assertGreaterOrEqual(performance.now() - start, 190);
  const err = await closedWith.promise;
  assertInstanceOf(err, ServerClosedError);
  assertEquals(server.connections.size, 0);
  client.close();
  await server.finished;
});

Deno.test("`Server.shutdown()` returns after the timeout even when a handler never returns", async () => {
  const gate = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const closedWith = Promise.withResolvers<Error | null>();
  const server = serve({
    port: 0,
    onError() {},
    onClose: (_conn, err) => closedWith.resolve(err),
  }, async () => {
    started.resolve();
    await gate.promise; // ignores the connection altogether
  });
  const client = await dial(server);
  try {
    await started.promise;
    const start = performance.now();
    await within(server.shutdown({ timeout: 200 }), 5000, "shutdown()");
    const elapsed = performance.now() - start;
    assertGreaterOrEqual(elapsed, 190);
    assertLess(elapsed, 5000);
    assertInstanceOf(await closedWith.promise, ServerClosedError);
    assertEquals(server.connections.size, 0);
    assertEquals(server.stats.active, 0);
    // The client sees the connection end.
    assertEquals((await readToEnd(client)).text, "");
    await within(server.finished, 1000, "finished");
  } finally {
    gate.resolve();
    client.close();
  }
});

Deno.test("`serve()` shuts down at the end of an `await using` block", async () => {
  let port: number;
  let finished: Promise<void>;
  {
    await using server = serve({ port: 0, codec: LINES }, echo);
    port = portOf(server);
    finished = server.finished;
    await using client = await connect(server.addr, { codec: LINES });
    await client.send("x");
    assertEquals(await client.receive(), "x");
  }
  assertFalse(await stillPending(finished, 0));
  await assertRejects(
    () => connect({ hostname: "127.0.0.1", port }),
    ConnectionRefusedError,
  );
});

Deno.test("`serve()` shuts down when its signal aborts", async () => {
  const controller = new AbortController();
  const server = serve(
    { port: 0, codec: LINES, signal: controller.signal },
    echo,
  );
  const client = await connect(server.addr, { codec: LINES });
  await client.send("x");
  assertEquals(await client.receive(), "x");
  assert(await stillPending(server.finished, 20));
  controller.abort();
  // The handler's reader gets EOF: the client's connection ends.
  assertEquals(await client.receive(), undefined);
  await client.close();
  await within(server.finished, 5000, "finished");
  await client.closed;
  await assertRejects(() => connect(server.addr), ConnectionRefusedError);
});

Deno.test("`serve()` with an already aborted signal does not serve", async () => {
  const server = serve(
    { port: 0, signal: AbortSignal.abort() },
    () => {},
  );
  await within(server.finished, 5000, "finished");
  await assertRejects(() => connect(server.addr), ConnectionRefusedError);
});

Deno.test("`Server.finished` resolves only after shutdown and every connection closed", async () => {
  const release = Promise.withResolvers<void>();
  const server = serve({ port: 0, onError() {} }, async (conn) => {
    await conn.send(utf8.encode("hi"));
    await release.promise;
  });
  const client = await dial(server);
  const buf = new Uint8Array(2);
  assertEquals(await client.read(buf), 2);
  assert(await stillPending(server.finished, 20));
  const shutdown = server.shutdown({ timeout: 5000 });
  // A handler still runs: not finished.
  assert(await stillPending(server.finished, 50));
  release.resolve();
  // The server's FIN: the client reads EOF.
  assertEquals(await client.read(buf), null);
  // The server lingers until the client closes: still not finished.
  assert(await stillPending(server.finished, 50));
  client.close();
  await shutdown;
  await within(server.finished, 1000, "finished");
  assertEquals(server.stats.closed, 1);
});

// ---------------------------------------------------------------------------
// PROXY protocol

const SOURCE4 = {
  transport: "tcp",
  hostname: "192.0.2.1",
  port: 56324,
} as const;
const DEST4 = {
  transport: "tcp",
  hostname: "198.51.100.1",
  port: 443,
} as const;
const SOURCE6 = {
  transport: "tcp",
  hostname: "2001:db8::5",
  port: 1234,
} as const;
const DEST6 = { transport: "tcp", hostname: "2001:db8::1", port: 443 } as const;

/** A server that answers each line with the peer address it sees. */
function whoami(options: Parameters<typeof serve<string>>[0]) {
  return serve<string>(
    { port: 0, codec: LINES, ...options },
    async (conn) => {
      for await (const line of conn) {
        await conn.send(`${line} ${formatAddr(conn.remoteAddr)}`);
      }
    },
  );
}

for (
  const [mode, version, source, destination] of [
    ["v1", 1, SOURCE4, DEST4],
    ["v2", 2, SOURCE4, DEST4],
    ["v2", 2, SOURCE6, DEST6],
    ["any", 1, SOURCE6, DEST6],
    ["any", 2, SOURCE4, DEST4],
  ] as const
) {
  Deno.test(`\`serve()\` with proxyProtocol "${mode}" reports a v${version} header's source ${source.hostname} as remoteAddr`, async () => {
    await using server = whoami({ proxyProtocol: mode });
    const conn = await dial(server);
    const header = encodeProxyHeader({ version, source, destination });
    await writeAll(conn, header);
    await writeAll(conn, utf8.encode("hello\n"));
    await conn.closeWrite();
    const { text } = await readToEnd(conn);
    conn.close();
    assertEquals(text, `hello ${formatAddr(source)}\n`);
    assertEquals(server.stats.rejected, 0);
  });
}

Deno.test("`serve()` keeps the socket address for a PROXY v2 LOCAL header", async () => {
  await using server = whoami({ proxyProtocol: "v2" });
  const conn = await dial(server);
  await writeAll(conn, encodeProxyHeader({ version: 2, command: "LOCAL" }));
  await writeAll(conn, utf8.encode("health\n"));
  await conn.closeWrite();
  const { text } = await readToEnd(conn);
  const local = conn.localAddr;
  conn.close();
  assertEquals(text, `health ${formatAddr(local)}\n`);
});

Deno.test("`serve()` keeps the socket address for a PROXY v2 LOCAL header of family TCP4 without addresses", async () => {
  await using server = whoami({ proxyProtocol: "v2" });
  const conn = await dial(server);
  // 20 11 00 00: LOCAL, TCP over IPv4, length 0 (the family is ignored).
  const header = encodeProxyHeader({ version: 2, command: "LOCAL" });
  header[13] = 0x11;
  await writeAll(conn, header);
  await writeAll(conn, utf8.encode("health\n"));
  await conn.closeWrite();
  const { text } = await readToEnd(conn);
  const local = conn.localAddr;
  conn.close();
  assertEquals(text, `health ${formatAddr(local)}\n`);
  assertEquals(server.stats.rejected, 0);
});

Deno.test("`serve()` passes the bytes after a PROXY header on to the handler", async () => {
  await using server = whoami({ proxyProtocol: "v1" });
  const conn = await dial(server);
  const header = encodeProxyHeader({
    version: 1,
    source: SOURCE4,
    destination: DEST4,
  });
  const rest = utf8.encode("one\ntwo\nthr");
  const wire = new Uint8Array(header.length + rest.length);
  wire.set(header);
  wire.set(rest, header.length);
  // Header and data in one write: the leftover arrives in the same read.
  await writeAll(conn, wire);
  await writeAll(conn, utf8.encode("ee\n"));
  await conn.closeWrite();
  const { text } = await readToEnd(conn);
  conn.close();
  const peer = formatAddr(SOURCE4);
  assertEquals(text, `one ${peer}\ntwo ${peer}\nthree ${peer}\n`);
});

Deno.test("`serve()` closes and counts a PROXY header from an untrusted source", async () => {
  const errors: Array<[Error, unknown]> = [];
  await using server = whoami({
    proxyProtocol: "v1",
    trustedProxies: ["10.0.0.0/8"],
    onError: (err, conn) => void errors.push([err, conn]),
  });
  const conn = await dial(server);
  const header = encodeProxyHeader({
    version: 1,
    source: SOURCE4,
    destination: DEST4,
  });
  // The server may close before it reads: the write can fail.
  await conn.write(header).catch(() => {});
  const { text } = await readToEnd(conn);
  conn.close();
  assertEquals(text, "");
  assertEquals(server.stats.rejected, 1);
  assertEquals(server.stats.closed, 0);
  assertEquals(errors.length, 1);
  assertInstanceOf(errors[0]![0], ProxyProtocolError);
  assertStringIncludes(errors[0]![0].message, "not a trusted proxy");
  assertStrictEquals(errors[0]![1], null);
});

Deno.test("`serve()` closes and counts a malformed PROXY header", async () => {
  const errors: Error[] = [];
  await using server = whoami({
    proxyProtocol: "any",
    onError: (err) => void errors.push(err),
  });
  const conn = await dial(server);
  await writeAll(conn, utf8.encode("PROXY TCP4 not an address at all\r\n"));
  const { text } = await readToEnd(conn);
  conn.close();
  assertEquals(text, "");
  assertEquals(server.stats.rejected, 1);
  assertEquals(errors.length, 1);
  assertInstanceOf(errors[0], ProxyProtocolError);
});

Deno.test("`serve()` closes a connection whose PROXY header is late with TimeoutError kind proxy-header", async () => {
  const reported = Promise.withResolvers<Error>();
  await using server = whoami({
    proxyProtocol: "v1",
    proxyHeaderTimeout: 200,
    onError: (err) => reported.resolve(err),
  });
  const conn = await dial(server);
  const start = performance.now();
  await writeAll(conn, utf8.encode("PROXY TCP4 192.0.2.1")); // and no more
  const { text } = await readToEnd(conn);
  conn.close();
  assertEquals(text, "");
  const err = await reported.promise;
  assertInstanceOf(err, TimeoutError);
  assertEquals(err.kind, "proxy-header");
  assertEquals(err.timeout, 200);
  assertGreaterOrEqual(performance.now() - start, 190);
  assertEquals(server.stats.rejected, 1);
});

Deno.test("`serve()` counts a connection that ends inside the PROXY header as rejected", async () => {
  const errors: Error[] = [];
  await using server = whoami({
    proxyProtocol: "v1",
    onError: (err) => void errors.push(err),
  });
  const conn = await dial(server);
  await writeAll(conn, utf8.encode("PROXY TC"));
  await conn.closeWrite();
  await readToEnd(conn);
  conn.close();
  await until(() => server.stats.rejected === 1);
  assertInstanceOf(errors[0], ProxyProtocolError);
});

// ---------------------------------------------------------------------------
// Unix sockets and TLS

Deno.test("`serve()` serves a unix socket and removes it at shutdown", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit_unix_" });
  try {
    const path = `${dir}/server.sock`;
    const server = serve({ path, codec: LINES }, echo);
    assertEquals(server.addr, { transport: "unix", path });
    const client = await connect({ path }, { codec: LINES });
    await client.send("unix");
    assertEquals(await client.receive(), "unix");
    assertEquals(server.connections.size, 1);
    await client.close();
    await server.shutdown();
    await assertRejects(() => Deno.stat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`serve()` serves TLS with a certificate made by openssl", async () => {
  const { cert, key } = await testCert();
  await using server = serve(
    { port: 0, codec: LINES, tls: { cert, key } },
    echo,
  );
  await using client = await connect(
    { hostname: "localhost", port: portOf(server) },
    { codec: LINES, tls: { caCerts: [cert] } },
  );
  await client.send("Hello, TLS!");
  assertEquals(await client.receive(), "Hello, TLS!");
  assertEquals(server.stats.accepted, 1);
  assertEquals(server.stats.rejected, 0);
});

Deno.test("`serve()` counts a garbage TLS handshake as rejected and serves a good client", async () => {
  const { cert, key } = await testCert();
  const errors: Error[] = [];
  await using server = serve(
    {
      port: 0,
      codec: LINES,
      tls: { cert, key },
      onError: (err) => void errors.push(err),
    },
    echo,
  );
  const garbage = await dial(server);
  const noise = new Uint8Array(512);
  crypto.getRandomValues(noise);
  noise[0] = 0x47; // "G": never a TLS record type
  await writeAll(garbage, noise);
  await readToEnd(garbage).catch(() => {});
  garbage.close();
  await until(() => server.stats.rejected === 1);
  assertEquals(errors.length, 1);
  assertInstanceOf(errors[0], TlsError);
  assertStringIncludes(errors[0].message, "TLS handshake failed");
  await using client = await connect(
    { hostname: "localhost", port: portOf(server) },
    { codec: LINES, tls: { caCerts: [cert] } },
  );
  await client.send("still serving");
  assertEquals(await client.receive(), "still serving");
  assertEquals(server.stats.accepted, 2);
  assertEquals(server.stats.rejected, 1);
});

Deno.test("`serve()` closes a TLS client that never finishes the handshake after handshakeTimeout", async () => {
  const { cert, key } = await testCert();
  const reported = Promise.withResolvers<Error>();
  await using server = serve(
    {
      port: 0,
      tls: { cert, key, handshakeTimeout: 150 },
      onError: (err) => reported.resolve(err),
    },
    () => {},
  );
  const conn = await dial(server);
  const start = performance.now();
  const err = await reported.promise;
  assertInstanceOf(err, TimeoutError);
  assertEquals(err.kind, "handshake");
  assertEquals(err.timeout, 150);
  assertGreaterOrEqual(performance.now() - start, 140);
  assertEquals(server.stats.rejected, 1);
  assertEquals(server.stats.active, 0);
  // Deno closes a TLS socket only once its handshake is over, so the
  // client does not see EOF here; it hangs up itself.
  conn.close();
});

// ---------------------------------------------------------------------------
// Options

Deno.test("`serve()` rejects options that do not go together", async () => {
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => serve({ port: 0 }, "not a handler" as any),
    TypeError,
    "handler",
  );
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => serve({ port: 0, proxyProtocol: "v3" as any }, () => {}),
    TypeError,
    "proxyProtocol",
  );
  assertThrows(
    () =>
      serve({
        port: 0,
        proxyProtocol: "v1",
        tls: { cert: "x", key: "y" },
      }, () => {}),
    TypeError,
    "tls",
  );
  assertThrows(
    () => serve({ port: 0, maxConnections: 0 }, () => {}),
    RangeError,
    "maxConnections",
  );
  // Connection options are checked before a listener opens.
  assertThrows(
    () => serve({ port: 0, idleTimeout: -1 }, () => {}),
    RangeError,
    "idleTimeout",
  );
  assertThrows(
    () => serve({ port: 0, highWaterMark: 10, lowWaterMark: 20 }, () => {}),
    RangeError,
    "low",
  );
  await using server = serve({ port: 0 }, () => {});
  const err = assertThrows(
    () => serve({ port: portOf(server) }, () => {}),
    NetError,
  );
  assertEquals((err as NetError).code, "EADDRINUSE");
});

Deno.test("`serve()` binds 127.0.0.1 by default", async () => {
  await using server = serve({}, () => {});
  const addr = server.addr as Deno.NetAddr;
  assertEquals(addr.hostname, "127.0.0.1");
  assert(addr.port > 0);
});

// ---------------------------------------------------------------------------
// Idle memory

/**
 * The JavaScript heap that each of `count` idle connections adds to a
 * server, after each echoed one 2-byte length-prefixed frame: the heap
 * after a full GC with them open, less the heap before (the code paths
 * warmed up by as many connections first). The clients are in this process
 * too: only a difference between two servers means anything.
 */
async function idleHeap(
  count: number,
  start: () => { port: number; stop(): Promise<void> },
): Promise<number> {
  const gc = fullGc();
  const server = start();
  const frame = new Uint8Array([0, 0, 0, 2, 7, 7]);
  const open = async () => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await writeAll(c, frame);
    const reply = new Uint8Array(frame.length);
    for (let got = 0; got < reply.length;) {
      const n = await c.read(reply.subarray(got));
      assert(n !== null, "The server closed an idle connection");
      got += n;
    }
    assertEquals(reply, frame);
    return c;
  };
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 50));
    gc();
    return Deno.memoryUsage().heapUsed;
  };
  try {
    for (const c of await Promise.all(Array.from({ length: count }, open))) {
      c.close();
    }
    const before = await settle();
    const conns = await Promise.all(Array.from({ length: count }, open));
    const after = await settle();
    for (const c of conns) c.close();
    return (after - before) / count;
  } finally {
    await server.stop();
  }
}

Deno.test("`serve()` with `forEach()` holds under 2 KiB of heap per idle connection beyond what a bare socket read holds", async () => {
  const COUNT = 200;
  // The floor: a bare Deno server whose connections each wait in a read.
  const floor = await idleHeap(COUNT, () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const handlers: Promise<void>[] = [];
    const echo = async (c: Deno.Conn) => {
      const buf = new Uint8Array(1024);
      try {
        for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
          await writeAll(c, buf.subarray(0, n));
        }
      } finally {
        c.close();
      }
    };
    const accepting = (async () => {
      for await (const c of listener) handlers.push(echo(c));
    })();
    return {
      port: (listener.addr as Deno.NetAddr).port,
      async stop() {
        listener.close();
        await accepting;
        await Promise.all(handlers);
      },
    };
  });
  const netkit = await idleHeap(COUNT, () => {
    const server = serve(
      { port: 0, codec: lengthPrefixed() },
      (conn) => conn.forEach((m) => conn.write(m)),
    );
    return {
      port: portOf(server),
      async stop() {
        await server.shutdown();
        await server.finished;
      },
    };
  });
  // The connection, its reader, writer, read buffer, decoder and forEach
  // loop, the pending read's callbacks and the server's record: about
  // 1.8 KiB (the read array itself is not on the heap).
  assertLessOrEqual(
    netkit - floor,
    2048,
    `${(netkit - floor).toFixed(0)} bytes per connection beyond the floor's ${
      floor.toFixed(0)
    }`,
  );
});
