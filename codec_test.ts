// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertGreater,
  assertInstanceOf,
  assertLess,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
  fail,
} from "@std/assert";
import fc from "fast-check";
import { concat as concatBytes } from "./_bytes.ts";
import {
  ByteBuffer,
  type Codec,
  createCodec,
  decodeAll,
  type DecodeInput,
  delimited,
  encodeAll,
  fixedLength,
  json,
  lengthPrefixed,
  type LengthPrefixedOptions,
  lines,
  mapCodec,
  NEED_MORE,
  netstring,
  nextFrame,
  type OversizePolicy,
  raw,
  ReadBuffer,
  StreamDecoder,
  text,
} from "./codec.ts";
import {
  DecodeError,
  FrameTooLargeError,
  NetError,
  UnexpectedEofError,
} from "./errors.ts";

// ---------------------------------------------------------------------------
// Helpers

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);
const NUM_RUNS = 200;

/** UTF-8 bytes of a string. */
function b(s: string): Uint8Array {
  return utf8.encode(s);
}

/** Bytes from hex pairs separated by spaces: `"00 0a ff"`. */
function hex(s: string): Uint8Array {
  const parts = s.trim().split(/\s+/).filter((p) => p.length > 0);
  return Uint8Array.from(parts, (p) => {
    assert(/^[0-9a-f]{2}$/i.test(p), `bad hex byte ${p}`);
    return parseInt(p, 16);
  });
}

/** Hex pairs separated by spaces, for readable failure messages. */
function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** `n` bytes of lower-case letters, starting at letter `seed`. */
function letters(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = 0x61 + (seed + k) % 26;
  return out;
}

/** Cuts `bytes` at the given points (sorted copies; repeats give empty chunks). */
function cutAt(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const sorted = [...points].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of sorted) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  out.push(bytes.slice(prev));
  return out;
}

/** Chunks of `size` bytes (the last may be shorter). */
function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < bytes.length; k += size) {
    out.push(bytes.slice(k, k + size));
  }
  return out;
}

/** Named ways to cut `bytes`: whole, every single split point, bytewise, by 3. */
function* chunkings(
  bytes: Uint8Array,
): Generator<[string, Uint8Array[]]> {
  yield ["one chunk", [bytes.slice()]];
  for (let p = 0; p <= bytes.length; p++) {
    yield [`split at ${p}`, cutAt(bytes, [p])];
  }
  yield ["one byte at a time", chunksOf(bytes, 1)];
  yield ["3-byte chunks", chunksOf(bytes, 3)];
  yield ["with empty chunks", [EMPTY, ...chunksOf(bytes, 2), EMPTY]];
}

interface Collected<T> {
  frames: T[];
  errors: unknown[];
  decoder: StreamDecoder<T>;
}

/**
 * Feeds chunks to a new decoder, recording every frame and every error
 * (after an error it goes on with the next chunk), then finishes.
 */
function collect<T>(
  codec: Pick<Codec<T, unknown>, "decoder">,
  chunks: Iterable<Uint8Array>,
): Collected<T> {
  const decoder = new StreamDecoder(codec);
  const frames: T[] = [];
  const errors: unknown[] = [];
  const emit = (frame: T) => void frames.push(frame);
  for (const chunk of chunks) {
    try {
      decoder.decode(chunk, emit);
    } catch (err) {
      errors.push(err);
    }
  }
  try {
    decoder.finish(emit);
  } catch (err) {
    errors.push(err);
  }
  return { frames, errors, decoder };
}

/** Whether the encoder accepts `message` (a `TypeError` means it refuses). */
function accepts<T>(codec: Codec<unknown, T>, message: T): boolean {
  try {
    codec.encoder().encode(message);
    return true;
  } catch (err) {
    if (err instanceof TypeError) return false;
    throw err;
  }
}

/** Arbitrary cut points; mapped into range by {@linkcode cutBy}. */
const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

function cutBy(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  return cutAt(bytes, cuts.map((c) => c % (bytes.length + 1)));
}

/** Byte arrays over a small alphabet, so delimiters and CRs turn up often. */
function bytesOver(
  alphabet: readonly number[],
  maxLength = 40,
): fc.Arbitrary<Uint8Array> {
  return fc.array(fc.constantFrom(...alphabet), { maxLength })
    .map((xs) => Uint8Array.from(xs));
}

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
// Delimiters

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

// ---------------------------------------------------------------------------
// Length-prefixed specifics

Deno.test("`lengthPrefixed()` decodes a chunk that is only a header, and empty frames", () => {
  assertEquals(
    decodeAll(lengthPrefixed(), [
      hex("00 00 00 03"),
      b("abc"),
      hex("00 00 00 00"),
      hex("00 00 00 00 00 00 00 00"),
    ]),
    [b("abc"), EMPTY, EMPTY, EMPTY],
  );
});

Deno.test('`lengthPrefixed({ lengthBytes: "varint" })` writes and reads varints of 1 to 3 bytes', () => {
  const codec = lengthPrefixed({ lengthBytes: "varint" });
  const table: [number, string][] = [
    [0, "00"],
    [1, "01"],
    [127, "7f"],
    [128, "80 01"],
    [300, "ac 02"],
    [16383, "ff 7f"],
    [16384, "80 80 01"],
  ];
  for (const [n, head] of table) {
    const message = letters(n);
    const wire = codec.encoder().encode(message);
    const headBytes = hex(head);
    assertEquals(toHex(wire.subarray(0, headBytes.length)), head, `${n} bytes`);
    assertEquals(wire.length, headBytes.length + n, `${n} bytes`);
    for (
      const [how, chunks] of [
        ["one chunk", [wire]],
        ["bytewise header", [
          ...chunksOf(wire.subarray(0, 4), 1),
          wire.subarray(4),
        ]],
      ] as const
    ) {
      assertEquals(decodeAll(codec, chunks), [message], `${n} bytes, ${how}`);
    }
  }
});

Deno.test('`lengthPrefixed({ lengthBytes: "varint" })` accepts a varint with redundant continuation bytes', () => {
  // 05 written in two bytes: 85 00.
  assertEquals(
    decodeAll(lengthPrefixed({ lengthBytes: "varint" }), [
      hex("85 00 68 65 6c 6c 6f"),
    ]),
    [b("hello")],
  );
});

Deno.test("`lengthPrefixed()` reads 1-, 2-, 4- and 8-byte fields in both byte orders", () => {
  const table: [LengthPrefixedOptions, string][] = [
    [{ lengthBytes: 1 }, "05"],
    [{ lengthBytes: 2 }, "00 05"],
    [{ lengthBytes: 2, littleEndian: true }, "05 00"],
    [{ lengthBytes: 4 }, "00 00 00 05"],
    [{ lengthBytes: 4, littleEndian: true }, "05 00 00 00"],
    [{ lengthBytes: 8 }, "00 00 00 00 00 00 00 05"],
    [{ lengthBytes: 8, littleEndian: true }, "05 00 00 00 00 00 00 00"],
  ];
  for (const [options, head] of table) {
    const codec = lengthPrefixed(options);
    const wire = concat(hex(head), b("hello"));
    assertEquals(
      toHex(codec.encoder().encode(b("hello"))),
      toHex(wire),
      JSON.stringify(options),
    );
    assertEquals(
      decodeAll(codec, [wire]),
      [b("hello")],
      JSON.stringify(options),
    );
  }
});

Deno.test("`lengthPrefixed()` reads a length field wider than 16 bits in both byte orders", () => {
  const n = 0x01_02_03; // 66051 bytes
  const message = letters(n);
  const table: [LengthPrefixedOptions, string][] = [
    [{ lengthBytes: 4 }, "00 01 02 03"],
    [{ lengthBytes: 4, littleEndian: true }, "03 02 01 00"],
    [{ lengthBytes: 8 }, "00 00 00 00 00 01 02 03"],
    [{ lengthBytes: 8, littleEndian: true }, "03 02 01 00 00 00 00 00"],
  ];
  for (const [options, head] of table) {
    const codec = lengthPrefixed(options);
    const wire = codec.encoder().encode(message);
    assertEquals(toHex(wire.subarray(0, hex(head).length)), head);
    assertEquals(decodeAll(codec, chunksOf(wire, 4096)), [message]);
  }
});

Deno.test("`lengthPrefixed({ lengthBytes: 8 })` reports a length past 32 bits exactly", () => {
  // 2^32 + 5, in both byte orders.
  const be = assertThrows(
    () =>
      decodeAll(lengthPrefixed({ lengthBytes: 8 }), [
        hex("00 00 00 01 00 00 00 05"),
      ]),
    FrameTooLargeError,
  );
  assertEquals(be.length, 2 ** 32 + 5);
  const le = assertThrows(
    () =>
      decodeAll(lengthPrefixed({ lengthBytes: 8, littleEndian: true }), [
        hex("05 00 00 00 01 00 00 00"),
      ]),
    FrameTooLargeError,
  );
  assertEquals(le.length, 2 ** 32 + 5);
});

Deno.test("`lengthPrefixed({ lengthOffset, prefix })` writes the prefix and skips it on decode", () => {
  const codec = lengthPrefixed({ lengthOffset: 2, prefix: PREFIX });
  const wire = codec.encoder().encode(b("hello"));
  assertEquals(toHex(wire), "ca fe 00 00 00 05 68 65 6c 6c 6f");
  // The decoder skips whatever the offset bytes hold.
  assertEquals(
    decodeAll(codec, [hex("00 00 00 00 00 05 68 65 6c 6c 6f")]),
    [b("hello")],
  );
  // Without a prefix, the offset is written as zeros.
  assertEquals(
    toHex(lengthPrefixed({ lengthOffset: 1 }).encoder().encode(b("a"))),
    "00 00 00 00 01 61",
  );
});

Deno.test("`lengthPrefixed({ lengthAdjustment })` adds the adjustment to the field", () => {
  const plus = lengthPrefixed({ lengthAdjustment: 2 });
  assertEquals(
    toHex(plus.encoder().encode(b("hello"))),
    "00 00 00 03 68 65 6c 6c 6f",
  );
  assertEquals(decodeAll(plus, [hex("00 00 00 03 68 65 6c 6c 6f")]), [
    b("hello"),
  ]);
  // A message shorter than the adjustment cannot be written.
  assertThrows(() => plus.encoder().encode(b("a")), RangeError);
  const minus = lengthPrefixed({ lengthAdjustment: -2 });
  assertEquals(
    toHex(minus.encoder().encode(b("hello"))),
    "00 00 00 07 68 65 6c 6c 6f",
  );
});

Deno.test("`lengthPrefixed({ lengthIncludesHeader: true })` counts the header in the field", () => {
  const codec = lengthPrefixed({ lengthIncludesHeader: true });
  assertEquals(
    toHex(codec.encoder().encode(b("hello"))),
    "00 00 00 09 68 65 6c 6c 6f",
  );
  const withOffset = lengthPrefixed({
    lengthIncludesHeader: true,
    lengthBytes: 2,
    lengthOffset: 1,
    prefix: hex("ab"),
  });
  assertEquals(
    toHex(withOffset.encoder().encode(b("hi"))),
    "ab 00 05 68 69",
  );
  assertEquals(decodeAll(withOffset, [hex("ab 00 05 68 69")]), [b("hi")]);
});

Deno.test("`lengthPrefixed({ lengthIncludesHeader: true })` throws DecodeError for a field shorter than the header, then resumes", () => {
  const codec = lengthPrefixed({ lengthIncludesHeader: true });
  const d = new StreamDecoder(codec);
  const frames: Uint8Array[] = [];
  const emit = (m: Uint8Array) => void frames.push(m);
  const wire = concat(
    hex("00 00 00 05 61"),
    hex("00 00 00 02"),
    hex("00 00 00 06 6f 6b"),
  );
  const err = assertThrows(() => d.decode(wire, emit), DecodeError, "negative");
  assertEquals(err.offset, 9);
  assert(err instanceof NetError);
  assertEquals(frames, [b("a")]);
  d.decode(EMPTY, emit);
  d.finish(emit);
  assertEquals(frames, [b("a"), b("ok")]);
});

Deno.test("`lengthPrefixed()` decodes a frame larger than 64 KiB across many chunks", () => {
  const codec = lengthPrefixed();
  const message = letters(65_536 * 5 + 17);
  const wire = codec.encoder().encode(message);
  for (const size of [1000, 65_536, 100_003]) {
    assertEquals(decodeAll(codec, chunksOf(wire, size)), [message], `${size}`);
  }
});

// ---------------------------------------------------------------------------
// Never allocating the claimed length early

Deno.test("`lengthPrefixed()` does not allocate a claimed length before its bytes arrive", () => {
  const header = hex("00 7f ff ff"); // 8 MiB − 1
  const d = new StreamDecoder(lengthPrefixed());
  d.decode(concat(header, letters(10)), () => fail("no frame expected"));
  // The header stays unread until the frame is whole.
  assertEquals(d.buffered, 14);

  // Thirty-two such decoders would hold 256 MiB if each allocated the
  // claimed length; they may hold 64 KiB each.
  const keep: StreamDecoder<Uint8Array>[] = [];
  const before = Deno.memoryUsage().external;
  for (let k = 0; k < 32; k++) {
    const dk = new StreamDecoder(lengthPrefixed());
    dk.decode(concat(header, letters(10)), () => fail("no frame expected"));
    keep.push(dk);
  }
  const grown = Deno.memoryUsage().external - before;
  assertLess(grown, 32 * 1024 * 1024, `grew by ${grown} bytes`);
  assertEquals(keep.length, 32);
});

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
  assertLessOrEqual(buf.capacity, 2 * 65_536);
  assertGreater(space.length, 65_000);
  // As the bytes come, the buffer grows with them, to the frame's size.
  let sent = 10;
  while (sent < 0x7f_ffff) {
    const room = buf.space();
    const n = Math.min(room.length, 0x7f_ffff - sent);
    room.fill(0x61, 0, n);
    buf.commit(n);
    sent += n;
    assertLessOrEqual(buf.capacity, Math.max(2 * (buf.length + 1), 2 * 65_536));
    if (sent < 0x7f_ffff) assertEquals(nextFrame(d, buf, false), NEED_MORE);
  }
  const frame = nextFrame(d, buf, false);
  assert(frame instanceof Uint8Array);
  assertEquals(frame.length, 0x7f_ffff);
});

Deno.test("`lengthPrefixed()` throws FrameTooLargeError for a 0xFFFFFFFF length as soon as the header arrives", () => {
  const d = new StreamDecoder(lengthPrefixed());
  const err = assertThrows(
    () => d.decode(hex("ff ff ff ff"), () => fail("no frame expected")),
    FrameTooLargeError,
  );
  assertEquals(err.length, 4294967295);
  assertEquals(err.limit, 8388608);
  assertEquals(d.buffered, 0);
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

// ---------------------------------------------------------------------------
// Netstring specifics

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

// ---------------------------------------------------------------------------
// Text and JSON

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

// ---------------------------------------------------------------------------
// mapCodec, createCodec, raw, ByteBuffer

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

Deno.test("`createCodec()` builds a frozen codec with working streams", async () => {
  const bytesCodec = createCodec<number, number>({
    name: "bytes",
    decoder: () => ({
      decode(input: DecodeInput) {
        if (input.length === 0) return input.needMore(1);
        const x = input.at(0)!;
        input.skip(1);
        return x;
      },
    }),
    encoder: () => ({
      encodeInto(n: number, out: ByteBuffer) {
        out.append(new Uint8Array([n]));
      },
      encode(n: number) {
        return new Uint8Array([n]);
      },
    }),
  });
  assert(Object.isFrozen(bytesCodec));
  assertEquals(bytesCodec.unframed, false);
  const out = ReadableStream.from([1, 2, 3])
    .pipeThrough(bytesCodec.encodeStream())
    .pipeThrough(bytesCodec.decodeStream());
  assertEquals(await Array.fromAsync(out), [1, 2, 3]);
});

Deno.test("`raw()` emits each non-empty chunk as a copy", () => {
  const chunk = b("abc");
  const frames = decodeAll(raw(), [chunk, EMPTY, b("d")]);
  assertEquals(frames, [b("abc"), b("d")]);
  chunk.fill(0xee);
  assertEquals(frames[0], b("abc"));
  const message = b("xyz");
  const wire = raw().encoder().encode(message);
  message.fill(0);
  assertEquals(wire, b("xyz"));
  assert(raw().unframed);
  assertStrictEquals(raw(), raw());
});

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

// ---------------------------------------------------------------------------
// Build-time validation

Deno.test("`lengthPrefixed()` rejects a limit its length field cannot express", () => {
  const table: [LengthPrefixedOptions, string][] = [
    [{ lengthBytes: 1, maxFrameLength: 256 }, "does not fit"],
    [{ lengthBytes: 2, maxFrameLength: 65536 }, "does not fit"],
    [
      { lengthBytes: 1, lengthIncludesHeader: true, maxFrameLength: 255 },
      "does not fit",
    ],
    [{ lengthBytes: 1, lengthAdjustment: -300 }, "does not fit"],
    [{ lengthAdjustment: 10, maxFrameLength: 5 }, "smallest payload"],
  ];
  for (const [options, text] of table) {
    assertThrows(
      () => lengthPrefixed(options),
      RangeError,
      text,
      JSON.stringify(options),
    );
  }
});

Deno.test("`lengthPrefixed()` defaults the limit to the largest value a short field can express", () => {
  const table: [LengthPrefixedOptions, number][] = [
    [{ lengthBytes: 1 }, 255],
    [{ lengthBytes: 1, lengthIncludesHeader: true }, 254],
    [{ lengthBytes: 2 }, 65535],
    [{ lengthBytes: 4 }, 8388608],
    [{ lengthBytes: "varint" }, 8388608],
  ];
  for (const [options, limit] of table) {
    const codec = lengthPrefixed(options);
    const atLimit = letters(limit);
    assertEquals(
      decodeAll(codec, [codec.encoder().encode(atLimit)]).map((m) => m.length),
      [limit],
      JSON.stringify(options),
    );
    const err = assertThrows(
      () => codec.encoder().encode(new Uint8Array(limit + 1)),
      FrameTooLargeError,
    );
    assertEquals(err.limit, limit, JSON.stringify(options));
  }
  // The 1-byte field's largest value decodes.
  assertEquals(
    decodeAll(lengthPrefixed({ lengthBytes: 1 }), [
      concat(hex("ff"), letters(255)),
    ]),
    [letters(255)],
  );
});

Deno.test("`lengthPrefixed()` rejects invalid options", () => {
  const bad: [unknown, typeof TypeError | typeof RangeError][] = [
    [{ lengthBytes: 5 }, TypeError],
    [{ lengthBytes: "4" }, TypeError],
    [{ strip: -1 }, RangeError],
    [{ strip: 5 }, RangeError],
    [{ lengthOffset: 2, strip: 3 }, RangeError],
    [{ lengthBytes: "varint", lengthOffset: 1, strip: 2 }, RangeError],
    [{ maxFrameLength: -1 }, RangeError],
    [{ maxFrameLength: 1.5 }, RangeError],
    [{ maxFrameLength: NaN }, RangeError],
    [{ lengthOffset: -1 }, RangeError],
    [{ lengthOffset: 0.5 }, RangeError],
    [{ lengthOffset: 2, prefix: new Uint8Array(1) }, RangeError],
    [{ prefix: new Uint8Array(1) }, RangeError],
    [{ lengthAdjustment: 0.5 }, RangeError],
    [{ lengthBytes: "varint", lengthIncludesHeader: true }, TypeError],
    [{ oversize: "drop" }, TypeError],
  ];
  for (const [options, ErrorClass] of bad) {
    assertThrows(
      () => lengthPrefixed(options as LengthPrefixedOptions),
      ErrorClass,
      "Cannot build lengthPrefixed codec",
      JSON.stringify(options),
    );
  }
});

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

Deno.test("`fixedLength()` refuses to encode a message of another length", () => {
  assertThrows(() => fixedLength(3).encoder().encode(b("ab")), RangeError);
  assertThrows(() => fixedLength(3).encoder().encode(b("abcd")), RangeError);
  assertEquals(fixedLength(3).encoder().encode(b("abc")), b("abc"));
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
      assertEquals(decodeAllBorrowed(codec, cutBy(wire, cuts)), accepted);
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

/** Decodes with a borrowing decoder, copying each frame as it is emitted. */
function decodeBorrowed(
  codec: Codec<Uint8Array>,
  chunks: Uint8Array[],
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const d = new StreamDecoder(codec, { borrow: true });
  // The caller's buffer is reused for every chunk, as a connection does;
  // a frame is valid until the next call, so it is copied after its call.
  const shared = new Uint8Array(Math.max(1, ...chunks.map((c) => c.length)));
  let views: Uint8Array[] = [];
  const emit = (f: Uint8Array) => void views.push(f);
  const settle = () => {
    for (const v of views) out.push(v.slice());
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

/** Decodes with `borrow`, copying byte messages after each call. */
function decodeAllBorrowed<T>(codec: Codec<T>, chunks: Uint8Array[]): T[] {
  const out: T[] = [];
  let from = 0;
  const d = new StreamDecoder(codec, { borrow: true });
  const emit = (m: T) => void out.push(m);
  const settle = () => {
    for (; from < out.length; from++) {
      const m = out[from];
      if (m instanceof Uint8Array) out[from] = m.slice() as T;
    }
  };
  for (const c of chunks) {
    d.decode(c, emit);
    settle();
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
