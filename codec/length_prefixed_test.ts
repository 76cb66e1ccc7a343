// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertLess,
  assertThrows,
  fail,
} from "@std/assert";
import fc from "fast-check";
import { ByteBuffer } from "./byte_buffer.ts";
import { type Codec, decodeAll, encodeAll, StreamDecoder } from "./decoder.ts";
import {
  lengthPrefixed,
  type LengthPrefixedOptions,
} from "./length_prefixed.ts";
import { FrameTooLargeError } from "../errors.ts";
import {
  b,
  chunksOf,
  concat,
  cutAt,
  EMPTY,
  hex,
  letters,
  toHex,
} from "./_test_helpers.ts";
import { DecodeError, NetError } from "../errors.ts";

const HELLO = b("HELLO, WORLD");
const PREFIX = hex("ca fe");

/** Every way to cut `bytes` in two, and byte by byte. */
function* cuts(bytes: Uint8Array): Generator<Uint8Array[]> {
  yield [bytes];
  for (let p = 0; p <= bytes.length; p++) yield cutAt(bytes, [p]);
  yield Array.from(bytes, (x) => new Uint8Array([x]));
}

/**
 * Decodes `chunks` with a borrowing stream decoder, copying each frame
 * after the call that emitted it (frames are valid until the next call).
 */
function decodeBorrowed(
  codec: Codec<Uint8Array>,
  chunks: Iterable<Uint8Array>,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  const settle = () => {
    for (; from < out.length; from++) out[from] = out[from]!.slice();
  };
  const d = new StreamDecoder(codec, { borrow: true });
  for (const c of chunks) {
    d.decode(c, (f) => void out.push(f));
    settle();
  }
  d.finish((f) => void out.push(f));
  settle();
  return out;
}

// ---------------------------------------------------------------------------
// Netty's LengthFieldBasedFrameDecoder javadoc, all seven examples

interface NettyCase {
  title: string;
  options: LengthPrefixedOptions;
  /** BEFORE DECODE */
  wire: Uint8Array;
  /** AFTER DECODE */
  frame: Uint8Array;
}

const NETTY: NettyCase[] = [
  {
    title: "2 bytes length field at offset 0, do not strip header",
    options: { lengthBytes: 2, strip: 0 },
    wire: concat(hex("00 0c"), HELLO),
    frame: concat(hex("00 0c"), HELLO),
  },
  {
    title: "2 bytes length field at offset 0, strip header",
    options: { lengthBytes: 2, strip: 2 },
    wire: concat(hex("00 0c"), HELLO),
    frame: HELLO,
  },
  {
    title:
      "2 bytes length field at offset 0, do not strip header, the length field represents the length of the whole message",
    options: { lengthBytes: 2, lengthAdjustment: -2, strip: 0 },
    wire: concat(hex("00 0e"), HELLO),
    frame: concat(hex("00 0e"), HELLO),
  },
  {
    title:
      "3 bytes length field at the end of 5 bytes header, do not strip header",
    options: {
      lengthOffset: 2,
      lengthBytes: 3,
      strip: 0,
    },
    wire: concat(hex("ca fe 00 00 0c"), HELLO),
    frame: concat(hex("ca fe 00 00 0c"), HELLO),
  },
  {
    title:
      "3 bytes length field at the beginning of 5 bytes header, do not strip header",
    options: { lengthBytes: 3, lengthAdjustment: 2, strip: 0 },
    wire: concat(hex("00 00 0c ca fe"), HELLO),
    frame: concat(hex("00 00 0c ca fe"), HELLO),
  },
  {
    title:
      "2 bytes length field at offset 1 in the middle of 4 bytes header, strip the first header field and the length field",
    options: {
      lengthOffset: 1,
      prefix: hex("ca"),
      lengthBytes: 2,
      lengthAdjustment: 1,
      strip: 3,
    },
    wire: concat(hex("ca 00 0c fe"), HELLO),
    frame: concat(hex("fe"), HELLO),
  },
  {
    title:
      "2 bytes length field at offset 1 in the middle of 4 bytes header, strip the first header field and the length field, the length field represents the length of the whole message",
    options: {
      lengthOffset: 1,
      prefix: hex("ca"),
      lengthBytes: 2,
      lengthAdjustment: -3,
      strip: 3,
    },
    wire: concat(hex("ca 00 10 fe"), HELLO),
    frame: concat(hex("fe"), HELLO),
  },
];

for (const [i, c] of NETTY.entries()) {
  Deno.test(
    `\`lengthPrefixed()\` decodes and encodes Netty's example ${
      i + 1
    } byte for byte: ${c.title}`,
    () => {
      const codec = lengthPrefixed(c.options);
      assertEquals(c.wire.length, [14, 14, 14, 17, 17, 16, 16][i]);
      // Three frames back to back, in every chunking.
      const wire = concat(c.wire, c.wire, c.wire);
      for (const chunks of cuts(wire)) {
        assertEquals(decodeAll(codec, chunks), [c.frame, c.frame, c.frame]);
        assertEquals(decodeBorrowed(codec, chunks), [
          c.frame,
          c.frame,
          c.frame,
        ]);
      }
      assertEquals(toHex(codec.encoder().encode(c.frame)), toHex(c.wire));
      assertEquals(
        encodeAll(codec, [c.frame, c.frame]),
        concat(c.wire, c.wire),
      );
    },
  );
}

Deno.test("`lengthPrefixed({ strip: 0 })` writes the length field over what the frame holds there", () => {
  const codec = lengthPrefixed({ lengthBytes: 2, strip: 0 });
  // The message's field says 0xffff; the encoder writes 12.
  const wire = codec.encoder().encode(concat(hex("ff ff"), HELLO));
  assertEquals(wire, concat(hex("00 0c"), HELLO));
});

Deno.test("`lengthPrefixed({ strip })` refuses a message shorter than the header it keeps, before writing", () => {
  const codec = lengthPrefixed({ lengthOffset: 1, strip: 0 });
  const out = new ByteBuffer();
  out.append(hex("01 02"));
  assertThrows(
    () => codec.encoder().encodeInto(hex("51 00 00"), out),
    TypeError,
    "Cannot encode message: lengthPrefixed frames keep 5 header bytes, received 3 bytes",
  );
  assertEquals(out.bytes(), hex("01 02"));
  const mqtt = lengthPrefixed({
    lengthOffset: 1,
    lengthBytes: "varint",
    strip: 0,
  });
  assertThrows(
    () => mqtt.encoder().encodeInto(hex("30 80 80"), out),
    TypeError,
    "holds none there",
  );
  assertEquals(out.bytes(), hex("01 02"));
});

// ---------------------------------------------------------------------------
// PostgreSQL: a type byte, then an int32 length that counts itself

const pg = () =>
  lengthPrefixed({ lengthOffset: 1, lengthAdjustment: -4, strip: 0 });

/** A PostgreSQL message: type, length counting itself, body. */
function pgMessage(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, 4 + body.length);
  out.set(body, 5);
  return out;
}

Deno.test("`lengthPrefixed()` frames PostgreSQL messages with their type byte", () => {
  const codec = pg();
  // Query "SELECT 1", then the backend's AuthenticationOk and ReadyForQuery.
  const query = concat(hex("51 00 00 00 0d"), b("SELECT 1\0"));
  const authOk = hex("52 00 00 00 08 00 00 00 00");
  const ready = hex("5a 00 00 00 05 49");
  const wire = concat(query, authOk, ready);
  for (const chunks of cuts(wire)) {
    const frames = decodeAll(codec, chunks);
    assertEquals(frames, [query, authOk, ready]);
    assertEquals(frames.map((f) => String.fromCharCode(f[0]!)), [
      "Q",
      "R",
      "Z",
    ]);
  }
  assertEquals(encodeAll(codec, [query, authOk, ready]), wire);
  // The encoder writes the length: a placeholder field is fine.
  assertEquals(
    codec.encoder().encode(concat(hex("5a 00 00 00 00 49"))),
    ready,
  );
});

Deno.test("`lengthPrefixed()` round-trips PostgreSQL messages and their type byte for any messages and chunking", () => {
  const codec = pg();
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(fc.integer({ min: 0x41, max: 0x7a }), fc.uint8Array()),
        { maxLength: 8 },
      ),
      fc.array(fc.nat(), { maxLength: 8 }),
      (parts, points) => {
        const messages = parts.map(([t, body]) => pgMessage(t, body));
        const wire = encodeAll(codec, messages);
        assertEquals(wire, concat(...messages));
        const chunks = cutAt(wire, points.map((p) => p % (wire.length + 1)));
        assertEquals(decodeAll(codec, chunks), messages);
        assertEquals(decodeBorrowed(codec, chunks), messages);
      },
    ),
    { numRuns: 200 },
  );
});

// ---------------------------------------------------------------------------
// MQTT: a type byte, then the remaining length as a varint

const mqtt = () =>
  lengthPrefixed({ lengthOffset: 1, lengthBytes: "varint", strip: 0 });

/** An MQTT packet: fixed header byte, remaining length, the rest. */
function mqttPacket(type: number, rest: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = rest.length;
  do {
    len.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return concat(new Uint8Array([type, ...len]), rest);
}

Deno.test("`lengthPrefixed()` frames MQTT packets with their fixed header", () => {
  const codec = mqtt();
  const pingreq = hex("c0 00");
  const connack = hex("20 02 00 00");
  const publish = concat(hex("30 ac 02"), new Uint8Array(300).fill(0x61));
  const wire = concat(pingreq, connack, publish);
  for (const chunks of cuts(wire)) {
    const frames = decodeAll(codec, chunks);
    assertEquals(frames, [pingreq, connack, publish]);
    assertEquals(frames.map((f) => f[0]! >> 4), [12, 2, 3]);
  }
  assertEquals(encodeAll(codec, [pingreq, connack, publish]), wire);
  // The encoder writes the remaining length, at the width it needs.
  assertEquals(
    codec.encoder().encode(concat(hex("30 80 80 80 00"), b("ab"))),
    concat(hex("30 02"), b("ab")),
  );
});

Deno.test("`lengthPrefixed()` round-trips MQTT packets and their type byte for any packets and chunking", () => {
  const codec = mqtt();
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 255 }),
          fc.oneof(
            fc.uint8Array({ maxLength: 20 }),
            fc.integer({ min: 120, max: 20000 }).map((n) =>
              new Uint8Array(n).fill(n & 0xff)
            ),
          ),
        ),
        { maxLength: 6 },
      ),
      fc.array(fc.nat(), { maxLength: 8 }),
      (parts, points) => {
        const packets = parts.map(([t, rest]) => mqttPacket(t, rest));
        const wire = encodeAll(codec, packets);
        assertEquals(wire, concat(...packets));
        const chunks = cutAt(wire, points.map((p) => p % (wire.length + 1)));
        assertEquals(decodeAll(codec, chunks), packets);
        assertEquals(decodeBorrowed(codec, chunks), packets);
      },
    ),
    { numRuns: 100 },
  );
});

// ---------------------------------------------------------------------------
// Any layout that keeps its header: decode(encode(m)) = m

const KEEP_CONFIGS: LengthPrefixedOptions[] = [
  { strip: 0 },
  { lengthBytes: 3, strip: 0 },
  { lengthBytes: 3, littleEndian: true },
  { lengthBytes: 1, lengthOffset: 2, prefix: hex("ab cd"), strip: 1 },
  { lengthBytes: 2, lengthOffset: 2, prefix: hex("ab cd"), strip: 2 },
  { lengthBytes: 8, littleEndian: true, strip: 0 },
  { lengthBytes: "varint", strip: 0 },
  { lengthBytes: "varint", lengthOffset: 3, strip: 1, prefix: hex("01 02 03") },
  { lengthBytes: 2, lengthIncludesHeader: true, lengthOffset: 1, strip: 0 },
];

for (const options of KEEP_CONFIGS) {
  const label = JSON.stringify(
    options,
    (_k, v) => v instanceof Uint8Array ? toHex(v) : v,
  );
  Deno.test(`\`lengthPrefixed(${label})\` decodes what it encodes for any frames and chunking`, () => {
    const codec = lengthPrefixed(options);
    const e = codec.encoder();
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 12, maxLength: 240 }), {
          maxLength: 8,
        }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (all, points) => {
          // Bytes where a varint field would be must hold one (a message
          // without one is refused with TypeError).
          const raws = all.filter((m) => {
            try {
              e.encode(m);
              return true;
            } catch (err) {
              if (err instanceof TypeError) return false;
              throw err;
            }
          });
          // A frame as the decoder yields it: a raw message with its length
          // field made right by one round trip.
          const frames = raws.map((m) => decodeAll(codec, [e.encode(m)])[0]!);
          for (const [k, f] of frames.entries()) {
            assertEquals(e.encode(f), e.encode(raws[k]!));
          }
          const wire = encodeAll(codec, frames);
          const chunks = cutAt(
            wire,
            points.map((p) => p % (wire.length + 1)),
          );
          assertEquals(decodeAll(codec, chunks), frames);
          assertEquals(decodeBorrowed(codec, chunks), frames);
        },
      ),
      { numRuns: 100 },
    );
  });
}

Deno.test("`lengthPrefixed({ lengthBytes: 3 })` writes and reads a 3-byte field in both byte orders", () => {
  const big = letters(70000);
  const be = lengthPrefixed({ lengthBytes: 3 });
  const le = lengthPrefixed({ lengthBytes: 3, littleEndian: true });
  assertEquals(be.encoder().encode(big).subarray(0, 3), hex("01 11 70"));
  assertEquals(le.encoder().encode(big).subarray(0, 3), hex("70 11 01"));
  assertEquals(decodeAll(be, [be.encoder().encode(big)]), [big]);
  assertEquals(decodeAll(le, [le.encoder().encode(big)]), [big]);
  // The field's largest value is 16 MiB − 1: a limit above it is refused.
  assertThrows(
    () => lengthPrefixed({ lengthBytes: 3, maxFrameLength: 0x100_0000 }),
    RangeError,
    "does not fit a 3-byte length field",
  );
});

Deno.test("`lengthPrefixed()` refuses a frame over the limit even with the header kept", () => {
  const codec = lengthPrefixed({ lengthBytes: 1, strip: 0, maxFrameLength: 3 });
  const err = assertThrows(
    () => decodeAll(codec, [hex("04 61 62 63 64 01 7a")]),
    FrameTooLargeError,
    "length 4 exceeds maxFrameLength 3",
  );
  assertEquals(err.length, 4);
  assertThrows(
    () => codec.encoder().encode(hex("00 61 62 63 64")),
    FrameTooLargeError,
    "Cannot encode frame: length 4 exceeds maxFrameLength 3",
  );
});

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
