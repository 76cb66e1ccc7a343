// Copyright 2026 the netkit authors. MIT license.

import { assertEquals, assertLess } from "@std/assert";
import { utf8 as b } from "../_test_utils.ts";
import { decodeAll, StreamDecoder } from "./decoder.ts";
import { delimited, lines } from "./delimited.ts";
import { NEED_MORE, ReadBuffer } from "./read_buffer.ts";

/** Counts the calls to `indexOf` on the arrays a decoder searches. */
function countingIndexOf(): { bytes: number; restore: () => void } {
  const proto = Uint8Array.prototype;
  const original = proto.indexOf;
  const counter = { bytes: 0, restore: () => void (proto.indexOf = original) };
  proto.indexOf = function (
    this: Uint8Array,
    value: number,
    from = 0,
  ): number {
    const i = original.call(this, value, from);
    counter.bytes += (i === -1 ? this.length : i + 1) - from;
    return i;
  };
  return counter;
}

for (
  const [label, make] of [
    ["lines()", () => lines({ maxLength: 1 << 20 })],
    [
      'delimited({ delimiter: "\\r\\n" })',
      () => delimited({ delimiter: "\r\n", maxLength: 1 << 20 }),
    ],
  ] as const
) {
  Deno.test(`\`${label}\` scans each byte of a long line once, however it arrives`, () => {
    const codec = make();
    // A 256 KiB line, 16 bytes a read: rescanning from the line's start on
    // every read would look at 2 GiB.
    const line = new Uint8Array(256 * 1024).fill(0x61);
    const counter = countingIndexOf();
    let frames: Uint8Array[] = [];
    try {
      const d = new StreamDecoder(codec);
      for (let k = 0; k < line.length; k += 16) {
        d.decode(line.subarray(k, k + 16), (f) => void frames.push(f));
      }
      d.decode(b("\r\n"), (f) => void frames.push(f));
      d.finish((f) => void frames.push(f));
    } finally {
      counter.restore();
    }
    assertEquals(frames.length, 1);
    assertEquals(frames[0]!.length, line.length);
    assertLess(counter.bytes, 4 * line.length, `${counter.bytes} bytes`);
    frames = [];
  });

  Deno.test(`\`${label}\` scans each byte once through a connection's read buffer`, () => {
    const d = make().decoder();
    const buf = new ReadBuffer({ limit: d.maxBuffered });
    const counter = countingIndexOf();
    let frame: Uint8Array | typeof NEED_MORE = NEED_MORE;
    const total = 256 * 1024;
    try {
      for (let sent = 0; sent < total; sent += 16) {
        buf.space().fill(0x61, 0, 16);
        buf.commit(16);
        frame = d.decode(buf);
        assertEquals(frame, NEED_MORE);
      }
      buf.space().set(b("\r\n"));
      buf.commit(2);
      frame = d.decode(buf);
    } finally {
      counter.restore();
    }
    assertEquals((frame as Uint8Array).length, total);
    assertLess(counter.bytes, 4 * total, `${counter.bytes} bytes`);
  });
}

Deno.test("`lines()` finds a line end in a chunk after a long partial line", () => {
  const codec = lines();
  const long = new Uint8Array(5000).fill(0x62);
  assertEquals(
    decodeAll(codec, [long.subarray(0, 4999), b("b\nxy\n")]),
    [long, b("xy")],
  );
});
