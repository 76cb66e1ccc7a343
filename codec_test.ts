// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
  fail,
} from "@std/assert";
import fc from "fast-check";
import { Buffer } from "node:buffer";
import {
  accepts,
  b,
  bytesOver,
  chunkings,
  chunksOf,
  collect,
  concat,
  cutAt,
  cutBy,
  cutsArb,
  EMPTY,
  hex,
  letters,
  NUM_RUNS,
  toHex,
  utf8,
} from "./codec/_test_helpers.ts";
import {
  ByteBuffer,
  type Codec,
  decodeAll,
  delimited,
  encodeAll,
  fixedLength,
  json,
  lengthPrefixed,
  type LengthPrefixedOptions,
  lines,
  netstring,
  type OversizePolicy,
  raw,
  StreamDecoder,
  text,
} from "./codec.ts";
import { FrameTooLargeError, NetError, UnexpectedEofError } from "./errors.ts";

// ---------------------------------------------------------------------------
// Table-driven stream tests, one row per framing

interface FramingCase {
  label: string;
  make: () => Codec<Uint8Array>;
  /** A few messages, with an empty one where the framing has empty frames. */
  messages: Uint8Array[];
  /** The i-th message of a long run. */
  nth: (i: number) => Uint8Array;
}

const PREFIX = hex("ca fe");

const FRAMINGS: FramingCase[] = [
  {
    label: "lengthPrefixed()",
    make: () => lengthPrefixed(),
    messages: [b("hello"), EMPTY, b("x"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: "lengthPrefixed({ lengthBytes: 1 })",
    make: () => lengthPrefixed({ lengthBytes: 1 }),
    messages: [b("hello"), EMPTY, b("x"), letters(255)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: "lengthPrefixed({ lengthBytes: 2, littleEndian: true })",
    make: () => lengthPrefixed({ lengthBytes: 2, littleEndian: true }),
    messages: [b("hello"), EMPTY, b("x"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: "lengthPrefixed({ lengthBytes: 8 })",
    make: () => lengthPrefixed({ lengthBytes: 8 }),
    messages: [b("hello"), EMPTY, b("x"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: 'lengthPrefixed({ lengthBytes: "varint" })',
    make: () => lengthPrefixed({ lengthBytes: "varint" }),
    messages: [b("hello"), EMPTY, letters(127), letters(128), letters(300)],
    nth: (i) => letters(i % 200, i),
  },
  {
    label: "lengthPrefixed({ lengthOffset: 2, prefix })",
    make: () => lengthPrefixed({ lengthOffset: 2, prefix: PREFIX }),
    messages: [b("hello"), EMPTY, b("x"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: "lengthPrefixed({ lengthIncludesHeader: true })",
    make: () => lengthPrefixed({ lengthIncludesHeader: true }),
    messages: [b("hello"), EMPTY, b("x"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: "lengthPrefixed({ lengthBytes: 2, lengthAdjustment: -2 })",
    make: () => lengthPrefixed({ lengthBytes: 2, lengthAdjustment: -2 }),
    messages: [b("hello"), EMPTY, b("x"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: 'delimited({ delimiter: "\\0" })',
    make: () => delimited({ delimiter: "\0" }),
    messages: [b("hello"), EMPTY, b("x"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: 'delimited({ delimiter: "\\r\\n\\r\\n" })',
    make: () => delimited({ delimiter: "\r\n\r\n" }),
    messages: [b("hello"), EMPTY, b("a\r\nb"), b("x"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: "lines()",
    make: () => lines(),
    messages: [b("hello"), EMPTY, b("a\rb"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: "lines({ crlf: true })",
    make: () => lines({ crlf: true }),
    messages: [b("hello"), EMPTY, b("a\rb"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
  {
    label: "fixedLength(5)",
    make: () => fixedLength(5),
    messages: [b("hello"), b("world"), letters(5, 3)],
    nth: (i) => letters(5, i),
  },
  {
    label: "netstring()",
    make: () => netstring(),
    messages: [b("hello"), EMPTY, b("x"), letters(300)],
    nth: (i) => letters(i % 40, i),
  },
];

for (const f of FRAMINGS) {
  Deno.test(`\`${f.label}\` decodes a header or delimiter split across chunks at every point`, () => {
    const codec = f.make();
    const wire = encodeAll(codec, f.messages);
    for (const [how, chunks] of chunkings(wire)) {
      assertEquals(decodeAll(codec, chunks), f.messages, how);
    }
  });

  Deno.test(`\`${f.label}\` decodes a frame spread over three chunks at every pair of points`, () => {
    const codec = f.make();
    const wire = encodeAll(codec, f.messages.slice(0, 3));
    for (let p = 0; p <= wire.length; p++) {
      for (let q = p; q <= wire.length; q++) {
        assertEquals(
          decodeAll(codec, cutAt(wire, [p, q])),
          f.messages.slice(0, 3),
          `cut at ${p} and ${q}`,
        );
      }
    }
  });

  Deno.test(`\`${f.label}\` decodes one byte at a time`, () => {
    const codec = f.make();
    const wire = encodeAll(codec, f.messages);
    const d = new StreamDecoder(codec);
    const frames: Uint8Array[] = [];
    for (const chunk of chunksOf(wire, 1)) {
      d.decode(chunk, (m) => frames.push(m));
    }
    d.finish((m) => frames.push(m));
    assertEquals(frames, f.messages);
    assertEquals(d.buffered, 0);
  });

  Deno.test(`\`${f.label}\` decodes a huge chunk holding 10 000 frames`, () => {
    const codec = f.make();
    const messages = Array.from({ length: 10_000 }, (_, i) => f.nth(i));
    const wire = encodeAll(codec, messages);
    const frames = decodeAll(codec, [wire]);
    assertEquals(frames.length, 10_000);
    assertEquals(frames, messages);
    // The same bytes in 64 KiB reads, as a socket hands them out.
    assertEquals(decodeAll(codec, chunksOf(wire, 65_536)), messages);
  });

  Deno.test(`\`${f.label}\` ignores empty chunks`, () => {
    const codec = f.make();
    const d = new StreamDecoder(codec);
    const frames: Uint8Array[] = [];
    for (let k = 0; k < 3; k++) d.decode(EMPTY, (m) => frames.push(m));
    assertEquals(frames, []);
    assertEquals(d.buffered, 0);
    d.finish((m) => frames.push(m));
    assertEquals(frames, []);
  });

  Deno.test(`\`${f.label}\` throws UnexpectedEofError when the stream ends inside a frame`, () => {
    const codec = f.make();
    const first = codec.encoder().encode(f.messages[0]!);
    const partial = codec.encoder().encode(
      f.messages[1]!.length > 0 ? f.messages[1]! : b("hello"),
    );
    for (let p = 1; p < partial.length; p++) {
      const { frames, errors } = collect(codec, [
        concat(first, partial.subarray(0, p)),
      ]);
      assertEquals(frames, [f.messages[0]!], `prefix ${p}`);
      assertEquals(errors.length, 1, `prefix ${p} of ${toHex(partial)}`);
      const err = errors[0];
      assertInstanceOf(err, UnexpectedEofError, `prefix ${p}`);
      assertGreater(err.remaining, 0, `prefix ${p}`);
      assertLessOrEqual(err.remaining, p, `prefix ${p}`);
    }
  });

  Deno.test(`\`${f.label}\` never keeps a reference to a chunk it was given`, () => {
    const codec = f.make();
    const [m0, m1, m2] = [f.messages[0]!, f.messages[1]!, f.messages[2]!];
    const e2 = codec.encoder().encode(m2);
    const half = Math.max(1, e2.length >> 1);
    // One reusable read buffer, as a connection has.
    const readBuf = new Uint8Array(4096);
    const first = concat(
      codec.encoder().encode(m0),
      codec.encoder().encode(m1),
      e2.subarray(0, half),
    );
    readBuf.set(first);
    const d = new StreamDecoder(codec);
    const frames: Uint8Array[] = [];
    d.decode(readBuf.subarray(0, first.length), (m) => frames.push(m));
    readBuf.fill(0xee);
    const rest = e2.subarray(half);
    readBuf.set(rest);
    d.decode(readBuf.subarray(0, rest.length), (m) => frames.push(m));
    readBuf.fill(0xee);
    d.finish((m) => frames.push(m));
    assertEquals(frames, [m0, m1, m2]);
  });
}

Deno.test("`decodeAll()` gives the same frames as the decoder driven by hand", () => {
  const codec = lengthPrefixed();
  const wire = encodeAll(codec, [b("a"), b("bc")]);
  const d = new StreamDecoder(codec);
  const frames: Uint8Array[] = [];
  d.decode(wire, (m) => frames.push(m));
  d.finish((m) => frames.push(m));
  assertEquals(decodeAll(codec, [wire]), frames);
  assertEquals(frames, [b("a"), b("bc")]);
});

// ---------------------------------------------------------------------------
// The exact remaining count at EOF

interface EofCase {
  label: string;
  make: () => Codec<Uint8Array>;
  message: Uint8Array;
}

const EOF_CASES: EofCase[] = [
  {
    label: "lengthPrefixed()",
    make: () => lengthPrefixed(),
    message: b("hello"),
  },
  {
    label: 'lengthPrefixed({ lengthBytes: "varint" })',
    make: () => lengthPrefixed({ lengthBytes: "varint" }),
    message: letters(200),
  },
  {
    label: 'delimited({ delimiter: "\\r\\n\\r\\n" })',
    make: () => delimited({ delimiter: "\r\n\r\n" }),
    message: b("hello"),
  },
  { label: "lines()", make: () => lines(), message: b("hello") },
  { label: "fixedLength(5)", make: () => fixedLength(5), message: b("hello") },
  { label: "netstring()", make: () => netstring(), message: b("hello") },
];

for (const c of EOF_CASES) {
  Deno.test(`\`${c.label}\` reports every byte after the last whole frame as remaining at EOF`, () => {
    const codec = c.make();
    const whole = codec.encoder().encode(c.message);
    const partial = codec.encoder().encode(c.message);
    const got: string[] = [];
    const want: string[] = [];
    for (let p = 1; p < partial.length; p++) {
      const { frames, errors } = collect(codec, [
        concat(whole, partial.subarray(0, p)),
      ]);
      assertEquals(frames, [c.message]);
      const err = errors[0];
      got.push(
        `${p}: ${
          err instanceof UnexpectedEofError
            ? `UnexpectedEofError(${err.remaining})`
            : "no error"
        }`,
      );
      want.push(`${p}: UnexpectedEofError(${p})`);
    }
    assertEquals(got, want);
  });
}

Deno.test("`lengthPrefixed()` throws UnexpectedEofError when the stream ends right after a header", () => {
  // Four bytes announce a five-byte payload; nothing of it arrives.
  const err = assertThrows(
    () => decodeAll(lengthPrefixed(), [hex("00 00 00 05")]),
    UnexpectedEofError,
  );
  assertEquals(err.remaining, 4);
});

Deno.test("`netstring()` throws UnexpectedEofError when the stream ends right after the colon", () => {
  const err = assertThrows(
    () => decodeAll(netstring(), [b("5:")]),
    UnexpectedEofError,
  );
  assertEquals(err.remaining, 2);
});

Deno.test("`lengthPrefixed()` throws UnexpectedEofError with remaining 2 for half a header", () => {
  const err = assertThrows(
    () => decodeAll(lengthPrefixed(), [hex("00 00")]),
    UnexpectedEofError,
    "stream ended with 2 bytes of a partial frame",
  );
  assertEquals(err.remaining, 2);
  assertEquals(err.code, "EUNEXPECTEDEOF");
});

Deno.test("`delimited()` throws UnexpectedEofError with the bytes after the last delimiter", () => {
  const err = assertThrows(
    () => decodeAll(delimited({ delimiter: "\0" }), [b("a\0bc")]),
    UnexpectedEofError,
  );
  assertEquals(err.remaining, 2);
});

Deno.test("`fixedLength()` throws UnexpectedEofError with the bytes of the partial frame", () => {
  const err = assertThrows(
    () => decodeAll(fixedLength(4), [b("abcdef")]),
    UnexpectedEofError,
  );
  assertEquals(err.remaining, 2);
});

Deno.test("`Decoder.finish()` leaves the decoder ready for a new stream", () => {
  for (
    const codec of [lengthPrefixed(), lines(), fixedLength(3), netstring()]
  ) {
    const d = new StreamDecoder(codec);
    d.decode(b("12"), () => {});
    assertThrows(
      () => d.finish(() => {}),
      UnexpectedEofError,
      undefined,
      codec.name,
    );
    assertEquals(d.buffered, 0, codec.name);
    const wire = codec.encoder().encode(b("abc"));
    const frames: Uint8Array[] = [];
    d.decode(wire, (m) => frames.push(m));
    d.finish((m) => frames.push(m));
    assertEquals(frames, [b("abc")], codec.name);
  }
});

Deno.test("`Decoder.finish()` resets the decoder even when the bytes it still held throw", () => {
  const table: [Codec<Uint8Array>, Uint8Array, Uint8Array][] = [
    [
      lengthPrefixed({ maxFrameLength: 4 }),
      // Two frames over the limit; the second is cut short by EOF.
      concat(hex("00 00 00 09"), letters(9), hex("00 00 00 09 61 62")),
      concat(hex("00 00 00 01"), b("a")),
    ],
    [lines({ maxLength: 4 }), b("toolong\ntoolong"), b("a\n")],
  ];
  for (const [codec, firstStream, secondStream] of table) {
    const d = new StreamDecoder(codec);
    const frames: Uint8Array[] = [];
    const emit = (m: Uint8Array) => void frames.push(m);
    assertThrows(() => d.decode(firstStream, emit), FrameTooLargeError);
    const err = assertThrows(() => d.finish(emit));
    assertInstanceOf(err, NetError, codec.name);
    assertEquals(d.buffered, 0, codec.name);
    // A new stream on the same decoder.
    d.decode(secondStream, emit);
    d.finish(emit);
    assertEquals(frames, [b("a")], codec.name);
  }
});

// ---------------------------------------------------------------------------
// A limit hit mid-frame, for every framing with a limit

interface LimitCase {
  label: string;
  make: (oversize: OversizePolicy) => Codec<Uint8Array>;
  limit: number;
  /** The bad frame's bytes on the wire. */
  bad: Uint8Array;
  /** The announced length, when the framing announces one. */
  length?: number;
}

const LIMIT_CASES: LimitCase[] = [
  {
    label: "lengthPrefixed({ maxFrameLength: 16 })",
    make: (oversize) => lengthPrefixed({ maxFrameLength: 16, oversize }),
    limit: 16,
    bad: concat(hex("00 00 00 28"), letters(40)),
    length: 40,
  },
  {
    label:
      "lengthPrefixed({ lengthBytes: 2, littleEndian: true, maxFrameLength: 16 })",
    make: (oversize) =>
      lengthPrefixed({
        lengthBytes: 2,
        littleEndian: true,
        maxFrameLength: 16,
        oversize,
      }),
    limit: 16,
    bad: concat(hex("28 00"), letters(40)),
    length: 40,
  },
  {
    label: 'lengthPrefixed({ lengthBytes: "varint", maxFrameLength: 16 })',
    make: (oversize) =>
      lengthPrefixed({ lengthBytes: "varint", maxFrameLength: 16, oversize }),
    limit: 16,
    bad: concat(hex("28"), letters(40)),
    length: 40,
  },
  {
    label: "lengthPrefixed({ lengthOffset: 2, prefix, maxFrameLength: 16 })",
    make: (oversize) =>
      lengthPrefixed({
        lengthOffset: 2,
        prefix: PREFIX,
        maxFrameLength: 16,
        oversize,
      }),
    limit: 16,
    bad: concat(PREFIX, hex("00 00 00 28"), letters(40)),
    length: 40,
  },
  {
    label: 'delimited({ delimiter: "\\0", maxLength: 16 })',
    make: (oversize) => delimited({ delimiter: "\0", maxLength: 16, oversize }),
    limit: 16,
    bad: concat(letters(40), hex("00")),
  },
  {
    label: 'delimited({ delimiter: "\\r\\n\\r\\n", maxLength: 16 })',
    make: (oversize) =>
      delimited({ delimiter: "\r\n\r\n", maxLength: 16, oversize }),
    limit: 16,
    bad: concat(letters(40), b("\r\n\r\n")),
  },
  {
    label: "lines({ maxLength: 16 })",
    make: (oversize) => lines({ maxLength: 16, oversize }),
    limit: 16,
    bad: concat(letters(40), b("\r\n")),
  },
  {
    label: "netstring({ maxFrameLength: 16 })",
    make: (oversize) => netstring({ maxFrameLength: 16, oversize }),
    limit: 16,
    bad: concat(b("40:"), letters(40), b(",")),
    length: 40,
  },
];

for (const c of LIMIT_CASES) {
  const goods = [b("one"), b("two"), EMPTY, b("four")];

  Deno.test(`\`${c.label}\` throws FrameTooLargeError once for a frame over the limit, then resumes at the next frame`, () => {
    const codec = c.make("error");
    const e = codec.encoder();
    const wire = concat(
      e.encode(goods[0]!),
      c.bad,
      e.encode(goods[1]!),
      e.encode(goods[2]!),
      e.encode(goods[3]!),
    );
    for (const [how, chunks] of chunkings(wire)) {
      const { frames, errors, decoder } = collect(codec, chunks);
      assertEquals(errors.length, 1, `${how}: ${errors}`);
      const err = errors[0];
      assertInstanceOf(err, FrameTooLargeError, how);
      assertEquals(err.limit, c.limit, how);
      if (c.length !== undefined) {
        assertEquals(err.length, c.length, how);
      } else {
        assertGreater(err.length, c.limit, how);
      }
      assertEquals(frames, goods, how);
      assertEquals(decoder.dropped, 0, how);
    }
  });

  Deno.test(`\`${c.label}\` drops a frame over the limit and counts it with oversize "skip"`, () => {
    const codec = c.make("skip");
    const e = codec.encoder();
    const wire = concat(
      e.encode(goods[0]!),
      c.bad,
      e.encode(goods[1]!),
      c.bad,
      e.encode(goods[2]!),
      e.encode(goods[3]!),
    );
    for (const [how, chunks] of chunkings(wire)) {
      const { frames, errors, decoder } = collect(codec, chunks);
      assertEquals(errors, [], how);
      assertEquals(frames, goods, how);
      assertEquals(decoder.dropped, 2, how);
    }
  });

  Deno.test(`\`${c.label}\` emits the frames after a bad one when decode() is called again`, () => {
    const codec = c.make("error");
    const e = codec.encoder();
    const d = new StreamDecoder(codec);
    const frames: Uint8Array[] = [];
    const emit = (m: Uint8Array) => void frames.push(m);
    // The bad frame sits between good ones inside a single chunk.
    const chunk = concat(e.encode(b("before")), c.bad, e.encode(b("after")));
    assertThrows(() => d.decode(chunk, emit), FrameTooLargeError);
    assertEquals(frames, [b("before")]);
    d.decode(EMPTY, emit);
    assertEquals(frames, [b("before"), b("after")]);
    d.decode(e.encode(b("later")), emit);
    d.finish(emit);
    assertEquals(frames, [b("before"), b("after"), b("later")]);
  });

  Deno.test(`\`${c.label}\` rejects a message over the limit on encode`, () => {
    const codec = c.make("error");
    const err = assertThrows(
      () => codec.encoder().encode(letters(c.limit + 1)),
      FrameTooLargeError,
      "Cannot encode frame",
    );
    assertEquals(err.length, c.limit + 1);
    assertEquals(err.limit, c.limit);
    // At the limit it goes through and comes back.
    const atLimit = letters(c.limit);
    assertEquals(decodeAll(codec, [codec.encoder().encode(atLimit)]), [
      atLimit,
    ]);
  });
}

Deno.test('`lengthPrefixed({ lengthBytes: "varint", maxFrameLength: 100 })` skips a frame whose varint is longer than the limit needs', () => {
  // 200 needs a two-byte varint (c8 01); the limit 100 needs one byte.
  const codec = lengthPrefixed({
    lengthBytes: "varint",
    maxFrameLength: 100,
    oversize: "skip",
  });
  const wire = concat(hex("c8 01"), letters(200), hex("02 6f 6b"));
  const { frames, errors, decoder } = collect(codec, [wire]);
  assertEquals(errors, []);
  assertEquals(frames, [b("ok")]);
  assertEquals(decoder.dropped, 1);
});

Deno.test('`lengthPrefixed({ lengthBytes: "varint", maxFrameLength: 100 })` reports the length of a frame whose varint is longer than the limit needs, then resumes', () => {
  const codec = lengthPrefixed({ lengthBytes: "varint", maxFrameLength: 100 });
  const wire = concat(hex("c8 01"), letters(200), hex("02 6f 6b"));
  const { frames, errors } = collect(codec, [wire]);
  assertEquals(errors.length, 1);
  const err = errors[0];
  assertInstanceOf(err, FrameTooLargeError);
  assertEquals([err.length, err.limit], [200, 100]);
  assertEquals(frames, [b("ok")]);
});

Deno.test("`netstring({ maxFrameLength: 64 })` skips a frame whose length has more digits than the limit", () => {
  const codec = netstring({ maxFrameLength: 64, oversize: "skip" });
  const wire = concat(b("100:"), letters(100), b(",2:ok,"));
  const { frames, errors, decoder } = collect(codec, [wire]);
  assertEquals(errors, []);
  assertEquals(frames, [b("ok")]);
  assertEquals(decoder.dropped, 1);
});

Deno.test("`netstring({ maxFrameLength: 64 })` reports the length of a frame whose length has more digits than the limit, then resumes", () => {
  const codec = netstring({ maxFrameLength: 64 });
  const wire = concat(b("100:"), letters(100), b(",2:ok,"));
  const { frames, errors } = collect(codec, [wire]);
  assertEquals(errors.length, 1, String(errors));
  const err = errors[0];
  assertInstanceOf(err, FrameTooLargeError);
  assertEquals([err.length, err.limit], [100, 64]);
  assertEquals(frames, [b("ok")]);
});

Deno.test("`lengthPrefixed()` FrameTooLargeError carries the standard message", () => {
  const err = assertThrows(
    () =>
      decodeAll(lengthPrefixed({ maxFrameLength: 4 }), [hex("00 00 00 09")]),
    FrameTooLargeError,
  );
  assertEquals(
    err.message,
    "Cannot decode frame: length 9 exceeds maxFrameLength 4",
  );
  assertEquals(err.code, "EFRAMETOOLARGE");
  assert(err instanceof NetError);
  assert(err instanceof RangeError);
});

Deno.test("`delimited()` FrameTooLargeError names maxLength", () => {
  const err = assertThrows(
    () =>
      decodeAll(delimited({ delimiter: "\n", maxLength: 4 }), [
        b("abcdefgh\n"),
      ]),
    FrameTooLargeError,
  );
  assertStringIncludes(err.message, "maxLength 4");
  assertEquals(err.limit, 4);
});

Deno.test("`delimited()` keeps the buffer within maxLength while a peer never sends the delimiter", () => {
  const d = new StreamDecoder(delimited({ delimiter: "\r\n", maxLength: 100 }));
  let errors = 0;
  for (let k = 0; k < 1000; k++) {
    try {
      d.decode(letters(37, k), () => fail("no frame expected"));
    } catch (err) {
      assertInstanceOf(err, FrameTooLargeError);
      errors++;
    }
    assertLessOrEqual(d.buffered, 101);
  }
  assertEquals(errors, 1);
});

// ---------------------------------------------------------------------------
// Build-time validation

Deno.test("`delimited()`, `lines()`, `fixedLength()` and `netstring()` reject invalid options", () => {
  const table: [() => unknown, typeof TypeError | typeof RangeError][] = [
    [() => delimited({ delimiter: "" }), TypeError],
    [() => delimited({ delimiter: new Uint8Array(0) }), TypeError],
    [() => delimited({} as { delimiter: string }), TypeError],
    [() => delimited({ delimiter: "\n", maxLength: 0 }), RangeError],
    [() => delimited({ delimiter: "\n", maxLength: -5 }), RangeError],
    [
      () => delimited({ delimiter: "\n", oversize: "x" as OversizePolicy }),
      TypeError,
    ],
    [() => delimited({ delimiter: "\n", eof: "x" as "emit" }), TypeError],
    [() => lines({ maxLength: 0 }), RangeError],
    [() => lines({ maxLength: 1.5 }), RangeError],
    [() => lines({ eof: "drop" as "emit" }), TypeError],
    [() => fixedLength(0), RangeError],
    [() => fixedLength(-1), RangeError],
    [() => fixedLength(1.5), RangeError],
    [() => netstring({ maxFrameLength: -1 }), RangeError],
    [() => netstring({ maxFrameLength: Infinity }), RangeError],
    [() => netstring({ oversize: "x" as OversizePolicy }), TypeError],
  ];
  for (const [build, ErrorClass] of table) {
    assertThrows(build, ErrorClass, "Cannot build", build.toString());
  }
});

// ---------------------------------------------------------------------------
// Byte compatibility with other implementations

interface Vector {
  what: string;
  codec: Codec<Uint8Array>;
  message: Uint8Array;
  wire: string;
}

const ABC9 = b("abcdefghi");
const ABC9_HEX = "61 62 63 64 65 66 67 68 69";
const HELLO_HEX = "68 65 6c 6c 6f";

const VECTORS: Vector[] = [
  {
    what: "tokio LengthDelimitedCodec::new() / Netty LengthFieldPrepender(4)",
    codec: lengthPrefixed(),
    message: b("hello"),
    wire: `00 00 00 05 ${HELLO_HEX}`,
  },
  {
    what: "an empty frame, tokio / Netty defaults",
    codec: lengthPrefixed(),
    message: EMPTY,
    wire: "00 00 00 00",
  },
  {
    what: "tokio read_single_frame_one_packet",
    codec: lengthPrefixed(),
    message: ABC9,
    wire: `00 00 00 09 ${ABC9_HEX}`,
  },
  {
    what: "tokio Builder::little_endian()",
    codec: lengthPrefixed({ littleEndian: true }),
    message: ABC9,
    wire: `09 00 00 00 ${ABC9_HEX}`,
  },
  {
    what: "tokio Builder::length_field_length(1)",
    codec: lengthPrefixed({ lengthBytes: 1 }),
    message: ABC9,
    wire: `09 ${ABC9_HEX}`,
  },
  {
    what: "Netty LengthFieldPrepender(4, true)",
    codec: lengthPrefixed({ lengthIncludesHeader: true }),
    message: b("hello"),
    wire: `00 00 00 09 ${HELLO_HEX}`,
  },
  {
    what:
      "tokio length_field_length(2).length_adjustment(-2), as lengthIncludesHeader",
    codec: lengthPrefixed({ lengthBytes: 2, lengthIncludesHeader: true }),
    message: ABC9,
    wire: `00 0b ${ABC9_HEX}`,
  },
  {
    what: "tokio write_single_frame_length_adjusted (length_adjustment(-2))",
    codec: lengthPrefixed({ lengthAdjustment: -2 }),
    message: ABC9,
    wire: `00 00 00 0b ${ABC9_HEX}`,
  },
  {
    what: "a 2-byte little-endian field",
    codec: lengthPrefixed({ lengthBytes: 2, littleEndian: true }),
    message: b("hello"),
    wire: `05 00 ${HELLO_HEX}`,
  },
  {
    what: "an 8-byte big-endian field",
    codec: lengthPrefixed({ lengthBytes: 8 }),
    message: b("hello"),
    wire: `00 00 00 00 00 00 00 05 ${HELLO_HEX}`,
  },
  {
    what:
      "tokio length_field_offset(4).length_field_length(2) (read_header_offset)",
    codec: lengthPrefixed({
      lengthBytes: 2,
      lengthOffset: 4,
      prefix: b("zzzz"),
    }),
    message: ABC9,
    wire: `7a 7a 7a 7a 00 09 ${ABC9_HEX}`,
  },
  {
    what: "protobuf writeDelimitedTo, 300 bytes",
    codec: lengthPrefixed({ lengthBytes: "varint" }),
    message: letters(300),
    wire: `ac 02 ${toHex(letters(300))}`,
  },
  {
    what: "netstring",
    codec: netstring(),
    message: b("hello"),
    wire: "35 3a 68 65 6c 6c 6f 2c",
  },
  {
    what: "netstring, empty",
    codec: netstring(),
    message: EMPTY,
    wire: "30 3a 2c",
  },
  {
    what: "delimited NUL",
    codec: delimited({ delimiter: "\0" }),
    message: b("ab"),
    wire: "61 62 00",
  },
  {
    what: "delimited CR LF",
    codec: delimited({ delimiter: "\r\n" }),
    message: b("ab"),
    wire: "61 62 0d 0a",
  },
];

Deno.test("`lengthPrefixed()`, `netstring()` and `delimited()` write and read the published byte vectors", () => {
  for (const v of VECTORS) {
    assertEquals(toHex(v.codec.encoder().encode(v.message)), v.wire, v.what);
    assertEquals(toHex(encodeAll(v.codec, [v.message])), v.wire, v.what);
    assertEquals(decodeAll(v.codec, [hex(v.wire)]), [v.message], v.what);
  }
  assertEquals(
    new TextDecoder().decode(encodeAll(netstring(), [b("hello")])),
    "5:hello,",
  );
});

Deno.test("`lengthPrefixed()` decodes tokio's multi-frame multi-packet script", () => {
  // tokio-util tests/length_delimited.rs, read_multi_frame_multi_packet.
  const chunks = [
    hex("00 00"),
    concat(hex("00 09"), b("abc")),
    b("defghi"),
    concat(hex("00 00 00 03"), b("12")),
    concat(b("3"), hex("00 00 00 0b"), b("hello world")),
  ];
  assertEquals(decodeAll(lengthPrefixed(), chunks), [
    b("abcdefghi"),
    b("123"),
    b("hello world"),
  ]);
});

Deno.test("`lengthPrefixed({ lengthBytes: 2, lengthAdjustment: -2 })` decodes tokio's length-includes-head script", () => {
  // tokio-util tests/length_delimited.rs,
  // read_single_multi_frame_one_packet_length_includes_head.
  const wire = concat(
    hex("00 0b"),
    b("abcdefghi"),
    hex("00 05"),
    b("123"),
    hex("00 0d"),
    b("hello world"),
  );
  const expected = [b("abcdefghi"), b("123"), b("hello world")];
  assertEquals(
    decodeAll(lengthPrefixed({ lengthBytes: 2, lengthAdjustment: -2 }), [wire]),
    expected,
  );
  assertEquals(
    decodeAll(lengthPrefixed({ lengthBytes: 2, lengthIncludesHeader: true }), [
      wire,
    ]),
    expected,
  );
});

// ---------------------------------------------------------------------------
// Properties: decode(encode(m)) = m for any messages and any chunking

const bytesArb = fc.uint8Array({ maxLength: 300 });
const messagesArb = fc.array(bytesArb, { maxLength: 12 });

function roundTrips<T>(
  codec: Codec<T>,
  messages: fc.Arbitrary<T[]>,
): void {
  fc.assert(
    fc.property(messages, cutsArb, (ms, cuts) => {
      const accepted = ms.filter((m) => accepts(codec, m));
      const wire = encodeAll(codec, accepted);
      assertEquals(decodeAll(codec, cutBy(wire, cuts)), accepted);
      assertEquals(decodeBorrowed(codec, cutBy(wire, cuts)), accepted);
    }),
    { numRuns: NUM_RUNS },
  );
}

const LENGTH_PREFIXED_CONFIGS: LengthPrefixedOptions[] = [
  {},
  { lengthBytes: 1 },
  { lengthBytes: 3 },
  { lengthBytes: 3, littleEndian: true },
  { lengthBytes: 2, littleEndian: true },
  { lengthBytes: 4, littleEndian: true },
  { lengthBytes: 8 },
  { lengthBytes: 8, littleEndian: true },
  { lengthBytes: "varint" },
  { lengthBytes: "varint", lengthOffset: 2, lengthAdjustment: -1 },
  { lengthOffset: 3, prefix: hex("01 02 03") },
  { lengthIncludesHeader: true, lengthBytes: 2 },
  { lengthAdjustment: -7 },
];

for (const options of LENGTH_PREFIXED_CONFIGS) {
  const label = JSON.stringify(
    options,
    (_k, v) => v instanceof Uint8Array ? toHex(v) : v,
  );
  Deno.test(`\`lengthPrefixed(${label})\` decodes what it encodes for any messages and chunking`, () => {
    const codec = lengthPrefixed(options);
    roundTrips(
      codec,
      fc.array(
        fc.uint8Array({ maxLength: options.lengthBytes === 1 ? 250 : 300 }),
        {
          maxLength: 12,
        },
      ),
    );
  });
}

Deno.test("`lengthPrefixed()` decodes what it encodes for varint lengths around the byte boundaries", () => {
  const codec = lengthPrefixed({ lengthBytes: "varint" });
  const sizes = fc.constantFrom(0, 1, 127, 128, 129, 300, 16383, 16384, 16385);
  roundTrips(
    codec,
    fc.array(sizes.map((n) => letters(n)), { maxLength: 4 }),
  );
});

Deno.test('`delimited({ delimiter: "\\0" })` decodes what it encodes for any messages and chunking', () => {
  roundTrips(
    delimited({ delimiter: "\0" }),
    fc.array(bytesOver([0x00, 0x01, 0x61, 0xff]), { maxLength: 12 }),
  );
  roundTrips(delimited({ delimiter: "\0" }), messagesArb);
});

for (const delimiter of ["\r\n", "ab", "\r\n\r\n", "aba"]) {
  const shown = JSON.stringify(delimiter);
  Deno.test(`\`delimited({ delimiter: ${shown} })\` decodes what it encodes for any messages and chunking`, () => {
    const alphabet = [...new Set([...b(delimiter), 0x61, 0x62, 0x7a])];
    roundTrips(
      delimited({ delimiter }),
      fc.array(bytesOver(alphabet), { maxLength: 12 }),
    );
  });
}

Deno.test("`lines()` decodes what it encodes for any messages and chunking", () => {
  roundTrips(
    lines(),
    fc.array(bytesOver([0x0a, 0x0d, 0x61, 0x62]), { maxLength: 12 }),
  );
});

Deno.test("`lines({ crlf: true })` decodes what it encodes for any messages and chunking", () => {
  roundTrips(
    lines({ crlf: true }),
    fc.array(bytesOver([0x0a, 0x0d, 0x61, 0x62]), { maxLength: 12 }),
  );
});

Deno.test("`fixedLength()` decodes what it encodes for any messages and chunking", () => {
  for (const n of [1, 7]) {
    roundTrips(
      fixedLength(n),
      fc.array(fc.uint8Array({ minLength: n, maxLength: n }), {
        maxLength: 20,
      }),
    );
  }
});

Deno.test("`netstring()` decodes what it encodes for any messages and chunking", () => {
  roundTrips(netstring(), messagesArb);
  roundTrips(
    netstring(),
    fc.array(bytesOver([0x30, 0x31, 0x3a, 0x2c]), { maxLength: 12 }),
  );
});

Deno.test("`raw()` hands out the same bytes in order, without empty frames, for any chunking", () => {
  fc.assert(
    fc.property(messagesArb, cutsArb, (ms, cuts) => {
      const wire = encodeAll(raw(), ms);
      assertEquals(wire, concat(...ms));
      const chunks = cutBy(wire, cuts);
      const frames = decodeAll(raw(), chunks);
      assertEquals(concat(...frames), wire);
      assertEquals(frames, chunks.filter((c) => c.length > 0));
    }),
    { numRuns: NUM_RUNS },
  );
});

const stringArb = fc.string({ unit: "grapheme", maxLength: 40 });
/** Any Unicode scalar value (a code point that is not a surrogate). */
const scalarValueArb = fc.integer({ min: 0, max: 0x10ffff - 0x800 }).map((n) =>
  String.fromCodePoint(n < 0xd800 ? n : n + 0x800)
);

Deno.test("`text(lines())` decodes what it encodes for any strings and chunking", () => {
  roundTrips(
    text(lines()),
    fc.array(stringArb.filter((s) => !s.includes("\n") && !s.includes("\r")), {
      maxLength: 12,
    }),
  );
});

Deno.test("`text(lengthPrefixed())` decodes what it encodes for any strings and chunking", () => {
  roundTrips(text(lengthPrefixed()), fc.array(stringArb, { maxLength: 12 }));
  roundTrips(
    text(lengthPrefixed()),
    fc.array(
      fc.string({ unit: scalarValueArb, maxLength: 20 }),
      {
        maxLength: 12,
      },
    ),
  );
});

Deno.test("`text(netstring())` decodes what it encodes for any strings and chunking", () => {
  roundTrips(text(netstring()), fc.array(stringArb, { maxLength: 12 }));
});

Deno.test("`text(raw())` decodes the concatenation of what it encodes for any chunking", () => {
  const codec = text(raw());
  fc.assert(
    fc.property(fc.array(stringArb, { maxLength: 12 }), cutsArb, (ss, cuts) => {
      const wire = encodeAll(codec, ss);
      assertEquals(decodeAll(codec, cutBy(wire, cuts)).join(""), ss.join(""));
    }),
    { numRuns: NUM_RUNS },
  );
});

for (
  const [label, make] of [
    ["json(lines())", () => json(lines())],
    ["json(lengthPrefixed())", () => json(lengthPrefixed())],
  ] as const
) {
  Deno.test(`\`${label}\` decodes what it encodes for any JSON values and chunking`, () => {
    const codec = make();
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 8 }),
        cutsArb,
        (vs, cuts) => {
          const wire = encodeAll(codec, vs);
          const expected = vs.map((v) => JSON.parse(JSON.stringify(v)));
          assertEquals(decodeAll(codec, cutBy(wire, cuts)), expected);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
}

// ---------------------------------------------------------------------------
// Properties: garbage in any chunking throws only netkit errors and keeps
// the buffer bounded

interface GarbageCase {
  label: string;
  make: () => Codec<unknown, never>;
  /** The most bytes the decoder may hold: the limit plus one header. */
  bound: number;
}

const GARBAGE_CASES: GarbageCase[] = [
  {
    label: "lengthPrefixed({ maxFrameLength: 64 })",
    make: () => lengthPrefixed({ maxFrameLength: 64 }),
    bound: 64 + 4,
  },
  {
    label: "lengthPrefixed({ lengthBytes: 1, maxFrameLength: 64 })",
    make: () => lengthPrefixed({ lengthBytes: 1, maxFrameLength: 64 }),
    bound: 64 + 1,
  },
  {
    label:
      "lengthPrefixed({ lengthBytes: 8, littleEndian: true, maxFrameLength: 64 })",
    make: () =>
      lengthPrefixed({
        lengthBytes: 8,
        littleEndian: true,
        maxFrameLength: 64,
      }),
    bound: 64 + 8,
  },
  {
    label: 'lengthPrefixed({ lengthBytes: "varint", maxFrameLength: 64 })',
    make: () => lengthPrefixed({ lengthBytes: "varint", maxFrameLength: 64 }),
    bound: 64 + 1,
  },
  {
    label:
      'lengthPrefixed({ lengthBytes: "varint", maxFrameLength: 300, lengthOffset: 1 })',
    make: () =>
      lengthPrefixed({
        lengthBytes: "varint",
        maxFrameLength: 300,
        lengthOffset: 1,
      }),
    bound: 300 + 3,
  },
  {
    label:
      'lengthPrefixed({ lengthIncludesHeader: true, maxFrameLength: 64, oversize: "skip" })',
    make: () =>
      lengthPrefixed({
        lengthIncludesHeader: true,
        maxFrameLength: 64,
        oversize: "skip",
      }),
    bound: 64 + 4,
  },
  {
    label: 'delimited({ delimiter: "\\0", maxLength: 64 })',
    make: () => delimited({ delimiter: "\0", maxLength: 64 }),
    bound: 64 + 1,
  },
  {
    label:
      'delimited({ delimiter: "\\r\\n\\r\\n", maxLength: 64, oversize: "skip" })',
    make: () =>
      delimited({ delimiter: "\r\n\r\n", maxLength: 64, oversize: "skip" }),
    bound: 64 + 4,
  },
  {
    label: "lines({ maxLength: 64 })",
    make: () => lines({ maxLength: 64 }),
    bound: 64 + 1,
  },
  { label: "fixedLength(8)", make: () => fixedLength(8), bound: 8 },
  {
    label: "netstring({ maxFrameLength: 64 })",
    make: () => netstring({ maxFrameLength: 64 }),
    bound: 64 + 4,
  },
  {
    label: 'netstring({ maxFrameLength: 64, oversize: "skip" })',
    make: () => netstring({ maxFrameLength: 64, oversize: "skip" }),
    bound: 64 + 4,
  },
  { label: "raw()", make: () => raw(), bound: 0 },
  { label: "text(raw())", make: () => text(raw()), bound: 0 },
  {
    label: "text(lines({ maxLength: 64 }))",
    make: () => text(lines({ maxLength: 64 })),
    bound: 64 + 1,
  },
  {
    label: "json(lines({ maxLength: 64 }))",
    make: () => json(lines({ maxLength: 64 })),
    bound: 64 + 1,
  },
  {
    label: "json(lengthPrefixed({ maxFrameLength: 64 }))",
    make: () => json(lengthPrefixed({ maxFrameLength: 64 })),
    bound: 64 + 4,
  },
  {
    label: "json(netstring({ maxFrameLength: 64 }))",
    make: () => json(netstring({ maxFrameLength: 64 })),
    bound: 64 + 4,
  },
];

/** Garbage with a bias toward bytes that mean something to some framing. */
const garbageArb = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  bytesOver(
    [
      0x00,
      0x01,
      0x05,
      0x0a,
      0x0d,
      0x20,
      0x22,
      0x2c,
      0x30,
      0x31,
      0x39,
      0x3a,
      0x40,
      0x7b,
      0x7d,
      0x80,
      0xc3,
      0xff,
    ],
    600,
  ),
);

for (const c of GARBAGE_CASES) {
  Deno.test(`\`${c.label}\` throws only netkit errors and keeps buffered within the limit for any garbage`, () => {
    fc.assert(
      fc.property(garbageArb, cutsArb, (garbage, cuts) => {
        const codec = c.make();
        const d = new StreamDecoder(codec);
        const check = (err: unknown, where: string) => {
          if (!(err instanceof NetError)) {
            fail(`${where}: threw a non-netkit error: ${err}`);
          }
        };
        for (const chunk of cutBy(garbage, cuts)) {
          let pending = chunk;
          // After an error, the decoder keeps the unread bytes; calling
          // decode() again goes on with them. Each error consumes bytes,
          // so this ends.
          for (let rounds = 0;; rounds++) {
            if (rounds > garbage.length + 1) {
              fail(
                `decode() throws without consuming bytes (holds ${d.buffered})`,
              );
            }
            try {
              d.decode(pending, () => {});
              break;
            } catch (err) {
              check(err, "decode()");
            }
            pending = EMPTY;
          }
          assertLessOrEqual(
            d.buffered,
            c.bound,
            `after a chunk of ${chunk.length}`,
          );
        }
        try {
          d.finish(() => {});
        } catch (err) {
          check(err, "finish()");
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
}

// ---------------------------------------------------------------------------
// Web streams

Deno.test("`decodeStream()` and `encodeStream()` round-trip messages through web streams", async () => {
  const messages = [b("hello"), EMPTY, letters(60_000)];
  for (
    const codec of [
      lengthPrefixed(),
      netstring(),
      delimited({ delimiter: "\r\n\r\n" }),
    ]
  ) {
    const out = ReadableStream.from(messages)
      .pipeThrough(codec.encodeStream())
      .pipeThrough(codec.decodeStream());
    assertEquals(await Array.fromAsync(out), messages, codec.name);
  }
  const jsonCodec = json<{ id: number }>(lines());
  const values = ReadableStream.from([{ id: 1 }, { id: 2 }])
    .pipeThrough(jsonCodec.encodeStream())
    .pipeThrough(jsonCodec.decodeStream());
  assertEquals(await Array.fromAsync(values), [{ id: 1 }, { id: 2 }]);
});

Deno.test("`decodeStream()` decodes bytes cut at any point", async () => {
  const codec = text(lengthPrefixed({ lengthBytes: 2 }));
  const wire = encodeAll(codec, ["héllo", "", "wörld"]);
  for (const [how, chunks] of chunkings(wire)) {
    const out = ReadableStream.from(chunks).pipeThrough(codec.decodeStream());
    assertEquals(await Array.fromAsync(out), ["héllo", "", "wörld"], how);
  }
});

Deno.test("`encodeStream()` writes one chunk per message", async () => {
  const codec = lengthPrefixed({ lengthBytes: 1 });
  const out = ReadableStream.from([b("a"), b("bc")]).pipeThrough(
    codec.encodeStream(),
  );
  assertEquals((await Array.fromAsync(out)).map(toHex), ["01 61", "02 62 63"]);
});

Deno.test("`decodeStream()` errors the stream with FrameTooLargeError for an oversize frame", async () => {
  const codec = lengthPrefixed({ maxFrameLength: 4 });
  const out = ReadableStream.from([
    concat(hex("00 00 00 01 61"), hex("00 00 00 09"), letters(9)),
  ])
    .pipeThrough(codec.decodeStream());
  const seen: Uint8Array[] = [];
  const err = await assertRejects(async () => {
    for await (const frame of out) seen.push(frame);
  }, FrameTooLargeError);
  assertEquals([err.length, err.limit], [9, 4]);
  assertEquals(seen, [b("a")]);
});

Deno.test("`decodeStream()` errors the readable with UnexpectedEofError when the stream ends inside a frame", async () => {
  const codec = lengthPrefixed();
  const out = ReadableStream.from([hex("00 00 00 09 61 62")]).pipeThrough(
    codec.decodeStream(),
  );
  const err = await assertRejects(
    () => Array.fromAsync(out),
    UnexpectedEofError,
  );
  assertGreater(err.remaining, 0);
  const linesOut = ReadableStream.from([b("a\nbc")]).pipeThrough(
    lines().decodeStream(),
  );
  const err2 = await assertRejects(
    () => Array.fromAsync(linesOut),
    UnexpectedEofError,
  );
  assertEquals(err2.remaining, 2);
});

Deno.test("`encodeStream()` errors the stream with FrameTooLargeError for an oversize message", async () => {
  const codec = lengthPrefixed({ maxFrameLength: 4 });
  const out = ReadableStream.from([b("ok"), b("too long")]).pipeThrough(
    codec.encodeStream(),
  );
  await assertRejects(
    () => Array.fromAsync(out),
    FrameTooLargeError,
    "Cannot encode frame",
  );
});

// ---------------------------------------------------------------------------
// Borrowed frames

/**
 * Decodes with a borrowing decoder, copying each byte message after the
 * call that emitted it.
 */
function decodeBorrowed<T>(codec: Codec<T>, chunks: Uint8Array[]): T[] {
  const out: T[] = [];
  const d = new StreamDecoder(codec, { borrow: true });
  // The caller's buffer is reused for every chunk, as a connection does;
  // a frame is valid until the next call, so it is copied after its call.
  const shared = new Uint8Array(Math.max(1, ...chunks.map((c) => c.length)));
  let views: T[] = [];
  const emit = (m: T) => void views.push(m);
  const settle = () => {
    for (const m of views) {
      out.push(m instanceof Uint8Array ? m.slice() as T : m);
    }
    views = [];
  };
  for (const c of chunks) {
    shared.set(c);
    d.decode(shared.subarray(0, c.length), emit);
    settle();
    shared.fill(0xee);
  }
  d.finish(emit);
  settle();
  return out;
}

Deno.test("`StreamDecoder` with `borrow` yields the same frames as an owning decoder under any chunking", () => {
  const codecs: Codec<Uint8Array>[] = [
    lengthPrefixed(),
    lengthPrefixed({ lengthBytes: "varint" }),
    delimited({ delimiter: "\r\n" }),
    lines(),
    fixedLength(3),
    netstring(),
  ];
  for (const codec of codecs) {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }),
        fc.array(fc.nat({ max: 4096 }), { maxLength: 12 }),
        (raw, cuts) => {
          const msgs = codec.name === "fixedLength"
            ? raw.map(() => new Uint8Array([1, 2, 3]))
            : codec.name === "lines" || codec.name === "delimited"
            ? raw.map((m) => m.map((b) => b === 0x0a || b === 0x0d ? 0x20 : b))
            : raw;
          const wire = encodeAll(codec, msgs);
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))]
            .sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let prev = 0;
          for (const p of points) {
            chunks.push(wire.subarray(prev, p));
            prev = p;
          }
          chunks.push(wire.subarray(prev));
          assertEquals(decodeBorrowed(codec, chunks), msgs);
        },
      ),
      { numRuns: 100 },
    );
  }
});

Deno.test("`StreamDecoder` with `borrow` emits views of the chunk instead of copies", () => {
  const wire = encodeAll(lengthPrefixed(), [
    utf8.encode("ab"),
    utf8.encode("c"),
  ]);
  const frames: Uint8Array[] = [];
  new StreamDecoder(lengthPrefixed(), { borrow: true }).decode(
    wire,
    (f) => frames.push(f),
  );
  assertEquals(frames.length, 2);
  for (const f of frames) assertStrictEquals(f.buffer, wire.buffer);
  const owned: Uint8Array[] = [];
  new StreamDecoder(lengthPrefixed()).decode(wire, (f) => owned.push(f));
  for (const f of owned) assert(f.buffer !== wire.buffer);
});

Deno.test("the built-in framings hand every stream the same stateless encoder", () => {
  const codecs: Codec<Uint8Array>[] = [
    lengthPrefixed(),
    delimited({ delimiter: new Uint8Array([0]) }),
    lines(),
    fixedLength(4),
    netstring(),
    raw(),
  ];
  for (const codec of codecs) {
    const e = codec.encoder();
    assertStrictEquals(codec.encoder(), e, codec.name);
    // Shared, it still encodes each message on its own.
    const one = new ByteBuffer(0);
    const two = new ByteBuffer(0);
    e.encodeInto(new Uint8Array([1, 2, 3, 4]), one);
    e.encodeInto(new Uint8Array([5, 6, 7, 8]), two);
    e.encodeInto(new Uint8Array([1, 2, 3, 4]), one);
    assertEquals(
      decodeAll(codec, [one.bytes(), two.bytes()]).flatMap((m) => [...m]),
      [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8],
    );
    if (!codec.unframed) {
      assertEquals(decodeAll(codec, [one.bytes(), two.bytes()]).length, 3);
    }
  }
  // Two codecs made apart keep their own options.
  assert(lengthPrefixed().encoder() !== lengthPrefixed().encoder());
});

// ---------------------------------------------------------------------------
// Encoders check a message before they write a byte

const BYTE_CODECS: [string, Codec<Uint8Array>][] = [
  ["lengthPrefixed", lengthPrefixed()],
  ["lengthPrefixed", lengthPrefixed({ lengthBytes: "varint" })],
  ["lengthPrefixed", lengthPrefixed({ lengthOffset: 1, strip: 0 })],
  ["delimited", delimited({ delimiter: "\r\n" })],
  ["lines", lines()],
  ["fixedLength", fixedLength(4)],
  ["netstring", netstring()],
  ["raw", raw()],
];

const WRONG: [unknown, string][] = [
  [new ArrayBuffer(4), "ArrayBuffer"],
  [7, "number"],
  ["Hello", "string"],
  [null, "null"],
  [undefined, "undefined"],
  [[1, 2, 3, 4], "Array"],
  [new DataView(new ArrayBuffer(4)), "DataView"],
  [new Uint16Array(2), "Uint16Array"],
];

for (const [name, codec] of BYTE_CODECS) {
  Deno.test(`\`${name}()\` refuses a message that is not a Uint8Array with TypeError and writes nothing`, () => {
    const e = codec.encoder();
    const out = new ByteBuffer();
    // (a frame that keeps its header gets its length field written)
    const good = codec === BYTE_CODECS[2]![1]
      ? hex("51 00 00 00 02 6f 6b")
      : b("abcd");
    e.encodeInto(good, out);
    const before = out.bytes().slice();
    for (const [message, kind] of WRONG) {
      assertThrows(
        () => e.encodeInto(message as Uint8Array, out),
        TypeError,
        `Cannot encode message: ${name} takes a Uint8Array, received ${kind}`,
      );
      assertThrows(() => e.encode(message as Uint8Array), TypeError, kind);
      assertEquals(out.bytes(), before, kind);
    }
    // The encoder is still usable, and what it wrote decodes.
    e.encodeInto(good, out);
    const frames = decodeAll(codec, [out.bytes()]);
    if (codec.unframed) {
      assertEquals(frames, [concat(good, good)]);
    } else {
      assertEquals(frames, [good, good]);
    }
  });
}

Deno.test("`text()` and `json()` refuse what they cannot encode with TypeError and write nothing", () => {
  const out = new ByteBuffer();
  out.append(b("x"));
  for (const codec of [text(lines()), text(raw()), text(lengthPrefixed())]) {
    for (const [message, kind] of [[7, "number"], [b("a"), "Uint8Array"]]) {
      assertThrows(
        () => codec.encoder().encodeInto(message as unknown as string, out),
        TypeError,
        `Cannot encode message: ${codec.name} takes a string, received ${kind}`,
      );
    }
  }
  const j = json(lines());
  for (const message of [undefined, () => 1, { big: 1n }]) {
    assertThrows(() => j.encoder().encodeInto(message, out), TypeError);
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assertThrows(() => j.encoder().encodeInto(cyclic, out), TypeError);
  assertEquals(out.bytes(), b("x"));
});

Deno.test("an encoder that refuses a message for its size or content writes nothing", () => {
  const cases: [Codec<Uint8Array>, Uint8Array][] = [
    [lengthPrefixed({ maxFrameLength: 3 }), b("abcd")],
    [lengthPrefixed({ lengthBytes: "varint", maxFrameLength: 3 }), b("abcd")],
    [lengthPrefixed({ lengthAdjustment: 2 }), b("a")],
    [delimited({ delimiter: "\r\n" }), b("a\r\nb")],
    [delimited({ delimiter: "aba" }), b("ab")],
    [delimited({ delimiter: "\0", maxLength: 2 }), b("abc")],
    [lines(), b("a\nb")],
    [lines(), b("a\r")],
    [lines({ crlf: true, maxLength: 3 }), b("abc")],
    [fixedLength(2), b("abc")],
    [netstring({ maxFrameLength: 2 }), b("abc")],
  ];
  for (const [codec, message] of cases) {
    const out = new ByteBuffer();
    out.append(b("kept"));
    assertThrows(() => codec.encoder().encodeInto(message, out));
    assertEquals(out.bytes(), b("kept"), `${codec.name} ${toHex(message)}`);
  }
});

Deno.test("`StreamDecoder` fed Node `Buffer` chunks gives frames that own their bytes", () => {
  // A Buffer's slice() is a view of its memory: copying a frame out of a
  // lent Buffer chunk with it would leave the frame sharing the chunk.
  const frames = [b("hello"), b("world"), new Uint8Array(5000).fill(3)];
  for (
    const codec of [lengthPrefixed(), delimited({ delimiter: "|" }), raw()]
  ) {
    const wire = codec.name === "delimited"
      ? b("hello|world|")
      : encodeAll(codec, frames);
    const chunk = Buffer.from(wire);
    const d = new StreamDecoder(codec);
    const out: Uint8Array[] = [];
    d.decode(chunk, (m) => void out.push(m));
    const before = out.map(toHex);
    chunk.fill(0); // the caller reuses its chunk
    assertEquals(out.map(toHex), before, codec.name);
    assert(out.length > 0);
  }
  // The encoders that return a copy return one.
  for (const codec of [raw(), fixedLength(3)]) {
    const message = Buffer.from([1, 2, 3]);
    const encoded = codec.encoder().encode(message);
    message.fill(0);
    assertEquals(encoded, new Uint8Array([1, 2, 3]), codec.name);
  }
});
