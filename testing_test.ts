// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertThrows,
} from "@std/assert";
import {
  type ByteBuffer,
  createCodec,
  type DecodeInput,
  type Decoder,
  encodeAll,
  json,
  lengthPrefixed,
  lines,
  mapCodec,
  raw,
  text,
} from "./codec.ts";
import { Connection } from "./connection.ts";
import { FrameTooLargeError, UnexpectedEofError } from "./errors.ts";
import {
  chunkings,
  connectionPair,
  decodeEveryChunking,
  transportPair,
} from "./testing.ts";

const utf8 = new TextEncoder();

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

import { stillPending } from "./_test_utils.ts";
// ---------------------------------------------------------------------------
// transportPair()

Deno.test("`transportPair()` delivers what one end writes to the other, both ways", async () => {
  const [a, b] = transportPair();
  const buf = new Uint8Array(16);
  assertEquals(await a.write(utf8.encode("ping")), 4);
  assertEquals(await b.read(buf), 4);
  assertEquals(buf.subarray(0, 4), utf8.encode("ping"));
  assertEquals(await b.write(utf8.encode("pong!")), 5);
  assertEquals(await a.read(buf), 5);
  assertEquals(buf.subarray(0, 5), utf8.encode("pong!"));
  a.close();
  b.close();
});

Deno.test("`transportPair()` gives each end the other's address", () => {
  const [a, b] = transportPair();
  assertEquals(a.localAddr, b.remoteAddr);
  assertEquals(a.remoteAddr, b.localAddr);
  assertEquals(a.localAddr.transport, "tcp");
  a.close();
  b.close();
});

Deno.test("`transportPair()` makes a write wait while the peer's buffer is full", async () => {
  const [a, b] = transportPair({ capacity: 8 });
  // A write takes what fits, like a socket.
  assertEquals(await a.write(new Uint8Array(12)), 8);
  const blocked = a.write(new Uint8Array([1, 2, 3]));
  assert(await stillPending(blocked));
  const buf = new Uint8Array(4);
  assertEquals(await b.read(buf), 4);
  assertEquals(await blocked, 3);
  a.close();
  b.close();
});

Deno.test("`transportPair()` returns at most maxReadSize bytes per read", async () => {
  const [a, b] = transportPair({ maxReadSize: 3 });
  await a.write(utf8.encode("abcdefgh"));
  const buf = new Uint8Array(64);
  const sizes: number[] = [];
  for (let got = 0; got < 8;) {
    const n = (await b.read(buf))!;
    sizes.push(n);
    got += n;
  }
  assertEquals(sizes, [3, 3, 2]);
  a.close();
  b.close();
});

Deno.test("`transportPair()` reads EOF after the peer's closeWrite() and can still write back", async () => {
  const [a, b] = transportPair();
  await a.write(utf8.encode("last"));
  await a.closeWrite();
  const buf = new Uint8Array(16);
  assertEquals(await b.read(buf), 4);
  assertEquals(await b.read(buf), null);
  assertEquals(await b.read(buf), null);
  await b.write(utf8.encode("reply"));
  assertEquals(await a.read(buf), 5);
  await assertRejects(() => a.write(new Uint8Array(1)), Deno.errors.BrokenPipe);
  a.close();
  b.close();
});

Deno.test("`transportPair()` ends the peer's stream on close() and fails its writes", async () => {
  const [a, b] = transportPair();
  const pendingRead = b.read(new Uint8Array(8));
  a.close();
  assertEquals(await pendingRead, null);
  await assertRejects(
    () => b.write(new Uint8Array(1)),
    Deno.errors.ConnectionReset,
  );
  // The closed end is unusable, and closing it again throws, as a Deno.Conn does.
  await assertRejects(
    () => a.read(new Uint8Array(1)),
    Deno.errors.BadResource,
  );
  await assertRejects(
    () => a.write(new Uint8Array(1)),
    Deno.errors.BadResource,
  );
  await assertRejects(() => a.closeWrite(), Deno.errors.BadResource);
  assertThrows(() => a.close(), Deno.errors.BadResource);
  b.close();
});

Deno.test("`transportPair()` wakes a write blocked on a full buffer when the peer closes", async () => {
  const [a, b] = transportPair({ capacity: 4 });
  await a.write(new Uint8Array(4));
  const blocked = a.write(new Uint8Array(4));
  assert(await stillPending(blocked));
  b.close();
  await assertRejects(() => blocked, Deno.errors.ConnectionReset);
  a.close();
});

// ---------------------------------------------------------------------------
// connectionPair()

Deno.test("`connectionPair()` joins two connections with the same codec", async () => {
  const [a, b] = connectionPair({ codec: json<{ n: number }>(lines()) });
  assertInstanceOf(a, Connection);
  assertInstanceOf(b, Connection);
  await a.send({ n: 1 });
  await b.send({ n: 2 });
  assertEquals(await b.receive(), { n: 1 });
  assertEquals(await a.receive(), { n: 2 });
  assertEquals(a.remoteAddr, b.localAddr);
  await a.close();
  assertEquals(await b.receive(), undefined);
  await b.close();
});

Deno.test("`connectionPair()` passes connection and transport options to both ends", async () => {
  const [a, b] = connectionPair({
    codec: lengthPrefixed(),
    capacity: 64,
    maxReadSize: 16,
    highWaterMark: 128,
  });
  // The water mark applies: 200 bytes are over it at once.
  assertFalse(a.write(new Uint8Array(200)));
  assertFalse(b.write(new Uint8Array(200)));
  const [fromA, fromB] = await Promise.all([b.receive(), a.receive()]);
  assertEquals(fromA!.length, 200);
  assertEquals(fromB!.length, 200);
  // Reads were at most 16 bytes: 204 bytes took at least 13 of them.
  assertEquals(b.stats.bytesRead, 204);
  await a.close();
  await b.close();
});

Deno.test("`connectionPair()` gives the second end its own options when given", async () => {
  const [client, server] = connectionPair(
    { codec: json<{ n: bigint | number }>(lines()) },
    { codec: text(lines()), highWaterMark: 4 },
  );
  await client.send({ n: 1 });
  assertEquals(await server.receive(), '{"n":1}');
  // The second end's water mark, not the first's.
  assertFalse(server.write('{"n":123456}'));
  assert(client.write({ n: 2 }));
  assertEquals(await client.receive(), { n: 123456 });
  await client.close();
  await server.close();
});

// ---------------------------------------------------------------------------
// chunkings()

Deno.test("`chunkings()` yields whole, byte by byte, every split, fixed sizes and an empty chunk", () => {
  const bytes = utf8.encode("abcdefghij"); // 10 bytes
  const all = [...chunkings(bytes)];
  // 1 whole + 1 byte-by-byte + 9 splits + 5 fixed sizes + 1 with an empty chunk
  assertEquals(all.length, 17);
  for (const chunks of all) assertEquals(concat(chunks), bytes);
  assertEquals(all[0], [bytes]);
  assertEquals(all[1]!.length, 10);
  for (const c of all[1]!) assertEquals(c.length, 1);
  for (let cut = 1; cut < 10; cut++) {
    assertEquals(all[1 + cut]!.map((c) => c.length), [cut, 10 - cut]);
  }
  assertEquals(all[11]!.map((c) => c.length), [2, 2, 2, 2, 2]);
  assertEquals(all[12]!.map((c) => c.length), [3, 3, 3, 1]);
  assertEquals(all[13]!.map((c) => c.length), [5, 5]);
  assertEquals(all[14]!.map((c) => c.length), [7, 3]);
  assertEquals(all[15]!.map((c) => c.length), [10]);
  assertEquals(all[16]!.map((c) => c.length), [5, 0, 5]);
});

Deno.test("`chunkings()` yields views of the bytes, not copies", () => {
  const bytes = new Uint8Array([1, 2, 3, 4]);
  for (const chunks of chunkings(bytes)) {
    for (const c of chunks) {
      if (c.length > 0) assert(c.buffer === bytes.buffer);
    }
  }
});

Deno.test("`chunkings()` of no bytes yields only empty chunkings", () => {
  const all = [...chunkings(new Uint8Array(0))];
  assert(all.length > 0);
  for (const chunks of all) assertEquals(concat(chunks).length, 0);
});

// ---------------------------------------------------------------------------
// decodeEveryChunking()

Deno.test("`decodeEveryChunking()` returns the messages of a sound codec", () => {
  const codec = lengthPrefixed({ lengthBytes: 2 });
  const msgs = [utf8.encode("hello"), new Uint8Array(0), utf8.encode("world")];
  assertEquals(decodeEveryChunking(codec, encodeAll(codec, msgs)), msgs);
  assertEquals(
    decodeEveryChunking(text(lines()), utf8.encode("a\r\nb\n\nc\n")),
    ["a", "b", "", "c"],
  );
  assertEquals(decodeEveryChunking(text(lines()), new Uint8Array(0)), []);
});

Deno.test("`decodeEveryChunking()` throws on a decoder that depends on the chunking", () => {
  // A line decoder that forgets a partial line when it runs out of bytes.
  const forgetful = createCodec<string>({
    name: "forgetful lines",
    decoder: (): Decoder<string> => ({
      decode(input: DecodeInput) {
        const at = input.indexOf(0x0a);
        if (at === -1) {
          input.skip(input.length); // the bug: the tail should be kept
          return input.needMore();
        }
        const line = new TextDecoder().decode(input.take(at));
        input.skip(1);
        return line;
      },
    }),
    encoder: () => ({
      encodeInto(line: string, out: ByteBuffer) {
        out.append(utf8.encode(`${line}\n`));
      },
      encode(line: string) {
        return utf8.encode(`${line}\n`);
      },
    }),
  });
  const wire = utf8.encode("alpha\nbeta\n");
  assertThrows(
    () => decodeEveryChunking(forgetful, wire),
    Error,
    "Decoding differs by chunking",
  );
  // raw() keeps chunk boundaries by design: it differs by chunking too.
  assertThrows(
    () => decodeEveryChunking(raw(), wire),
    Error,
    "Decoding differs by chunking",
  );
});

Deno.test("`decodeEveryChunking()` compares BigInts, typed arrays and nested values structurally", () => {
  // Each line is a number that becomes a BigInt beside its bytes.
  const bigints = mapCodec(lines(), {
    name: "bigints",
    decode: (frame: Uint8Array) => ({
      n: BigInt(new TextDecoder().decode(frame)),
      bytes: frame.slice(),
      nested: [new Map([["k", new Set([1n])]])],
    }),
    encode: (m: { n: bigint }) => utf8.encode(String(m.n)),
  });
  const msgs = decodeEveryChunking(
    bigints,
    utf8.encode("1\n18446744073709551616\n"),
  );
  assertEquals(msgs.map((m) => m.n), [1n, 18446744073709551616n]);
  assertEquals(msgs[1]!.bytes, utf8.encode("18446744073709551616"));
});

Deno.test("`decodeEveryChunking()` passes on the decoder's errors", () => {
  const codec = lengthPrefixed({ maxFrameLength: 4 });
  assertThrows(
    () => decodeEveryChunking(codec, new Uint8Array([0, 0, 0, 9, 1])),
    FrameTooLargeError,
  );
  const err = assertThrows(
    () =>
      decodeEveryChunking(lengthPrefixed(), new Uint8Array([0, 0, 0, 9, 1])),
    UnexpectedEofError,
  );
  assertLessOrEqual((err as UnexpectedEofError).remaining, 9);
});
