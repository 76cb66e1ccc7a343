// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertGreater,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import { connect } from "./client.ts";
import { lines, text } from "./codec.ts";
import type { Connection } from "./connection.ts";
import {
  ConnectionRefusedError,
  isRetryable,
  TimeoutError,
  TlsError,
} from "./errors.ts";
import { formatAddr, serve, type Server } from "./server.ts";

import { testCert } from "./_test_utils.ts";
// ---------------------------------------------------------------------------
// Helpers

const LINES = text(lines());

/** A port nothing listens on (it was free a moment ago). */
function closedPort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** The TCP port of a server. */
function portOf(server: { addr: Deno.Addr }): number {
  return (server.addr as Deno.NetAddr).port;
}

/** A line echo handler. */
async function echo(conn: Connection<string>): Promise<void> {
  for await (const line of conn) await conn.send(line);
}

/**
 * A TCP listener that accepts connections and never says a word: a TLS
 * client's handshake hangs on it.
 */
function silentListener(): {
  port: number;
  accepted: Deno.Conn[];
  [Symbol.asyncDispose](): Promise<void>;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const loop = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  return {
    port: listener.addr.port,
    accepted,
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
      for (const conn of accepted) conn.close();
    },
  };
}

// ---------------------------------------------------------------------------
// Failures

Deno.test("`connect()` throws ConnectionRefusedError when nothing listens", async () => {
  const port = closedPort();
  const err = await assertRejects(
    () => connect({ hostname: "127.0.0.1", port }),
    ConnectionRefusedError,
  );
  assertEquals((err as ConnectionRefusedError).code, "ECONNREFUSED");
  assertStringIncludes((err as Error).message, `127.0.0.1:${port}`);
  assertInstanceOf((err as Error).cause, Deno.errors.ConnectionRefused);
});

Deno.test("`connect()` throws TimeoutError kind connect when the handshake never completes", async () => {
  await using silent = silentListener();
  const start = performance.now();
  const err = await assertRejects(
    () =>
      connect({ hostname: "127.0.0.1", port: silent.port }, {
        tls: true,
        connectTimeout: 200,
      }),
    TimeoutError,
  );
  const elapsed = performance.now() - start;
  assertEquals((err as TimeoutError).kind, "connect");
  assertEquals((err as TimeoutError).timeout, 200);
  assert(isRetryable(err));
  assertGreaterOrEqual(elapsed, 190);
  assertLess(elapsed, 5000);
});

Deno.test("`connect()` rejects with signal.reason when the signal aborts mid-connect", async () => {
  await using silent = silentListener();
  const controller = new AbortController();
  const reason = new Error("Changed my mind");
  const timer = setTimeout(() => controller.abort(reason), 100);
  try {
    const err = await assertRejects(() =>
      connect({ hostname: "127.0.0.1", port: silent.port }, {
        tls: true,
        signal: controller.signal,
        connectTimeout: 10_000,
      })
    );
    assertStrictEquals(err, reason);
  } finally {
    clearTimeout(timer);
  }
});

Deno.test("`connect()` rejects with signal.reason when the signal is already aborted", async () => {
  await using server = serve({ port: 0, onError() {} }, () => {});
  const reason = new Error("Too late");
  const err = await assertRejects(() =>
    connect(server.addr, { signal: AbortSignal.abort(reason) })
  );
  assertStrictEquals(err, reason);
});

Deno.test("`connect()` rejects a port out of range with RangeError", async () => {
  await assertRejects(() => connect({ port: 70000 }), RangeError, "port");
  await assertRejects(() => connect({ port: 1.5 }), RangeError, "port");
});

Deno.test("`connect()` rejects bad connection options before it opens a socket", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) accepted.push(c);
  })();
  await assertRejects(
    () => connect(listener.addr, { readTimeout: Number.NaN }),
    RangeError,
    "readTimeout",
  );
  await assertRejects(
    () => connect(listener.addr, { highWaterMark: -1 }),
    RangeError,
  );
  listener.close();
  await accepting.catch(() => {});
  // Nothing reached the listener (and the sanitizer sees no socket left).
  assertEquals(accepted.length, 0);
});

Deno.test("`connect()` rejects TLS over a unix socket with TypeError", async () => {
  await assertRejects(
    () => connect({ path: "/nonexistent/netkit.sock" }, { tls: true }),
    TypeError,
    "unix",
  );
});

// ---------------------------------------------------------------------------
// Retry

Deno.test("`connect()` retries until a server that comes up late accepts", async () => {
  const port = closedPort();
  let server: Server<string> | undefined;
  const timer = setTimeout(() => {
    server = serve({ port, codec: LINES }, echo);
  }, 300);
  const retried: unknown[] = [];
  try {
    const start = performance.now();
    await using conn = await connect({ hostname: "127.0.0.1", port }, {
      codec: LINES,
      retry: {
        maxAttempts: 200,
        minDelay: 20,
        maxDelay: 50,
        maxElapsed: 20_000,
        onRetry: (err) => void retried.push(err),
      },
    });
    assertGreaterOrEqual(performance.now() - start, 250);
    assertGreater(retried.length, 0);
    for (const err of retried) assertInstanceOf(err, ConnectionRefusedError);
    await conn.send("late but here");
    assertEquals(await conn.receive(), "late but here");
  } finally {
    clearTimeout(timer);
    await server?.shutdown();
  }
  assert(server !== undefined);
});

Deno.test("`connect()` throws the last error after maxAttempts", async () => {
  const port = closedPort();
  let retries = 0;
  await assertRejects(
    () =>
      connect({ hostname: "127.0.0.1", port }, {
        retry: { maxAttempts: 3, minDelay: 5, onRetry: () => void retries++ },
      }),
    ConnectionRefusedError,
  );
  assertEquals(retries, 2);
});

Deno.test("`connect()` never retries a certificate failure", async () => {
  const { cert, key } = await testCert();
  const errors: Error[] = [];
  await using server = serve(
    { port: 0, tls: { cert, key }, onError: (e) => void errors.push(e) },
    () => {},
  );
  let retries = 0;
  const err = await assertRejects(
    () =>
      connect({ hostname: "localhost", port: portOf(server) }, {
        tls: true, // the system's roots only: the self-signed cert is unknown
        retry: { maxAttempts: 5, minDelay: 1, onRetry: () => void retries++ },
      }),
    TlsError,
  );
  assertStringIncludes((err as Error).message, "certificate");
  assertFalse(isRetryable(err));
  assertEquals(retries, 0);
  assertEquals(server.stats.accepted, 1);
});

Deno.test("`connect()` fails with TlsError, and does not retry, when the server does not speak TLS", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const answering = (async () => {
    for await (const conn of listener) {
      accepted++;
      try {
        await conn.write(
          new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"),
        );
      } catch {
        // The client gave up first.
      }
      conn.close();
    }
  })();
  let retries = 0;
  try {
    const err = await assertRejects(
      () =>
        connect({ hostname: "127.0.0.1", port: listener.addr.port }, {
          tls: true,
          retry: { maxAttempts: 3, minDelay: 1, onRetry: () => void retries++ },
        }),
      TlsError,
      "TLS handshake failed",
    );
    assertFalse(isRetryable(err));
    assertEquals(retries, 0);
    assertEquals(accepted, 1);
  } finally {
    listener.close();
    await answering;
  }
});

// ---------------------------------------------------------------------------
// TLS, unix sockets, PROXY header

Deno.test("`connect()` round-trips over TLS with caCerts", async () => {
  const { cert, key } = await testCert();
  await using server = serve(
    { port: 0, codec: LINES, tls: { cert, key } },
    echo,
  );
  const port = portOf(server);
  // By name, then by IP address: the certificate has both.
  for (const hostname of ["localhost", "127.0.0.1"]) {
    await using conn = await connect({ hostname, port }, {
      codec: LINES,
      tls: { caCerts: [cert] },
    });
    await conn.send(`Hello over TLS to ${hostname}`);
    assertEquals(await conn.receive(), `Hello over TLS to ${hostname}`);
  }
  // The server name can differ from the address connected to.
  await using conn = await connect({ hostname: "127.0.0.1", port }, {
    codec: LINES,
    tls: { caCerts: [cert], serverName: "localhost" },
  });
  await conn.send("named");
  assertEquals(await conn.receive(), "named");
});

Deno.test("`connect()` fails with TlsError when serverName does not match the certificate", async () => {
  const { cert, key } = await testCert();
  await using server = serve(
    { port: 0, tls: { cert, key }, onError() {} },
    () => {},
  );
  await assertRejects(
    () =>
      connect({ hostname: "127.0.0.1", port: portOf(server) }, {
        tls: { caCerts: [cert], serverName: "example.com" },
      }),
    TlsError,
  );
});

Deno.test("`connect()` round-trips over a unix socket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit_unix_" });
  try {
    const path = `${dir}/echo.sock`;
    await using server = serve({ path, codec: LINES }, echo);
    assertEquals(server.addr.transport, "unix");
    await using conn = await connect({ path }, { codec: LINES });
    await conn.send("over a unix socket");
    assertEquals(await conn.receive(), "over a unix socket");
    assertEquals(conn.remoteAddr.transport, "unix");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`connect()` accepts the server's own address object", async () => {
  await using server = serve({ port: 0, codec: LINES }, echo);
  await using conn = await connect(server.addr, { codec: LINES });
  await conn.send("addr");
  assertEquals(await conn.receive(), "addr");
  assertEquals(conn.remoteAddr, server.addr);
});

for (const version of [1, 2] as const) {
  Deno.test(`\`connect()\` writes a v${version} PROXY header that the server reports as remoteAddr`, async () => {
    await using server = serve(
      { port: 0, codec: LINES, proxyProtocol: `v${version}` },
      async (conn) => {
        for await (const line of conn) {
          await conn.send(`${line} from ${formatAddr(conn.remoteAddr)}`);
        }
      },
    );
    const source = version === 1
      ? { transport: "tcp", hostname: "192.0.2.1", port: 56324 } as const
      : { transport: "tcp", hostname: "2001:db8::7", port: 4242 } as const;
    const destination = version === 1
      ? { transport: "tcp", hostname: "198.51.100.1", port: 443 } as const
      : { transport: "tcp", hostname: "2001:db8::1", port: 443 } as const;
    await using conn = await connect(server.addr, {
      codec: LINES,
      proxyHeader: { version, source, destination },
    });
    await conn.send("hi");
    assertEquals(
      await conn.receive(),
      `hi from ${
        formatAddr({
          transport: "tcp",
          hostname: source.hostname,
          port: source.port,
        })
      }`,
    );
  });
}

Deno.test("`connect()` passes timeouts on to the connection", async () => {
  await using server = serve({ port: 0, codec: LINES }, echo);
  await using conn = await connect(server.addr, {
    codec: LINES,
    idleTimeout: 100,
  });
  const err = await assertRejects(() => conn.receive(), TimeoutError);
  assertEquals((err as TimeoutError).kind, "idle");
});

Deno.test("`connect()` applies the water marks", async () => {
  await using server = serve({ port: 0 }, async (conn) => {
    for await (const chunk of conn) await conn.send(chunk);
  });
  await using conn = await connect(server.addr, {
    highWaterMark: 100,
    lowWaterMark: 10,
  });
  // A 200-byte write is over the high-water mark at once.
  assertFalse(conn.write(new Uint8Array(200)));
  await conn.drain();
  let got = 0;
  while (got < 200) got += (await conn.receive())!.length;
  assertEquals(got, 200);
});
