// Copyright 2026 the netkit authors. MIT license.

import {
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertLess,
  assertStringIncludes,
  assertThrows,
  fail,
} from "@std/assert";
import { b, concat, EMPTY, letters } from "./_test_helpers.ts";
import { decodeAll, netstring, StreamDecoder } from "../codec.ts";
import { DecodeError, FrameTooLargeError } from "../errors.ts";

Deno.test("`netstring()` does not allocate a claimed length before its bytes arrive", () => {
  const header = b("8388607:");
  const keep: StreamDecoder<Uint8Array>[] = [];
  const before = Deno.memoryUsage().external;
  for (let k = 0; k < 32; k++) {
    const dk = new StreamDecoder(netstring());
    dk.decode(concat(header, letters(10)), () => fail("no frame expected"));
    assertEquals(dk.buffered, 18);
    keep.push(dk);
  }
  const grown = Deno.memoryUsage().external - before;
  assertLess(grown, 32 * 1024 * 1024, `grew by ${grown} bytes`);
});

Deno.test("`netstring()` throws FrameTooLargeError for a length over the limit as soon as the colon arrives", () => {
  const d = new StreamDecoder(netstring());
  const err = assertThrows(
    () => d.decode(b("9999999:"), () => fail("no frame expected")),
    FrameTooLargeError,
  );
  assertEquals([err.length, err.limit], [9999999, 8388608]);
  assertEquals(d.buffered, 0);
});

Deno.test("`netstring()` decodes empty frames and a chunk that is only a header", () => {
  assertEquals(
    decodeAll(netstring(), [
      b("0:,0:,"),
      b("3:"),
      b("abc"),
      b(","),
      b("0:"),
      b(","),
    ]),
    [EMPTY, EMPTY, b("abc"), EMPTY],
  );
});

Deno.test("`netstring()` throws DecodeError with the stream offset for bad input", () => {
  const table: [string, string[], number, string][] = [
    ["leading zero", ["05:hello,"], 1, "leading zero"],
    ["a letter first", ["x:"], 0, "expected a digit"],
    ["a letter after digits", ["5x"], 1, "expected a digit or ':'"],
    ["a colon first", [":"], 0, "expected a digit"],
    ["missing comma", ["5:hello!"], 7, "expected ','"],
    ["missing comma, split", ["5:he", "llo!"], 7, "expected ','"],
    ["after a good frame", ["2:ok,", "5:hello!"], 12, "expected ','"],
    ["after a good frame, same chunk", ["2:ok,x"], 5, "expected a digit"],
  ];
  for (const [what, parts, offset, text] of table) {
    const d = new StreamDecoder(netstring());
    let thrown: unknown;
    for (const part of parts) {
      try {
        d.decode(b(part), () => {});
      } catch (err) {
        thrown = err;
        break;
      }
    }
    assertInstanceOf(thrown, DecodeError, what);
    assertEquals(thrown.offset, offset, what);
    assertStringIncludes(thrown.message, text, what);
    assertStringIncludes(thrown.message, `at offset ${offset}`, what);
  }
});

Deno.test("`netstring()` consumes the bad byte of a DecodeError, so decode() makes progress", () => {
  for (const bad of ["05:hello,", "x5:hello,", "5x:hello,"]) {
    const d = new StreamDecoder(netstring());
    const offsets: number[] = [];
    let chunk = b(bad);
    for (let k = 0; k < 20; k++) {
      try {
        d.decode(chunk, () => {});
        break;
      } catch (err) {
        assertInstanceOf(err, DecodeError, bad);
        offsets.push(err.offset);
      }
      chunk = EMPTY;
    }
    assertLess(offsets.length, 20, `${bad}: errors at offsets ${offsets}`);
    for (let k = 1; k < offsets.length; k++) {
      assertGreater(offsets[k]!, offsets[k - 1]!, `${bad}: ${offsets}`);
    }
  }
});
