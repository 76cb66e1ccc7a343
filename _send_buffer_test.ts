// Copyright 2026 the netkit authors. MIT license.

import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { ByteBuffer } from "./codec/byte_buffer.ts";
import { createCodec, nextFrame, StreamDecoder } from "./codec/decoder.ts";
import { lengthPrefixed } from "./codec/length_prefixed.ts";
import { raw } from "./codec/raw.ts";
import { ReadBuffer } from "./codec/read_buffer.ts";
import { Connection } from "./connection.ts";
import { REF_MIN, SendBuffer } from "./_send_buffer.ts";
import { prng, tcpPair, writeAll } from "./_test_utils.ts";
import { concat, readInto as read } from "./codec/_test_helpers.ts";

/** A payload whose bytes say which frame they belong to. */
function payload(seed: number, length: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (next() * 256) | 0;
  return out;
}

/** Encodes `message` as the connection's writer does. */
function send(out: SendBuffer, message: Uint8Array): void {
  out.offered = message;
  lengthPrefixed().encoder().encodeInto(message, out);
  out.offered = null;
}

Deno.test("`SendBuffer` sends borrowed frames from the read buffer: the header goes into the one they came with, and adjacent frames make one write", () => {
  const codec = lengthPrefixed();
  const frames = [payload(1, 5000), payload(2, 7000), payload(3, 3000)];
  const wire = concat(...frames.map((f) => codec.encoder().encode(f)));
  const buf = new ReadBuffer({ minRead: 65536 });
  read(buf, wire);
  const d = codec.decoder();
  const out = new SendBuffer();
  for (const f of frames) {
    const m = nextFrame(d, buf, true) as Uint8Array;
    assertEquals(m, f);
    assertStrictEquals(m.buffer, buf.data.buffer);
    send(out, m);
  }
  const parts = out.parts();
  assertEquals(parts.length, 1);
  // Not a copy: the read buffer's own memory, the very bytes that came.
  assertStrictEquals(parts[0]!.buffer, buf.data.buffer);
  assertEquals(parts[0], wire);
  assertEquals(out.length, wire.length);
});

Deno.test("`SendBuffer` copies what it may not reference: small frames, frames not borrowed, owned copies, a frame sent twice", () => {
  const codec = lengthPrefixed();
  const big = payload(4, REF_MIN + 10);
  const small = payload(5, REF_MIN - 1);
  const buf = new ReadBuffer({ minRead: 65536 });
  read(
    buf,
    concat(codec.encoder().encode(small), codec.encoder().encode(big)),
  );
  const d = codec.decoder();
  const out = new SendBuffer();
  const s = nextFrame(d, buf, true) as Uint8Array;
  send(out, s);
  assertEquals(out.refs?.length ?? 0, 0);
  const b = nextFrame(d, buf, true) as Uint8Array;
  send(out, b);
  // Sent again: its header room is used, so its header is a part of its own.
  send(out, b);
  // The caller's own array: copied.
  send(out, big.slice());
  assertEquals(out.refs!.length, 2);
  assertEquals(
    concat(...out.parts()),
    concat(...[small, big, big, big].map((m) => codec.encoder().encode(m))),
  );
  // The small frame; the big one with its header in place; the header of
  // the second send; the big one again; the caller's array, copied.
  const parts = out.parts();
  assertEquals(parts.length, 5);
  assertStrictEquals(parts[1]!.buffer, buf.data.buffer);
  assertStrictEquals(parts[3]!.buffer, buf.data.buffer);
});

Deno.test("`ReadBuffer` moves no byte a writer holds: reads go to another array until the view is written", () => {
  const codec = lengthPrefixed();
  const first = payload(6, 6000);
  const buf = new ReadBuffer({ minRead: 8192, maxRead: 8192 });
  const wire = codec.encoder().encode(first);
  // The frame and the start of the next: a partial frame stays unread.
  read(buf, concat(wire, new Uint8Array([0, 0, 0x20, 0])));
  const d = codec.decoder();
  const m = nextFrame(d, buf, true) as Uint8Array;
  const out = new SendBuffer();
  send(out, m);
  const held = out.parts()[0]!;
  const heldArray = buf.data;
  // Reads for the rest of the next frame would move the partial frame to
  // the front of the array, over the view: they go elsewhere instead.
  for (let i = 0; i < 4; i++) read(buf, payload(7 + i, 2000));
  assert(buf.data !== heldArray);
  assertEquals(held, wire);
  out.release();
  // Released: once written, the array may be reused.
  assertEquals(out.refs!.length, 0);
});

Deno.test("`SendBuffer` keeps a frame of a borrowing `StreamDecoder` intact when the next chunk is decoded where it lies", () => {
  const codec = lengthPrefixed();
  const frame = payload(20, 5000);
  const wire = codec.encoder().encode(frame);
  const d = new StreamDecoder(codec, { borrow: true });
  const out = new SendBuffer();
  // The frame comes in two chunks: it is decoded from the decoder's own
  // array, which the writer then references.
  d.decode(wire.subarray(0, 100), () => {});
  d.decode(wire.subarray(100), (m) => send(out, m));
  assertEquals(out.refs!.length, 1);
  // Nothing is held: the next chunk is lent, and what is left of it is
  // kept in memory that must not be the array the writer still sends.
  d.decode(
    concat(new Uint8Array([0, 0, 0x10, 0]), payload(21, 3000)),
    () => {},
  );
  assertEquals(concat(...out.parts()), wire);
  out.release();
});

Deno.test("`SendBuffer.bytes()` is a view an encoder may patch, as a `ByteBuffer`'s, when it references a message", async () => {
  const codec = lengthPrefixed();
  // An encoder that fills in its header once the message is appended.
  const patching = createCodec<Uint8Array>({
    name: "patching",
    decoder: codec.decoder,
    encoder: () => ({
      encodeInto(m: Uint8Array, out: ByteBuffer): void {
        const at = out.length;
        out.appendUint(0, 4);
        out.append(m);
        const b = out.bytes();
        new DataView(b.buffer, b.byteOffset).setUint32(at, m.length);
      },
      encode: (m: Uint8Array) => codec.encoder().encode(m),
    }),
  });
  const [c, s] = await tcpPair();
  const server = new Connection(s, { codec: patching });
  const serving = server.forEach((m) => void server.write(m));
  const wire = codec.encoder().encode(payload(22, 5000));
  await writeAll(c, wire);
  const got = new Uint8Array(wire.length);
  let off = 0;
  while (off < got.length) {
    const n = await c.read(got.subarray(off));
    if (n === null) break;
    off += n;
  }
  assertEquals(got, wire);
  await c.closeWrite();
  await serving;
  await server.close();
  c.close();
});

Deno.test("`SendBuffer.truncate()` drops a referenced message that an encoder refused half-way", () => {
  const codec = lengthPrefixed();
  const frames = [payload(8, 4000), payload(9, 4000)];
  const buf = new ReadBuffer({ minRead: 65536 });
  read(buf, concat(...frames.map((f) => codec.encoder().encode(f))));
  const d = codec.decoder();
  const out = new SendBuffer();
  send(out, nextFrame(d, buf, true) as Uint8Array);
  const before = out.length;
  send(out, nextFrame(d, buf, true) as Uint8Array);
  assertEquals(out.parts().length, 1);
  out.truncate(before);
  assertEquals(out.length, before);
  assertEquals(concat(...out.parts()), codec.encoder().encode(frames[0]!));
  out.truncate(2);
  assertEquals(
    concat(...out.parts()),
    codec.encoder().encode(frames[0]!).subarray(0, 2),
  );
  out.truncate(0);
  assertEquals(out.refs!.length, 0);
  assertEquals(out.length, 0);
});

/**
 * Echoes `count` large frames pipelined through a connection whose peer
 * reads slowly, so the writer holds views of the read buffer while the
 * reader reads on; checks every byte.
 */
async function echoLargeFrames(
  codecName: "length" | "raw",
  relay: boolean,
): Promise<void> {
  const codec = codecName === "length" ? lengthPrefixed() : raw();
  const [c, s] = await tcpPair();
  const [c2, s2] = relay ? await tcpPair() : [c, s];
  const server = new Connection(s, { codec });
  // In the relay, what the server reads goes out on another connection.
  const out = relay ? new Connection(s2, { codec }) : server;
  const sizes = [70_000, 65_536, 3000, 200_000, REF_MIN, 100_000, 64];
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    frames.push(payload(100 + i, sizes[i % sizes.length]!));
  }
  const wire = concat(
    ...frames.map((f) => lengthPrefixed().encoder().encode(f)),
  );
  const serving = server.forEach((m) => {
    // Written twice some of the time, and a part of it sometimes.
    out.write(m);
    if (m.length === 3000) out.write(m.subarray(100, 2900));
  });
  const expected = concat(
    ...frames.flatMap((f) => {
      const e = lengthPrefixed().encoder();
      return f.length === 3000
        ? [e.encode(f), e.encode(f.subarray(100, 2900))]
        : [e.encode(f)];
    }),
  );
  const reader = relay ? c2 : c;
  const got = new Uint8Array(
    codecName === "raw" ? wire.length : expected.length,
  );
  const receiving = (async () => {
    let off = 0;
    while (off < got.length) {
      // Slowly: the server's writes back up past the socket buffers.
      if (off < got.length / 2) await new Promise((r) => setTimeout(r, 1));
      const n = await reader.read(got.subarray(off, off + 32768));
      if (n === null) break;
      off += n;
    }
    return off;
  })();
  await writeAll(c, wire);
  assertEquals(await receiving, got.length);
  assertEquals(got, codecName === "raw" ? wire : expected);
  await c.closeWrite();
  await serving;
  await server.close();
  if (relay) {
    await out.close();
    c2.close();
  }
  c.close();
}

Deno.test("`Connection` echoes 15 MB of large frames sent from its read buffer to a slow reader, every byte intact", async () => {
  await echoLargeFrames("length", false);
});

Deno.test("`Connection` relays 15 MB of large frames from one connection's read buffer to another's slow reader, every byte intact", async () => {
  await echoLargeFrames("length", true);
});

Deno.test("`Connection` echoes 15 MB of raw reads from its read buffer to a slow reader, every byte intact", async () => {
  await echoLargeFrames("raw", false);
});

Deno.test("`ReadBuffer.space(waiter)` waits for a writer to release the memory it needs, then reuses it", () => {
  const codec = lengthPrefixed();
  const frame = payload(20, 9000);
  const wire = codec.encoder().encode(frame);
  const buf = new ReadBuffer({ minRead: wire.length, maxRead: wire.length });
  read(buf, wire);
  const array = buf.data;
  const out = new SendBuffer();
  send(out, nextFrame(codec.decoder(), buf, true) as Uint8Array);
  // The rest of the array fills with the start of the next frame.
  const tail = buf.space();
  tail.fill(0x61);
  buf.commit(tail.length);
  let released = 0;
  const waiter = { released: () => void released++ };
  assertEquals(buf.space(waiter).length, 0);
  assertEquals(released, 0);
  assertEquals(out.parts()[0], wire);
  out.release();
  assertEquals(released, 1);
  const room = buf.space(waiter);
  assert(room.length > 0);
  // The same memory, the unread bytes moved to its front.
  assertStrictEquals(buf.data, array);
  assertEquals(buf.bytes, new Uint8Array(tail.length).fill(0x61));
});
