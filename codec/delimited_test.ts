// Copyright 2026 the netkit authors. MIT license.

import { assertEquals, assertLess } from "@std/assert";
import { decodeAll, StreamDecoder } from "./decoder.ts";
import { delimited, lines } from "./delimited.ts";
import { NEED_MORE, ReadBuffer } from "./read_buffer.ts";
import { assertInstanceOf, assertThrows } from "@std/assert";
import { b, collect, EMPTY, hex, toHex } from "./_test_helpers.ts";
import { encodeAll } from "../codec.ts";
import { FrameTooLargeError } from "../errors.ts";

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

Deno.test("`delimited()` decodes a chunk that is only a delimiter", () => {
  const codec = delimited({ delimiter: "\0" });
  assertEquals(
    decodeAll(codec, [b("ab"), b("\0"), b("\0"), b("c"), b("\0")]),
    [b("ab"), EMPTY, b("c")],
  );
  const crlf2 = delimited({ delimiter: "\r\n\r\n" });
  assertEquals(
    decodeAll(crlf2, [b("ab"), b("\r\n\r\n"), b("\r\n\r\n")]),
    [b("ab"), EMPTY],
  );
});

Deno.test("`delimited()` decodes consecutive delimiters as empty frames", () => {
  assertEquals(
    decodeAll(delimited({ delimiter: "\0" }), [b("\0\0\0")]),
    [EMPTY, EMPTY, EMPTY],
  );
  assertEquals(
    decodeAll(delimited({ delimiter: "||" }), [b("||||a||")]),
    [EMPTY, EMPTY, b("a")],
  );
});

Deno.test("`delimited()` finds a multi-byte delimiter straddling chunks (1/3, 2/2, 3/1, 1/2/1)", () => {
  const codec = delimited({ delimiter: "\r\n\r\n" });
  const cases: [string, string[]][] = [
    ["1/3", ["a\r", "\n\r\nb\r\n\r\n"]],
    ["2/2", ["a\r\n", "\r\nb\r\n\r\n"]],
    ["3/1", ["a\r\n\r", "\nb\r\n\r\n"]],
    ["1/2/1", ["a\r", "\n\r", "\nb\r\n\r\n"]],
    ["1/1/1/1", ["a\r", "\n", "\r", "\nb\r\n\r\n"]],
  ];
  for (const [how, parts] of cases) {
    assertEquals(decodeAll(codec, parts.map(b)), [b("a"), b("b")], how);
  }
});

Deno.test("`delimited()` does not take a partial delimiter for a whole one", () => {
  const codec = delimited({ delimiter: "\r\n\r\n" });
  assertEquals(
    decodeAll(codec, [b("a\r\n\r"), b("b\r\n"), b("\r\n")]),
    [b("a\r\n\rb")],
  );
  // An overlapping run: the earliest delimiter wins.
  assertEquals(
    decodeAll(codec, [b("a\r\n\r"), b("\r\n\r\n")]),
    [b("a\r\n\r")],
  );
});

Deno.test('`delimited({ eof: "emit" })` emits the bytes after the last delimiter at EOF', () => {
  const codec = delimited({ delimiter: "\0", eof: "emit" });
  assertEquals(decodeAll(codec, [b("a\0bc")]), [b("a"), b("bc")]);
  assertEquals(decodeAll(codec, [b("a\0")]), [b("a")]);
  const crlf2 = delimited({ delimiter: "\r\n\r\n", eof: "emit" });
  assertEquals(decodeAll(crlf2, [b("bc\r\n\r")]), [b("bc\r\n\r")]);
});

Deno.test("`delimited()` refuses to encode a message that contains the delimiter", () => {
  const codec = delimited({ delimiter: "\r\n" });
  assertThrows(
    () => codec.encoder().encode(b("a\r\nb")),
    TypeError,
    "delimiter at offset 1",
  );
  assertThrows(
    () => delimited({ delimiter: "\0" }).encoder().encode(hex("61 00")),
    TypeError,
  );
});

Deno.test("`delimited()` refuses to encode a message that would end inside an earlier delimiter", () => {
  // "x\r\n" + "\r\n\r\n" reads back as "x", then "\r\n" left over: the
  // message does not contain the delimiter, but its end and the delimiter
  // form one earlier.
  const codec = delimited({ delimiter: "\r\n\r\n" });
  const message = b("x\r\n");
  let wire: Uint8Array | undefined;
  try {
    wire = codec.encoder().encode(message);
  } catch (err) {
    assertInstanceOf(err, TypeError);
    return;
  }
  assertEquals(
    collect(codec, [wire]).frames,
    [message],
    `encoded as ${toHex(wire)}`,
  );
});

Deno.test("`delimited()` copies the delimiter it is given", () => {
  const delim = b("||");
  const codec = delimited({ delimiter: delim });
  delim.fill(0x2c);
  assertEquals(decodeAll(codec, [b("a||b,,||")]), [b("a"), b("b,,")]);
});

Deno.test("`lines()` strips a CR before the LF and keeps a lone CR", () => {
  const codec = lines();
  assertEquals(
    decodeAll(codec, [b("a\r\nb\n\r\nc\rd\ne\r\r\n")]),
    [b("a"), b("b"), EMPTY, b("c\rd"), b("e\r")],
  );
});

Deno.test("`lines()` strips a CR that arrived in the chunk before its LF", () => {
  assertEquals(
    decodeAll(lines(), [b("ab\r"), b("\ncd\r"), b("\n")]),
    [b("ab"), b("cd")],
  );
});

Deno.test("`lines()` decodes a chunk that is only a line ending and consecutive ones", () => {
  assertEquals(
    decodeAll(lines(), [b("a"), b("\n"), b("\n"), b("\r\n"), b("\r"), b("\n")]),
    [b("a"), EMPTY, EMPTY, EMPTY],
  );
});

Deno.test('`lines({ eof: "emit" })` emits a last line without LF, CR stripped', () => {
  const codec = lines({ eof: "emit" });
  assertEquals(decodeAll(codec, [b("a\nbc\r")]), [b("a"), b("bc")]);
  assertEquals(decodeAll(codec, [b("a\n")]), [b("a")]);
});

Deno.test("`lines()` counts a CR before the LF against maxLength", () => {
  const codec = lines({ maxLength: 3 });
  assertEquals(decodeAll(codec, [b("abc\n")]), [b("abc")]);
  assertThrows(() => decodeAll(codec, [b("abc\r\n")]), FrameTooLargeError);
});

Deno.test("`lines()` encodes LF, or CR LF with crlf", () => {
  assertEquals(
    toHex(encodeAll(lines(), [b("hi"), b("yo")])),
    "68 69 0a 79 6f 0a",
  );
  assertEquals(
    toHex(encodeAll(lines({ crlf: true }), [b("hi"), b("yo")])),
    "68 69 0d 0a 79 6f 0d 0a",
  );
  assertThrows(() => lines().encoder().encode(b("a\nb")), TypeError);
});

Deno.test("`lines()` round-trips a message that ends with CR or refuses it", () => {
  const codec = lines();
  const message = b("a\r");
  let wire: Uint8Array;
  try {
    wire = codec.encoder().encode(message);
  } catch (err) {
    assertInstanceOf(err, TypeError);
    return;
  }
  assertEquals(decodeAll(codec, [wire]), [message], `wire ${toHex(wire)}`);
});

Deno.test("`lines({ crlf: true })` round-trips a message of maxLength bytes or refuses it", () => {
  const codec = lines({ maxLength: 3, crlf: true });
  let wire: Uint8Array;
  try {
    wire = codec.encoder().encode(b("abc"));
  } catch (err) {
    assertInstanceOf(err, RangeError);
    return;
  }
  assertEquals(
    collect(codec, [wire]).frames,
    [b("abc")],
    `wire ${toHex(wire)}`,
  );
});
