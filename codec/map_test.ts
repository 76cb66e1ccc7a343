// Copyright 2026 the netkit authors. MIT license.

import {
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import fc from "fast-check";
import { DecodeError } from "../errors.ts";
import { decodeAll, encodeAll, StreamDecoder } from "./decoder.ts";
import { lines } from "./delimited.ts";
import { lengthPrefixed } from "./length_prefixed.ts";
import { mapCodec, text } from "./map.ts";
import { raw } from "./raw.ts";
import { assert, assertFalse, assertStringIncludes } from "@std/assert";
import {
  b,
  chunksOf,
  collect,
  concat,
  cutAt,
  EMPTY,
  hex,
  toHex,
} from "./_test_helpers.ts";
import { type Codec, json } from "../codec.ts";
import { FrameTooLargeError, NetError } from "../errors.ts";

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

Deno.test("`text()` throws DecodeError for invalid UTF-8 and resumes at the next frame", () => {
  const codec = text(lengthPrefixed());
  const d = new StreamDecoder(codec);
  const out: string[] = [];
  const emit = (s: string) => void out.push(s);
  const wire = concat(
    codec.encoder().encode("a"),
    hex("00 00 00 02 c3 28"),
    codec.encoder().encode("é"),
  );
  const err = assertThrows(() => d.decode(wire, emit), DecodeError, "UTF-8");
  assert(err instanceof NetError);
  assertEquals(out, ["a"]);
  d.decode(EMPTY, emit);
  d.finish(emit);
  assertEquals(out, ["a", "é"]);
});

Deno.test("`text(lines())` keeps a byte order mark", () => {
  assertEquals(decodeAll(text(lines()), [b("\uFEFFa\n")]), ["\uFEFFa"]);
});

Deno.test("`text(raw())` keeps a multi-byte character split across chunks whole", () => {
  const codec = text(raw());
  for (const s of ["é", "€", "😀"]) {
    const bytes = b(`a${s}b`);
    for (let p = 0; p <= bytes.length; p++) {
      assertEquals(
        decodeAll(codec, cutAt(bytes, [p])).join(""),
        `a${s}b`,
        `${s} split at ${p}`,
      );
    }
    // One byte at a time: no replacement characters anywhere.
    assertEquals(decodeAll(codec, chunksOf(bytes, 1)).join(""), `a${s}b`);
  }
});

Deno.test("`text(raw())` throws DecodeError for invalid UTF-8 and for a character cut at EOF", () => {
  assertThrows(
    () => decodeAll(text(raw()), [hex("61 ff 62")]),
    DecodeError,
    "UTF-8",
  );
  assertThrows(
    () => decodeAll(text(raw()), [hex("61 e2 82")]),
    DecodeError,
    "UTF-8",
  );
});

Deno.test("`json()` throws DecodeError for invalid JSON", () => {
  const err = assertThrows(
    () => decodeAll(json(lines()), [b("{nope}\n")]),
    DecodeError,
    "Cannot decode JSON",
  );
  assertInstanceOf(err.cause, SyntaxError);
  assertThrows(() => decodeAll(json(lines()), [hex("ff 0a")]), DecodeError);
});

Deno.test("`json()` throws DecodeError for a value validate refuses", () => {
  const isPoint = (v: unknown): v is { x: number } =>
    typeof v === "object" && v !== null &&
    typeof (v as { x: unknown }).x === "number";
  const codec = json(lengthPrefixed(), { validate: isPoint });
  const wire = encodeAll(json(lengthPrefixed()), [{ x: 1 }, { y: 2 }, {
    x: 3,
  }]);
  const { frames, errors } = collect(codec, [wire]);
  assertEquals(frames, [{ x: 1 }, { x: 3 }]);
  assertEquals(errors.length, 1);
  assertInstanceOf(errors[0], DecodeError);
  assertStringIncludes((errors[0] as DecodeError).message, "validate");
});

Deno.test("`json()` passes reviver and replacer through", () => {
  const codec = json<Record<string, unknown>>(lines(), {
    replacer: (_k, v) => (typeof v === "bigint" ? `${v}n` : v),
    reviver: (_k, v) =>
      typeof v === "string" && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
  });
  const wire = codec.encoder().encode({ big: 10n });
  assertEquals(new TextDecoder().decode(wire), '{"big":"10n"}\n');
  assertEquals(decodeAll(codec, [wire]), [{ big: 10n }]);
});

Deno.test("`json()` refuses raw() and values without a JSON representation", () => {
  assertThrows(() => json(raw()), TypeError, "no frame boundaries");
  assertThrows(
    () => json(text(raw()) as unknown as Codec<Uint8Array>),
    TypeError,
  );
  assertThrows(() => json(lines()).encoder().encode(undefined), TypeError);
  assertThrows(() => json(lines()).encoder().encode(() => 1), TypeError);
});

Deno.test("`json()` defaults to lengthPrefixed() framing", () => {
  const wire = json().encoder().encode({ a: 1 });
  assertEquals(toHex(wire.subarray(0, 4)), "00 00 00 07");
  assertEquals(decodeAll(json(), [wire]), [{ a: 1 }]);
});

Deno.test("`text()` defaults to lines() framing", () => {
  assertEquals(toHex(text().encoder().encode("hi")), "68 69 0a");
  assertEquals(text().name, "text(lines)");
});

Deno.test("`mapCodec()` maps frames and wraps a foreign error in DecodeError", () => {
  const numbers = mapCodec(lines(), {
    name: "numbers",
    decode: (frame: Uint8Array) => {
      const n = Number(new TextDecoder().decode(frame));
      if (Number.isNaN(n)) throw new Error("not a number");
      return n;
    },
    encode: (n: number) => b(String(n)),
  });
  assertEquals(numbers.name, "numbers");
  assertEquals(toHex(encodeAll(numbers, [1, 22])), "31 0a 32 32 0a");
  const { frames, errors } = collect(numbers, [b("1\nx\n3\n")]);
  assertEquals(frames, [1, 3]);
  assertEquals(errors.length, 1);
  const err = errors[0];
  assertInstanceOf(err, DecodeError);
  assertStringIncludes(
    err.message,
    "Cannot decode numbers message: not a number",
  );
  assertInstanceOf(err.cause, Error);
});

Deno.test("`mapCodec()` passes a netkit error from decode through unchanged", () => {
  const own = new FrameTooLargeError(10, 5);
  const decodeErr = new DecodeError("bad", { offset: 3 });
  for (const thrown of [own, decodeErr]) {
    const codec = mapCodec(lines(), {
      name: "x",
      decode: (_: Uint8Array): never => {
        throw thrown;
      },
      encode: (m: Uint8Array) => m,
    });
    const err = assertThrows(() => decodeAll(codec, [b("a\n")]));
    assertStrictEquals(err, thrown);
  }
});

Deno.test("`mapCodec()` forwards buffered and dropped from the inner decoder", () => {
  const codec = mapCodec(lines({ maxLength: 2, oversize: "skip" }), {
    name: "id",
    decode: (m: Uint8Array) => m,
    encode: (m: Uint8Array) => m,
  });
  const d = new StreamDecoder(codec);
  d.decode(b("abcdef\nx"), () => {});
  assertEquals(d.dropped, 1);
  assertEquals(d.buffered, 1);
  assertFalse(codec.unframed);
});
