// Copyright 2026 the netkit authors. MIT license.

import { assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { cutAt, hexBytes as hex, toHex, utf8 as b } from "../_test_utils.ts";
import { ByteBuffer } from "./byte_buffer.ts";
import { type Codec, decodeAll, encodeAll, StreamDecoder } from "./decoder.ts";
import {
  lengthPrefixed,
  type LengthPrefixedOptions,
} from "./length_prefixed.ts";
import { FrameTooLargeError } from "../errors.ts";

const HELLO = b("HELLO, WORLD");

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

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

function letters(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = 0x61 + k % 26;
  return out;
}
