// Copyright 2026 the netkit authors. MIT license.

import { assertEquals, assertGreater, assertThrows } from "@std/assert";
import { b, letters, toHex } from "./_test_helpers.ts";
import { ByteBuffer, encodeAll, lengthPrefixed, ReadBuffer } from "../codec.ts";

Deno.test("`ByteBuffer` appends, reserves, commits, grows and clears", () => {
  const buf = new ByteBuffer(2);
  assertEquals(buf.capacity, 2);
  buf.append(b("ab"));
  const view = buf.reserve(3);
  assertEquals(view.length, 3);
  view.set(b("cde"));
  buf.commit(2);
  assertEquals(buf.bytes(), b("abcd"));
  assertEquals(buf.length, 4);
  assertGreater(buf.capacity, 4);
  buf.append(letters(1000));
  assertEquals(buf.length, 1004);
  assertEquals(buf.bytes().subarray(0, 4), b("abcd"));
  buf.clear(64);
  assertEquals(buf.length, 0);
  assertEquals(buf.capacity, 64);
  buf.append(b("z"));
  assertEquals(buf.bytes(), b("z"));
});

Deno.test("`Encoder.encodeInto()` appends messages one after another to a shared buffer", () => {
  const codec = lengthPrefixed({ lengthBytes: 1 });
  const buf = new ByteBuffer(1);
  const e = codec.encoder();
  e.encodeInto(b("a"), buf);
  e.encodeInto(b("bc"), buf);
  assertEquals(toHex(buf.bytes()), "01 61 02 62 63");
  assertEquals(encodeAll(codec, [b("a"), b("bc")]), buf.bytes());
});

Deno.test("`ByteBuffer.appendUint()` writes what `ReadBuffer.readUint()` reads, at every width and in both orders", () => {
  const values = [0, 1, 255, 256, 65535, 0x12_3456, 0xffff_ffff, 2 ** 40 + 7];
  for (const le of [false, true]) {
    for (let width = 1; width <= 8; width++) {
      for (const v of values) {
        const buf = new ByteBuffer(1);
        buf.append(new Uint8Array([9]));
        if (width < 7 && v >= 2 ** (8 * width)) {
          assertThrows(() => buf.appendUint(v, width, le), RangeError);
          assertEquals(buf.length, 1);
          continue;
        }
        buf.appendUint(v, width, le);
        assertEquals(buf.length, 1 + width);
        const rb = new ReadBuffer();
        rb.append(buf.bytes());
        assertEquals(rb.readUint(1, width, le), v, `${v} in ${width} ${le}`);
      }
    }
  }
  assertThrows(() => new ByteBuffer().appendUint(-1, 4), RangeError);
  assertThrows(() => new ByteBuffer().appendUint(1.5, 4), RangeError);
  assertThrows(() => new ByteBuffer().appendUint(1, 9), RangeError);
});

Deno.test("`ByteBuffer.commit()` refuses bytes past the reserved view", () => {
  const buf = new ByteBuffer(64);
  const view = buf.reserve(4);
  view.set([1, 2, 3, 4]);
  buf.commit(2);
  buf.commit(2); // the rest of the same view
  assertEquals(buf.bytes(), new Uint8Array([1, 2, 3, 4]));
  // A larger buffer than the view: the bytes past it were never written.
  buf.reserve(1)[0] = 5;
  assertThrows(
    () => buf.commit(2),
    RangeError,
    "Cannot commit 2 bytes: 1 are reserved",
  );
  assertThrows(() => buf.commit(-1), RangeError, "Cannot commit -1 bytes");
  buf.commit(1);
  buf.clear();
  assertThrows(() => buf.commit(1), RangeError, "0 are reserved");
  buf.reserve(1)[0] = 6;
  buf.truncate(0);
  assertThrows(() => buf.commit(1), RangeError, "0 are reserved");
  assertEquals(buf.length, 0);
});
