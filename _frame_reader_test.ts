// Copyright 2026 the netkit authors. MIT license.

// The read path: one read buffer per connection, frames decoded when the
// application asks, procedural reads on the same buffer, codec switches and
// a STARTTLS upgrade that lose no buffered byte, errors after good messages.

import {
  assert,
  assertEquals,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import {
  connect,
  Connection,
  DecodeError,
  type DecodeInput,
  FrameTooLargeError,
  json,
  lengthPrefixed,
  lines,
  NEED_MORE,
  serve,
  text,
  UnexpectedEofError,
} from "./mod.ts";
import { connectionPair, transportPair } from "./testing.ts";

const te = new TextEncoder();
const td = new TextDecoder();

Deno.test("`Connection` decodes nothing ahead of its consumer: a consumer that stops asking stops the reads", async () => {
  const [ta, tb] = transportPair();
  let reads = 0;
  const counting = {
    ...tb,
    read(p: Uint8Array) {
      reads++;
      return tb.read(p);
    },
    write: (p: Uint8Array) => tb.write(p),
    closeWrite: () => tb.closeWrite(),
    close: () => tb.close(),
    localAddr: tb.localAddr,
    remoteAddr: tb.remoteAddr,
  };
  const b = new Connection(counting, { codec: text(lines()) });
  // 10 000 lines arrive; the consumer takes one.
  await ta.write(te.encode("x\n".repeat(9_999) + "last\n"));
  const first = await b.receive();
  assertEquals(first, "x");
  const readsAfterOne = reads;
  await new Promise((r) => setTimeout(r, 50));
  // No read was made while the consumer did not ask.
  assertEquals(reads, readsAfterOne);
  // What the connection holds is bytes, bounded, not message objects.
  assertEquals(b.stats.messagesRead, 1);
  let n = 1;
  for await (const line of b) {
    if (line === "last") break;
    n++;
  }
  assertEquals(n, 9_999);
  ta.close();
  await b.close();
});

Deno.test("`Connection.receive()` tells a null message from the end of the stream", async () => {
  const [a, b] = connectionPair({ codec: json(lines()) });
  await a.send(null);
  await a.send({ n: 1 });
  await a.closeWrite();
  assertStrictEquals(await b.receive(), null);
  assertEquals(await b.receive(), { n: 1 });
  assertStrictEquals(await b.receive(), undefined);
  await b.close();
  await a.close();
});

Deno.test("`Connection` delivers every message before a bad frame, then the error, and can still reply", async () => {
  await using server = serve({
    port: 0,
    hostname: "127.0.0.1",
    codec: text(lines({ maxLength: 32 })),
    onError: () => {},
  }, async (conn) => {
    try {
      for await (const line of conn) await conn.send(`ok ${line}`);
    } catch (err) {
      await conn.send(`error ${(err as Error).name}`);
    }
  });
  const { port } = server.addr as Deno.NetAddr;
  using raw = await Deno.connect({ hostname: "127.0.0.1", port });
  await raw.write(te.encode("a\nb\n" + "x".repeat(40) + "\nc\n"));
  let got = "";
  const buf = new Uint8Array(1024);
  for (;;) {
    const n = await raw.read(buf);
    if (n === null) break;
    got += td.decode(buf.subarray(0, n));
  }
  assertEquals(got, "ok a\nok b\nerror FrameTooLargeError\n");
});

Deno.test("`Connection.readExactly()`, `readUntil()`, `readLine()` and `readUint()` share the buffer with messages", async () => {
  const [a, b] = connectionPair();
  const wire = new Uint8Array([
    ...te.encode("HELLO 2\r\n"),
    0x01,
    0x02,
    ...te.encode("abc|"),
    0,
    0,
    0,
    3,
    7,
    8,
    9,
    ...te.encode("tail\n"),
  ]);
  // One byte at a time: every read must carry its state across.
  for (const byte of wire) await a.send(new Uint8Array([byte]));
  await a.closeWrite();
  assertEquals(await b.readLine(), "HELLO 2");
  assertEquals(await b.readUint(2), 0x0102);
  assertEquals(td.decode(await b.readUntil("|")), "abc");
  const frames = b.setCodec(lengthPrefixed());
  assertEquals(await frames.receive(), new Uint8Array([7, 8, 9]));
  const rest = frames.setCodec(text(lines()));
  assertEquals(await rest.receive(), "tail");
  assertEquals(await rest.receive(), undefined);
  await assertRejects(() => b.readExactly(1), UnexpectedEofError);
  assertEquals(await b.readLine(), undefined);
  await a.close();
  await b.close();
});

Deno.test("`Connection.readExactly()` at EOF inside the bytes says how many were left", async () => {
  const [a, b] = connectionPair();
  await a.send(new Uint8Array([1, 2, 3]));
  await a.closeWrite();
  const err = await assertRejects(() => b.readExactly(5), UnexpectedEofError);
  assertEquals(err.remaining, 3);
  await a.close();
  await b.close();
});

Deno.test("`Connection.readUntil()` refuses more than maxLength bytes without a delimiter", async () => {
  const [a, b] = connectionPair();
  await a.send(te.encode("x".repeat(100)));
  const err = await assertRejects(
    () => b.readUntil("\n", { maxLength: 10 }),
    FrameTooLargeError,
  );
  assertEquals(err.limit, 10);
  await a.close();
  await b.close();
});

Deno.test("`Connection.readWith()` runs a one-off decoder that is asked again as bytes arrive", async () => {
  const [a, b] = connectionPair();
  let calls = 0;
  const pending = b.readWith((input: DecodeInput) => {
    calls++;
    if (input.length < 4) return input.needMore(4);
    return input.readUint(0, 4) + (input.skip(4), 0);
  });
  await a.send(new Uint8Array([0, 0]));
  await new Promise((r) => setTimeout(r, 10));
  await a.send(new Uint8Array([1, 0]));
  assertEquals(await pending, 256);
  assert(calls >= 2);
  assertStrictEquals(NEED_MORE, NEED_MORE);
  await a.close();
  await b.close();
});

Deno.test("`Connection` keeps the read buffer bounded by the decoder's limit", async () => {
  const [a, b] = connectionPair({ codec: lines({ maxLength: 1000 }) });
  // A line that never ends, 100 KB of it.
  const sending = (async () => {
    try {
      for (let i = 0; i < 100; i++) {
        await a.transport.write(new Uint8Array(1000).fill(65));
      }
    } catch {
      // b stops reading and closes.
    }
  })();
  const err = await assertRejects(() => b.receive(), FrameTooLargeError);
  assertEquals(err.limit, 1000);
  assertLessOrEqual(b.stats.bytesRead, 1000 + 2 * 65536);
  b.abort();
  a.abort();
  await sending;
  await a.closed.catch(() => {});
  await b.closed.catch(() => {});
});

Deno.test("`Connection` decodes a decode error thrown by a user decoder as the read side's end, once", async () => {
  const [a, b] = connectionPair({
    codec: json(lines()),
  });
  await a.write({ ok: 1 });
  a.transport.write(te.encode("{bad\n"));
  await a.flush();
  assertEquals(await b.receive(), { ok: 1 });
  const err = await assertRejects(() => b.receive(), DecodeError);
  // The same error again: the read side is done.
  assertStrictEquals(await b.receive().catch((e) => e), err);
  // The write side still works.
  await b.send({ error: "bad json" });
  assertEquals(await a.receive(), { error: "bad json" });
  await a.close();
  await b.close().catch(() => {});
});

/** Runs `bash testdata/make_certs.sh` into a temporary directory. */
async function makeCerts(): Promise<{ dir: string; ca: string }> {
  const dir = await Deno.makeTempDir({ prefix: "netkit_starttls_" });
  const out = await new Deno.Command("bash", {
    args: [new URL("./testdata/make_certs.sh", import.meta.url).pathname, dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, `make_certs.sh failed: ${td.decode(out.stderr)}`);
  return { dir, ca: await Deno.readTextFile(`${dir}/ca.pem`) };
}

const STARTTLS_PEER = `
import socket, ssl, sys
d = sys.argv[1]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
f = conn.makefile("rb")
assert f.readline() == b"HELLO\\n"
conn.sendall(b"HI\\n")
assert f.readline() == b"STARTTLS\\n"
conn.sendall(b"GO\\n")
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
tls = ctx.wrap_socket(conn, server_side=True)
tf = tls.makefile("rb")
line = tf.readline()
tls.sendall(b"secret " + line)
tls.unwrap()
tls.close()
`;

Deno.test("`Connection.startTls()` upgrades a plain client connection after a plaintext exchange (Python ssl peer)", async () => {
  const { dir, ca } = await makeCerts();
  try {
    const peer = new Deno.Command("python3", {
      args: ["-c", STARTTLS_PEER, dir],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = peer.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const port = Number((await out.read()).value!.trim());
    const conn = await connect({ hostname: "127.0.0.1", port }, {
      codec: text(lines()),
    });
    await conn.send("HELLO");
    assertEquals(await conn.receive(), "HI");
    await conn.send("STARTTLS");
    assertEquals(await conn.receive(), "GO");
    await conn.startTls({ hostname: "localhost", caCerts: [ca] });
    assert("handshake" in conn.transport, "the transport is a TLS connection");
    await conn.send("over tls");
    assertEquals(await conn.receive(), "secret over tls");
    await conn.close();
    const status = await peer.status;
    const err = await new Response(peer.stderr).text();
    while (!(await out.read()).done) {
      // The peer prints nothing more.
    }
    assert(status.success, `python peer failed: ${err}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
