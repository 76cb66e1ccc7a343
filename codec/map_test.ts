// Copyright 2026 the netkit authors. MIT license.

import {
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import fc from "fast-check";
import { utf8 as b } from "../_test_utils.ts";
import { DecodeError } from "../errors.ts";
import { decodeAll, encodeAll, StreamDecoder } from "./decoder.ts";
import { lines } from "./delimited.ts";
import { lengthPrefixed } from "./length_prefixed.ts";
import { mapCodec, text } from "./map.ts";
import { raw } from "./raw.ts";

/** Words of each line, numbered per stream: state, and 0..n per frame. */
const words = () =>
  mapCodec(lines(), {
    name: "words",
    decoder: () => {
      let n = 0;
      return (frame: Uint8Array, emit: (w: string) => void) => {
        for (const w of new TextDecoder().decode(frame).split(" ")) {
          if (w !== "") emit(`${n++}:${w}`);
        }
      };
    },
    encode: (w: string) => b(w),
  });

Deno.test("`mapCodec({ decoder })` emits zero or several messages per frame and keeps state per stream", () => {
  const codec = words();
  const wire = b("a b c\n\n \nd\n");
  const d1 = new StreamDecoder(codec);
  const d2 = new StreamDecoder(codec);
  const got1: string[] = [];
  const got2: string[] = [];
  d1.decode(wire.subarray(0, 4), (m) => void got1.push(m));
  d2.decode(b("x\n"), (m) => void got2.push(m));
  d1.decode(wire.subarray(4), (m) => void got1.push(m));
  d1.finish((m) => void got1.push(m));
  d2.finish((m) => void got2.push(m));
  assertEquals(got1, ["0:a", "1:b", "2:c", "3:d"]);
  assertEquals(got2, ["0:x"]);
  // A new stream starts from fresh state.
  assertEquals(decodeAll(codec, [b("e f\n")]), ["0:e", "1:f"]);
});

Deno.test("`mapCodec({ decoder })` takes a FrameMapper whose end() runs once at end of stream", () => {
  // Sums the numbers of each line, and says the total at the end.
  const sums = mapCodec(lines(), {
    name: "sums",
    decoder: () => {
      let total = 0;
      let ends = 0;
      return {
        frame(frame: Uint8Array, emit: (s: string) => void) {
          const n = Number(new TextDecoder().decode(frame));
          total += n;
          if (n % 2 === 0) emit(`even ${n}`);
        },
        end(emit: (s: string) => void) {
          emit(`total ${total} after ${++ends} end`);
        },
      };
    },
    encode: (s: string) => b(s),
  });
  assertEquals(decodeAll(sums, [b("1\n2\n3\n4\n")]), [
    "even 2",
    "even 4",
    "total 10 after 1 end",
  ]);
  assertEquals(decodeAll(sums, []), ["total 0 after 1 end"]);
});

Deno.test("`mapCodec({ decoder })` emits a frame's messages before the error it throws after them, then resumes", () => {
  const codec = mapCodec(lines(), {
    name: "picky",
    decoder: () => (frame: Uint8Array, emit: (s: string) => void) => {
      for (const c of new TextDecoder().decode(frame)) {
        if (c === "!") throw new Error(`bad character ${c}`);
        emit(c);
      }
    },
    encode: (s: string) => b(s),
  });
  const d = new StreamDecoder(codec);
  const got: string[] = [];
  const emit = (m: string) => void got.push(m);
  const err = assertThrows(() => d.decode(b("ab!c\nde\n"), emit));
  assertInstanceOf(err, DecodeError);
  assertEquals(err.message, "Cannot decode picky message: bad character !");
  assertEquals(got, ["a", "b"]);
  d.decode(new Uint8Array(0), emit);
  d.finish(emit);
  assertEquals(got, ["a", "b", "d", "e"]);
});

Deno.test("`mapCodec({ decoder })` bounds the messages of one frame by maxMessagesPerFrame", () => {
  const codec = mapCodec(lengthPrefixed(), {
    name: "bytes",
    maxMessagesPerFrame: 4,
    decoder: () => (frame: Uint8Array, emit: (n: number) => void) => {
      for (const x of frame) emit(x);
    },
    encode: (n: number) => new Uint8Array([n]),
  });
  const wire = encodeAll(lengthPrefixed(), [
    new Uint8Array([1, 2, 3, 4]),
    new Uint8Array([5, 6, 7, 8, 9]),
    new Uint8Array([10]),
  ]);
  const d = new StreamDecoder(codec);
  const got: number[] = [];
  const emit = (n: number) => void got.push(n);
  assertThrows(
    () => d.decode(wire, emit),
    RangeError,
    "Cannot decode bytes frame: it gives more than maxMessagesPerFrame 4 messages",
  );
  assertEquals(got, [1, 2, 3, 4, 5, 6, 7, 8]);
  d.finish(emit);
  assertEquals(got, [1, 2, 3, 4, 5, 6, 7, 8, 10]);
});

Deno.test("`mapCodec()` takes exactly one of decode and decoder", () => {
  const encode = (m: Uint8Array) => m;
  assertThrows(
    () => mapCodec(lines(), { name: "none", encode }),
    TypeError,
    "Cannot build none codec: give either decode or decoder",
  );
  assertThrows(
    () =>
      mapCodec(lines(), {
        name: "both",
        decode: (f: Uint8Array) => f,
        decoder: () => (f: Uint8Array, emit: (m: Uint8Array) => void) =>
          emit(f),
        encode,
      }),
    TypeError,
  );
  assertThrows(
    () =>
      mapCodec(lines(), {
        name: "zero",
        decode: (f: Uint8Array) => f,
        maxMessagesPerFrame: 0,
        encode,
      }),
    RangeError,
  );
});

Deno.test("`mapCodec()` shares one stateless encoder between streams", () => {
  const codec = words();
  assertStrictEquals(codec.encoder(), codec.encoder());
});

Deno.test("`text(raw())` decodes what it encodes for any strings and chunking, borrowed or not", () => {
  const codec = text(raw());
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: "grapheme", maxLength: 20 }), {
        maxLength: 8,
      }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.boolean(),
      (strings, points, borrow) => {
        const wire = encodeAll(codec, strings);
        const cuts = [...new Set(points.map((p) => p % (wire.length + 1)))]
          .sort((x, y) => x - y);
        const d = new StreamDecoder(codec, { borrow });
        let got = "";
        let prev = 0;
        for (const p of [...cuts, wire.length]) {
          d.decode(wire.subarray(prev, p), (s) => void (got += s));
          prev = p;
        }
        d.finish((s) => void (got += s));
        assertEquals(got, strings.join(""));
      },
    ),
    { numRuns: 200 },
  );
});
