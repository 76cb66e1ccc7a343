// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertGreater,
  assertLessOrEqual,
  assertStrictEquals,
} from "@std/assert";
import { FrameTooLargeError } from "../errors.ts";
import { encodeAll, nextFrame, StreamDecoder } from "./decoder.ts";
import { lengthPrefixed } from "./length_prefixed.ts";
import { NEED_MORE, ReadBuffer } from "./read_buffer.ts";
import { concat, hex, letters, readInto as read } from "./_test_helpers.ts";
import { collected } from "../_test_utils.ts";

Deno.test("`ReadBuffer.lend()` decodes from the caller's chunk and `keep()` copies only what is left", () => {
  const buf = new ReadBuffer();
  const chunk = new Uint8Array([1, 2, 3, 4, 5]);
  buf.lend(chunk, 1);
  assertStrictEquals(buf.data, chunk);
  assertEquals(buf.length, 4);
  assertEquals(buf.take(2), new Uint8Array([2, 3]));
  assertEquals(buf.consumed, 2);
  buf.keep();
  assert(buf.data !== chunk);
  chunk.fill(0);
  assertEquals(buf.bytes, new Uint8Array([4, 5]));
  assertEquals(buf.consumed, 2);
  buf.append(new Uint8Array([6]));
  assertEquals(buf.bytes, new Uint8Array([4, 5, 6]));
});

Deno.test("`ReadBuffer.keep()` sizes the copy for the frame the decoder asked for, within 64 KiB", () => {
  const buf = new ReadBuffer();
  buf.lend(new Uint8Array(10));
  buf.needMore(100);
  buf.keep();
  assertEquals(buf.capacity, 100);
  const big = new ReadBuffer();
  big.lend(new Uint8Array(10));
  big.needMore(8 * 1024 * 1024);
  big.keep();
  assertLessOrEqual(big.capacity, 10 + 65536);
});

Deno.test("`ReadBuffer.handOver()` gives a large frame its memory and starts a new array", () => {
  const codec = lengthPrefixed();
  const payload = new Uint8Array(300_000).fill(7);
  const wire = encodeAll(codec, [payload, new Uint8Array([9])]);
  const buf = new ReadBuffer();
  const d = codec.decoder();
  read(buf, wire.subarray(0, 150_000));
  assertEquals(nextFrame(d, buf, false), NEED_MORE);
  read(buf, wire.subarray(150_000, 300_004));
  const before = buf.data;
  const frame = nextFrame(d, buf, false) as Uint8Array;
  assert(frame.length === payload.length && frame.every((x) => x === 7));
  // No copy: the frame is the memory the bytes were read into.
  assert(frame.buffer === before.buffer);
  assert(buf.data.buffer !== before.buffer);
  read(buf, wire.subarray(300_004));
  assertEquals(nextFrame(d, buf, false), new Uint8Array([9]));
  // Reading on never touches the frame handed over.
  read(buf, new Uint8Array(400_000).fill(0xee));
  assert(frame.every((x) => x === 7));
});

Deno.test("`ReadBuffer.handOver()` refuses a small frame, a lent chunk and a frame of another buffer", () => {
  const buf = new ReadBuffer();
  read(buf, new Uint8Array(100));
  assertFalse(buf.handOver(buf.take(10)));
  const chunk = new Uint8Array(100_000);
  const lent = new ReadBuffer();
  lent.lend(chunk);
  assertFalse(lent.handOver(lent.take(100_000)));
  assertFalse(buf.handOver(new Uint8Array(100_000)));
});

Deno.test("`ReadBuffer.own()` gives the frames of one read one shared copy, and a new one after bytes move", () => {
  const buf = new ReadBuffer();
  read(buf, new Uint8Array([1, 2, 3, 4, 5, 6]));
  const a = buf.own(buf.take(2));
  const b = buf.take(2);
  // Taken after own(): already a view of the copy.
  assertStrictEquals(b.buffer, a.buffer);
  assert(a.buffer !== buf.data.buffer);
  assertEquals(buf.own(b), new Uint8Array([3, 4]));
  buf.skip(2);
  // The buffer is reused for the next read: the frames keep their bytes.
  read(buf, new Uint8Array([7, 8, 9]));
  const c = buf.take(3);
  assertStrictEquals(c.buffer, buf.data.buffer);
  assertEquals([a, b, buf.own(c)], [
    new Uint8Array([1, 2]),
    new Uint8Array([3, 4]),
    new Uint8Array([7, 8, 9]),
  ]);
});

Deno.test("`StreamDecoder` with `borrow` keeps each frame intact until its next call", () => {
  // Frames of a call come from the decoder's own array (the end of a frame
  // held from the last call) and from the chunk; none may be overwritten
  // before the call returns.
  const codec = lengthPrefixed();
  const frames = Array.from(
    { length: 50 },
    (_, i) => new Uint8Array(i * 7 % 40).fill(i),
  );
  const wire = encodeAll(codec, frames);
  for (const size of [1, 3, 5, 17, 64, 100]) {
    const d = new StreamDecoder(codec, { borrow: true });
    const got: Uint8Array[] = [];
    for (let k = 0; k < wire.length; k += size) {
      const views: Uint8Array[] = [];
      d.decode(wire.slice(k, k + size), (f) => void views.push(f));
      for (const v of views) got.push(v.slice());
    }
    d.finish(() => {});
    assertEquals(got, frames, `${size}-byte chunks`);
  }
});

Deno.test("`StreamDecoder` drops a frame over its limit and stays bounded", () => {
  const d = new StreamDecoder(lengthPrefixed({ maxFrameLength: 10 }), {
    limit: 8,
  });
  let thrown = 0;
  for (let k = 0; k < 3; k++) {
    try {
      d.decode(new Uint8Array([0, 0, 0, 9, 1, 2, 3, 4, 5]), () => {});
    } catch (err) {
      assert(err instanceof FrameTooLargeError);
      thrown++;
    }
    assertLessOrEqual(d.buffered, 8);
  }
  assertEquals(thrown, 3);
});

Deno.test("`ReadBuffer.own()` keeps at most 64 KiB alive beside a small frame", () => {
  const codec = lengthPrefixed();
  const wire = encodeAll(codec, [
    new Uint8Array(64).fill(1),
    new Uint8Array(300_000).fill(2),
  ]);
  const buf = new ReadBuffer();
  const d = codec.decoder();
  read(buf, wire.subarray(0, 250_000));
  const small = nextFrame(d, buf, false) as Uint8Array;
  assertEquals(small, new Uint8Array(64).fill(1));
  assertLessOrEqual(small.buffer.byteLength, 65536);
  assertEquals(nextFrame(d, buf, false), NEED_MORE);
});

Deno.test("`ReadBuffer.space()` grows at most 64 KiB ahead of the bytes a claimed length has", () => {
  // A connection's read path: the header claims 8 MiB − 1, 10 bytes came.
  const buf = new ReadBuffer();
  const d = lengthPrefixed().decoder();
  const wire = concat(hex("00 7f ff ff"), letters(10));
  buf.space().set(wire);
  buf.commit(wire.length);
  assertEquals(nextFrame(d, buf, false), NEED_MORE);
  assertEquals(buf.wanted, 4 + 0x7f_ffff);
  const space = buf.space();
  // An array from the process's spare arrays may be up to twice the size
  // asked for: 64 KiB ahead, rounded up, and doubled at most.
  assertLessOrEqual(buf.capacity, 4 * 65_536);
  assertGreater(space.length, 65_000);
  // As the bytes come, the buffer grows with them, to the frame's size.
  let sent = 10;
  while (sent < 0x7f_ffff) {
    const room = buf.space();
    const n = Math.min(room.length, 0x7f_ffff - sent);
    room.fill(0x61, 0, n);
    buf.commit(n);
    sent += n;
    // Never toward the claimed size: at most twice what came and a read
    // (twice again for an array from the spare arrays).
    assertLessOrEqual(buf.capacity, 4 * (buf.length + 65_536));
    if (sent < 0x7f_ffff) assertEquals(nextFrame(d, buf, false), NEED_MORE);
  }
  const frame = nextFrame(d, buf, false);
  assert(frame instanceof Uint8Array);
  assertEquals(frame.length, 0x7f_ffff);
});

Deno.test("`ReadBuffer.space()` takes a pipelined batch a little larger than the first read in one read once warmed up", () => {
  // The kernel holds one batch at a time (64 frames of 68 bytes, sent in
  // one write); each read takes what fits. A second read per batch would
  // mean a second write of replies per batch.
  const batch = 64 * 68;
  const buf = new ReadBuffer();
  const readsPerBatch: number[] = [];
  for (let round = 0; round < 20; round++) {
    let queued = batch;
    let reads = 0;
    while (queued > 0) {
      const room = buf.space();
      const n = Math.min(room.length, queued);
      buf.commit(n);
      buf.skip(n);
      queued -= n;
      reads++;
    }
    readsPerBatch.push(reads);
  }
  assertEquals(readsPerBatch.slice(2), new Array(18).fill(1));
});

Deno.test("`ReadBuffer.space()` offers the array itself when a read may fill all of it, else a view", () => {
  const buf = new ReadBuffer();
  const space = buf.space();
  // The whole array: a read pending on an idle connection holds no view.
  assertStrictEquals(space, buf.data);
  buf.commit(3);
  const rest = buf.space();
  assert(rest !== buf.data);
  assertStrictEquals(rest.buffer, buf.data.buffer);
  assertEquals(rest.byteOffset, buf.data.byteOffset + 3);
});

Deno.test("`ReadBuffer.keep()` never fills an array a writer holds, and `release()` never gives away the array in use", () => {
  const buf = new ReadBuffer();
  read(buf, new Uint8Array(40000).fill(7));
  const held = buf.take(40000);
  buf.borrowed(0, held);
  buf.pin();
  buf.lend(new Uint8Array(100).fill(9));
  buf.take(50);
  buf.keep();
  assert(buf.data.buffer !== held.buffer);
  assertEquals(held, new Uint8Array(40000).fill(7));
  // Released: the held array goes to the spare arrays, and the buffer's
  // own array is not that one.
  buf.release(held.buffer);
  const other = new ReadBuffer();
  read(other, new Uint8Array(40000).fill(1));
  assert(other.data.buffer !== buf.data.buffer);
  assertEquals(buf.bytes, new Uint8Array(50).fill(9));
});

Deno.test("`ReadBuffer.take()` keeps no array alive for its views after keep(), handOver() or clear()", async () => {
  const refs: Record<string, WeakRef<ArrayBufferLike>> = {};
  const kept: ReadBuffer[] = [];
  (() => {
    // keep(): the caller's chunk is let go.
    const a = new ReadBuffer();
    const chunk = new Uint8Array(100_000).fill(7);
    a.lend(chunk);
    a.take(10);
    a.keep();
    refs.keep = new WeakRef(chunk.buffer);
    // handOver(): the frame's memory is the caller's, who drops it.
    const b = new ReadBuffer();
    b.append(new Uint8Array(300_000).fill(1));
    const frame = b.take(300_000);
    assert(b.handOver(frame));
    refs.handOver = new WeakRef(frame.buffer);
    // clear(): the memory goes.
    const c = new ReadBuffer();
    c.append(new Uint8Array(100_000).fill(2));
    c.take(10);
    refs.clear = new WeakRef(c.data.buffer);
    c.clear();
    kept.push(a, b, c);
  })();
  for (const [what, ref] of Object.entries(refs)) {
    assert(
      await collected(ref),
      `after ${what}() the read buffer keeps the old array`,
    );
  }
  assertEquals(kept.length, 3);
});

Deno.test("`ReadBuffer.take()` makes views of the array `data` holds now, however it was set", () => {
  const buf = new ReadBuffer();
  buf.append(new Uint8Array([1, 2, 3, 4]));
  assertEquals(buf.take(2), new Uint8Array([1, 2]));
  // data, start and end are plain fields: set from outside, the next view
  // is of the new array, at its offset.
  const other = new Uint8Array([9, 8, 7, 6, 5]).subarray(1);
  buf.data = other;
  buf.start = 0;
  buf.end = other.length;
  assertEquals(buf.take(3), new Uint8Array([8, 7, 6]));
});
