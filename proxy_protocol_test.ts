// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import fc from "fast-check";
import { NetError } from "./errors.ts";
import {
  CidrList,
  encodeProxyHeader,
  parseProxyHeader,
  type ParseProxyHeaderOptions,
  PROXY_TLV_TYPE,
  type ProxyAddress,
  type ProxyFamily,
  type ProxyHeader,
  ProxyProtocolError,
  type ProxyTlv,
} from "./proxy_protocol.ts";

// ---------------------------------------------------------------------------
// Helpers

const te = new TextEncoder();
const td = new TextDecoder();

/** Bytes from hex text; spaces are ignored. */
function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

function concat(...parts: (Uint8Array | string | number[])[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === "string"
      ? te.encode(p)
      : Array.isArray(p)
      ? Uint8Array.from(p)
      : p
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

const SIG = hex("0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A");

/** A v2 header: the signature, ver/cmd, fam, the length, then the body. */
function v2(
  verCmd: number,
  fam: number,
  ...body: (Uint8Array | string | number[])[]
): Uint8Array {
  const rest = concat(...body);
  return concat(SIG, [verCmd, fam, rest.length >> 8, rest.length & 0xff], rest);
}

/** A TLV: type, big-endian length, value. */
function tlv(type: number, value: Uint8Array | string | number[]): Uint8Array {
  const v = concat(value);
  return concat([type, v.length >> 8, v.length & 0xff], v);
}

/** A unix path NUL-padded to 108 bytes. */
function sunPath(path: string): Uint8Array {
  const out = new Uint8Array(108);
  out.set(te.encode(path));
  return out;
}

const tcp = (hostname: string, port: number): ProxyAddress => ({
  transport: "tcp",
  hostname,
  port,
});
const udp = (hostname: string, port: number): ProxyAddress => ({
  transport: "udp",
  hostname,
  port,
});

/** CRC32C, bit by bit: independent of the module's table-driven one. */
function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) {
      crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** RFC 5952 text of 8 groups: a reference written apart from the module. */
function ipv6Reference(groups: readonly number[]): string {
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [a, b] = [groups[6]!, groups[7]!];
    return `::ffff:${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  let best: [number, number] = [-1, 0];
  for (let start = 0; start < 8; start++) {
    let len = 0;
    while (start + len < 8 && groups[start + len] === 0) len++;
    if (len >= 2 && len > best[1]) best = [start, len];
  }
  const h = groups.map((g) => g.toString(16));
  if (best[0] === -1) return h.join(":");
  return `${h.slice(0, best[0]).join(":")}::${
    h.slice(best[0] + best[1]).join(":")
  }`;
}

function groupsToBytes(groups: readonly number[]): number[] {
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function assertProxyError(
  fn: () => unknown,
  message: string,
  expected: { version?: 1 | 2 | null; offset?: number } = {},
): ProxyProtocolError {
  const err = assertThrows(fn, ProxyProtocolError, message);
  assert(err instanceof NetError);
  assert(err.message.startsWith("Cannot parse PROXY header: "), err.message);
  assertEquals(err.code, "EPROXY");
  if ("version" in expected) assertEquals(err.version, expected.version);
  if ("offset" in expected) assertEquals(err.offset, expected.offset);
  return err;
}

// ---------------------------------------------------------------------------
// Fixed vectors

interface Vector {
  name: string;
  wire: Uint8Array;
  header: ProxyHeader;
  /** Whether `encodeProxyHeader(header)` writes `wire` back; true unless false. */
  encodes?: false;
}

const V1_VECTORS: Vector[] = [
  {
    name: "TCP4 (the spec's example)",
    wire: te.encode("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
    header: {
      version: 1,
      command: "PROXY",
      family: "TCP4",
      source: tcp("192.168.0.1", 56324),
      destination: tcp("192.168.0.11", 443),
      tlvs: [],
    },
  },
  {
    name: "TCP4 at the longest, 56 bytes",
    wire: te.encode(
      "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
    ),
    header: {
      version: 1,
      command: "PROXY",
      family: "TCP4",
      source: tcp("255.255.255.255", 65535),
      destination: tcp("255.255.255.255", 65535),
      tlvs: [],
    },
  },
  {
    name: "TCP4 with zeros",
    wire: te.encode("PROXY TCP4 0.0.0.0 10.0.0.1 0 1\r\n"),
    header: {
      version: 1,
      command: "PROXY",
      family: "TCP4",
      source: tcp("0.0.0.0", 0),
      destination: tcp("10.0.0.1", 1),
      tlvs: [],
    },
  },
  {
    name: "TCP6 compressed",
    wire: te.encode("PROXY TCP6 2001:db8::1 ::1 56324 443\r\n"),
    header: {
      version: 1,
      command: "PROXY",
      family: "TCP6",
      source: tcp("2001:db8::1", 56324),
      destination: tcp("::1", 443),
      tlvs: [],
    },
  },
  {
    name: "TCP6 uppercase and uncompressed, printed canonically",
    encodes: false,
    wire: te.encode(
      "PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 FE80:0:0:0:0:0:0:A 1 2\r\n",
    ),
    header: {
      version: 1,
      command: "PROXY",
      family: "TCP6",
      source: tcp("2001:db8::1", 1),
      destination: tcp("fe80::a", 2),
      tlvs: [],
    },
  },
  {
    name: "TCP6 IPv4-mapped (as inet_ntop writes it)",
    encodes: false,
    wire: te.encode("PROXY TCP6 ::ffff:192.0.2.1 ::FFFF:C633:6401 1 2\r\n"),
    header: {
      version: 1,
      command: "PROXY",
      family: "TCP6",
      source: tcp("::ffff:192.0.2.1", 1),
      destination: tcp("::ffff:198.51.100.1", 2),
      tlvs: [],
    },
  },
  {
    name: "TCP6 at the longest, 104 bytes",
    wire: te.encode(
      `PROXY TCP6 ${Array(8).fill("ffff").join(":")} ${
        Array(8).fill("ffff").join(":")
      } 65535 65535\r\n`,
    ),
    header: {
      version: 1,
      command: "PROXY",
      family: "TCP6",
      source: tcp(Array(8).fill("ffff").join(":"), 65535),
      destination: tcp(Array(8).fill("ffff").join(":"), 65535),
      tlvs: [],
    },
  },
  {
    name: "UNKNOWN, short form",
    wire: te.encode("PROXY UNKNOWN\r\n"),
    header: { version: 1, command: "LOCAL", family: "UNKNOWN", tlvs: [] },
  },
  {
    name: "UNKNOWN with addresses, which are ignored",
    encodes: false,
    wire: te.encode("PROXY UNKNOWN 192.0.2.1 198.51.100.1 1 2\r\n"),
    header: { version: 1, command: "LOCAL", family: "UNKNOWN", tlvs: [] },
  },
  {
    name: "UNKNOWN at the longest, 107 bytes",
    encodes: false,
    wire: te.encode(`PROXY UNKNOWN ${"x".repeat(91)}\r\n`),
    header: { version: 1, command: "LOCAL", family: "UNKNOWN", tlvs: [] },
  },
];

const SSL_VALUE = concat(
  [0x01, 0x00, 0x00, 0x00, 0x00], // client = PP2_CLIENT_SSL, verify = 0
  tlv(PROXY_TLV_TYPE.SSL_VERSION, "TLSv1.3"),
  tlv(PROXY_TLV_TYPE.SSL_CN, "client.example"),
);

const V2_VECTORS: Vector[] = [
  {
    name: "PROXY TCP4 with ALPN (the module's example, literal bytes)",
    wire: hex(
      "0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A 21 11 00 11" +
        "C0 00 02 01 C6 33 64 01 DC 04 01 BB 01 00 02 68 32",
    ),
    header: {
      version: 2,
      command: "PROXY",
      family: "TCP4",
      source: tcp("192.0.2.1", 56324),
      destination: tcp("198.51.100.1", 443),
      tlvs: [{ type: 0x01, value: te.encode("h2") }],
    },
  },
  {
    name: "PROXY TCP4 without TLVs",
    wire: v2(0x21, 0x11, [
      192,
      168,
      0,
      1,
      192,
      168,
      0,
      11,
      0xdc,
      0x04,
      0x01,
      0xbb,
    ]),
    header: {
      version: 2,
      command: "PROXY",
      family: "TCP4",
      source: tcp("192.168.0.1", 56324),
      destination: tcp("192.168.0.11", 443),
      tlvs: [],
    },
  },
  {
    name: "PROXY UDP4",
    wire: v2(0x21, 0x12, [10, 0, 0, 1, 10, 0, 0, 2, 0x00, 0x35, 0xff, 0xff]),
    header: {
      version: 2,
      command: "PROXY",
      family: "UDP4",
      source: udp("10.0.0.1", 53),
      destination: udp("10.0.0.2", 65535),
      tlvs: [],
    },
  },
  {
    name: "PROXY TCP6",
    wire: v2(
      0x21,
      0x21,
      hex("20010DB8000000000000000000000001"),
      hex("20010DB8000000000000000000000002"),
      [0x00, 0x00, 0x01, 0xbb],
    ),
    header: {
      version: 2,
      command: "PROXY",
      family: "TCP6",
      source: tcp("2001:db8::1", 0),
      destination: tcp("2001:db8::2", 443),
      tlvs: [],
    },
  },
  {
    name: "PROXY UDP6 with an IPv4-mapped destination",
    wire: v2(
      0x21,
      0x22,
      hex("00000000000000000000000000000001"),
      hex("00000000000000000000FFFFC0000201"),
      [0x13, 0x88, 0x13, 0x89],
    ),
    header: {
      version: 2,
      command: "PROXY",
      family: "UDP6",
      source: udp("::1", 5000),
      destination: udp("::ffff:192.0.2.1", 5001),
      tlvs: [],
    },
  },
  {
    name: "PROXY UNIX stream",
    wire: v2(0x21, 0x31, sunPath("/run/client.sock"), sunPath("/run/app.sock")),
    header: {
      version: 2,
      command: "PROXY",
      family: "UNIX_STREAM",
      source: { transport: "unix", path: "/run/client.sock" },
      destination: { transport: "unix", path: "/run/app.sock" },
      tlvs: [],
    },
  },
  {
    name: "PROXY UNIX datagram, a 108-byte path without NUL",
    wire: v2(0x21, 0x32, sunPath("/" + "p".repeat(107)), sunPath("")),
    header: {
      version: 2,
      command: "PROXY",
      family: "UNIX_DGRAM",
      source: { transport: "unixpacket", path: "/" + "p".repeat(107) },
      destination: { transport: "unixpacket", path: "" },
      tlvs: [],
    },
  },
  {
    name: "LOCAL (a health check, literal bytes)",
    wire: hex("0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A 20 00 00 00"),
    header: { version: 2, command: "LOCAL", family: "UNKNOWN", tlvs: [] },
  },
  {
    name: "LOCAL with a TCP4 address block, which is not reported",
    encodes: false,
    wire: v2(0x20, 0x11, [127, 0, 0, 1, 127, 0, 0, 1, 0, 80, 0, 80]),
    header: { version: 2, command: "LOCAL", family: "TCP4", tlvs: [] },
  },
  {
    // The spec: LOCAL ignores the family; HAProxy's conn_recv_proxy skips
    // the whole header for LOCAL without looking at the family or length.
    name: "LOCAL with the TCP4 family and no address block",
    encodes: false,
    wire: hex("0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A 20 11 00 00"),
    header: { version: 2, command: "LOCAL", family: "TCP4", tlvs: [] },
  },
  {
    name: "LOCAL with the TCP6 family, no address block, then a TLV",
    encodes: false,
    wire: v2(0x20, 0x21, tlv(PROXY_TLV_TYPE.NOOP, [0, 0])),
    header: {
      version: 2,
      command: "LOCAL",
      family: "TCP6",
      tlvs: [{ type: 0x04, value: new Uint8Array(2) }],
    },
  },
  {
    name: "LOCAL with unix addresses present, skipped, then a TLV",
    encodes: false,
    wire: v2(
      0x20,
      0x31,
      sunPath("/run/client.sock"),
      sunPath("/run/app.sock"),
      tlv(PROXY_TLV_TYPE.ALPN, "h2"),
    ),
    header: {
      version: 2,
      command: "LOCAL",
      family: "UNIX_STREAM",
      tlvs: [{ type: 0x01, value: te.encode("h2") }],
    },
  },
  {
    name: "LOCAL with TLVs",
    wire: v2(0x20, 0x00, tlv(PROXY_TLV_TYPE.UNIQUE_ID, "abc")),
    header: {
      version: 2,
      command: "LOCAL",
      family: "UNKNOWN",
      tlvs: [{ type: 0x05, value: te.encode("abc") }],
    },
  },
  {
    name: "PROXY with the UNSPEC family",
    wire: v2(0x21, 0x00),
    header: { version: 2, command: "PROXY", family: "UNKNOWN", tlvs: [] },
  },
  {
    name:
      "PROXY TCP4 with ALPN, AUTHORITY, SSL with sub-TLVs, NOOP, UNIQUE_ID, custom",
    wire: v2(
      0x21,
      0x11,
      [192, 0, 2, 1, 198, 51, 100, 1, 0xdc, 0x04, 0x01, 0xbb],
      tlv(PROXY_TLV_TYPE.ALPN, "http/1.1"),
      tlv(PROXY_TLV_TYPE.AUTHORITY, "example.com"),
      tlv(PROXY_TLV_TYPE.SSL, SSL_VALUE),
      tlv(PROXY_TLV_TYPE.NOOP, []),
      tlv(PROXY_TLV_TYPE.UNIQUE_ID, new Uint8Array(128).fill(7)),
      tlv(0xe0, [1, 2, 3]),
    ),
    header: {
      version: 2,
      command: "PROXY",
      family: "TCP4",
      source: tcp("192.0.2.1", 56324),
      destination: tcp("198.51.100.1", 443),
      tlvs: [
        { type: 0x01, value: te.encode("http/1.1") },
        { type: 0x02, value: te.encode("example.com") },
        { type: 0x20, value: SSL_VALUE },
        { type: 0x04, value: new Uint8Array(0) },
        { type: 0x05, value: new Uint8Array(128).fill(7) },
        { type: 0xe0, value: Uint8Array.from([1, 2, 3]) },
      ],
    },
  },
  {
    name: "PROXY TCP6 with a 65535-byte TLV value under a raised limit",
    wire: v2(
      0x21,
      0x21,
      new Uint8Array(32),
      [0, 1, 0, 2],
      tlv(0xe1, new Uint8Array(0xffff - 36 - 3)),
    ),
    header: {
      version: 2,
      command: "PROXY",
      family: "TCP6",
      source: tcp("::", 1),
      destination: tcp("::", 2),
      tlvs: [{ type: 0xe1, value: new Uint8Array(0xffff - 36 - 3) }],
    },
  },
];

const ALL_VECTORS = [...V1_VECTORS, ...V2_VECTORS];
const MAX: ParseProxyHeaderOptions = { maxHeaderLength: 65551 };

// ---------------------------------------------------------------------------
// Parsing

Deno.test("`parseProxyHeader()` parses the v1 vectors", () => {
  for (const { name, wire, header } of V1_VECTORS) {
    for (const version of ["v1", "any"] as const) {
      const result = parseProxyHeader(wire, { version });
      assertEquals(result, { header, consumed: wire.length }, name);
    }
  }
});

Deno.test("`parseProxyHeader()` parses the v2 vectors", () => {
  for (const { name, wire, header } of V2_VECTORS) {
    for (const version of ["v2", "any"] as const) {
      const result = parseProxyHeader(wire, { version, ...MAX });
      assertEquals(result, { header, consumed: wire.length }, name);
    }
  }
});

Deno.test("`parseProxyHeader()` returns null for empty input", () => {
  for (const version of ["v1", "v2", "any"] as const) {
    assertStrictEquals(parseProxyHeader(new Uint8Array(0), { version }), null);
  }
});

Deno.test("`parseProxyHeader()` returns null until the v1 header is complete", () => {
  const tail = te.encode("GET / HTTP/1.1\r\n\r\n");
  for (const { name, wire, header } of V1_VECTORS) {
    const stream = concat(wire, tail);
    for (let n = 0; n < wire.length; n++) {
      assertStrictEquals(
        parseProxyHeader(stream.subarray(0, n)),
        null,
        `${name}: ${n} bytes`,
      );
    }
    for (let n = wire.length; n <= stream.length; n++) {
      const result = parseProxyHeader(stream.subarray(0, n));
      assertEquals(
        result,
        { header, consumed: wire.length },
        `${name}: ${n} bytes`,
      );
    }
  }
});

Deno.test("`parseProxyHeader()` returns null until the v2 header is complete", () => {
  const tail = te.encode("\x16\x03\x01 client hello");
  for (const { name, wire, header } of V2_VECTORS) {
    if (wire.length > 1000) continue; // quadratic; the large one is below
    const stream = concat(wire, tail);
    for (let n = 0; n < wire.length; n++) {
      assertStrictEquals(
        parseProxyHeader(stream.subarray(0, n)),
        null,
        `${name}: ${n} bytes`,
      );
    }
    for (let n = wire.length; n <= stream.length; n++) {
      const result = parseProxyHeader(stream.subarray(0, n));
      assertEquals(
        result,
        { header, consumed: wire.length },
        `${name}: ${n} bytes`,
      );
    }
  }
});

Deno.test("`parseProxyHeader()` returns null until a large v2 header is complete", () => {
  const vector = V2_VECTORS.at(-1)!;
  const stream = concat(vector.wire, "rest");
  for (
    const n of [0, 1, 12, 13, 14, 15, 16, 52, 55, 1000, vector.wire.length - 1]
  ) {
    assertStrictEquals(
      parseProxyHeader(stream.subarray(0, n), MAX),
      null,
      `${n} bytes`,
    );
  }
  assertEquals(parseProxyHeader(stream, MAX)?.consumed, vector.wire.length);
});

Deno.test("`parseProxyHeader()` leaves the application bytes after `consumed`", () => {
  for (const { name, wire } of ALL_VECTORS) {
    // Even a second header right behind belongs to the application.
    const stream = concat(wire, wire, "data");
    const result = parseProxyHeader(stream, MAX)!;
    assertEquals(result.consumed, wire.length, name);
    assertEquals(stream.subarray(result.consumed), concat(wire, "data"), name);
  }
});

Deno.test("`parseProxyHeader()` copies TLV values out of the input", () => {
  const wire = v2(0x21, 0x00, tlv(PROXY_TLV_TYPE.AUTHORITY, "example.com"));
  const { header } = parseProxyHeader(wire)!;
  wire.fill(0);
  assertEquals(td.decode(header.tlvs[0]!.value), "example.com");
  assertEquals(header.tlvs[0]!.value.buffer.byteLength, 11);
});

Deno.test("`parseProxyHeader()` selects the format by the version option", () => {
  const v1Wire = V1_VECTORS[0]!.wire;
  const v2Wire = V2_VECTORS[0]!.wire;
  assertEquals(parseProxyHeader(v1Wire, { version: "v1" })?.header.version, 1);
  assertEquals(parseProxyHeader(v2Wire, { version: "v2" })?.header.version, 2);
  assertEquals(parseProxyHeader(v1Wire)?.header.version, 1);
  assertEquals(parseProxyHeader(v2Wire)?.header.version, 2);
  assertProxyError(
    () => parseProxyHeader(v2Wire, { version: "v1" }),
    'Cannot parse PROXY header: expected "PROXY " at offset 0, received byte 0x0d at offset 0',
    { version: 1, offset: 0 },
  );
  assertProxyError(
    () => parseProxyHeader(v1Wire, { version: "v2" }),
    "Cannot parse PROXY header: expected the v2 signature, received byte 0x50 at offset 0 where 0x0d belongs",
    { version: 2, offset: 0 },
  );
  assertThrows(
    () => parseProxyHeader(v1Wire, { version: "v3" as "v1" }),
    TypeError,
    'version must be "v1", "v2" or "any", received "v3"',
  );
});

Deno.test("`parseProxyHeader()` refuses input that is neither format", () => {
  const cases: [string, Uint8Array, string][] = [
    ["HTTP", te.encode("GET / HTTP/1.1\r\n"), "received byte 0x47 at offset 0"],
    [
      "TLS",
      hex("16 03 01 02 00 01 00 01 fc 03 03"),
      "received byte 0x16 at offset 0",
    ],
    [
      "SSH",
      te.encode("SSH-2.0-OpenSSH_9.6\r\n"),
      "received byte 0x53 at offset 0",
    ],
    ["a lone NUL", new Uint8Array(1), "received byte 0x00 at offset 0"],
  ];
  for (const [name, wire, message] of cases) {
    const err = assertProxyError(
      () => parseProxyHeader(wire),
      `Cannot parse PROXY header: expected "PROXY " or the v2 signature, ${message}`,
      { version: null, offset: 0 },
    );
    assertEquals(err.name, "ProxyProtocolError", name);
  }
});

Deno.test("`parseProxyHeader()` throws ProxyProtocolError on malformed v1 lines", () => {
  const ok = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443";
  const cases: [string, string, number][] = [
    [
      "PROXY\r\n",
      'expected "PROXY " at offset 0, received byte 0x0d at offset 5',
      5,
    ],
    ["PROXZ TCP4\r\n", "received byte 0x5a at offset 4", 4],
    ["PROXy TCP4\r\n", "received byte 0x79 at offset 4", 4],
    ["PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", 'unknown v1 protocol "TCP5"', 6],
    ["PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", 'unknown v1 protocol "tcp4"', 6],
    ["PROXY \r\n", 'unknown v1 protocol ""', 6],
    ["PROXY UNKNOWNX\r\n", 'unknown v1 protocol "UNKNOWNX"', 6],
    ["PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 'unknown v1 protocol ""', 6],
    ["PROXY TCP4\r\n", 'expected a space after "TCP4" at offset 10', 10],
    [ok + "\n", "v1 line has an LF without CR at offset 45", 45],
    [ok + "\rX", "v1 line has a CR without LF at offset 45", 45],
    [ok + "\r\r\n", "v1 line has a CR without LF at offset 45", 45],
    ["PROXY UNKNOWN\n", "v1 line has an LF without CR at offset 13", 13],
    ["PROXY UNKNOWN a\nb\r\n", "v1 line has an LF without CR at offset 15", 15],
    [
      "PROXY TCP4 192.168.0.1  192.168.0.11 56324 443\r\n",
      'expected 4 fields separated by single spaces after "TCP4", received "192.168.0.1  192.168.0.11 56324 443"',
      11,
    ],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "expected 4 fields", 11],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "expected 4 fields", 11],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "expected 4 fields", 11],
    ["PROXY TCP4 \r\n", "expected 4 fields", 11],
    [
      "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
      'invalid IPv4 source address "1.2.3.256"',
      11,
    ],
    [
      "PROXY TCP4 1.2.3.4 5.6.07.8 1 2\r\n",
      'invalid IPv4 destination address "5.6.07.8"',
      19,
    ],
    [
      "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
      'invalid IPv4 source address "1.2.3"',
      11,
    ],
    [
      "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n",
      'invalid IPv4 source address "1.2.3.4."',
      11,
    ],
    ["PROXY TCP4 ::1 ::1 1 2\r\n", 'invalid IPv4 source address "::1"', 11],
    [
      "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
      'invalid IPv6 source address "1.2.3.4"',
      11,
    ],
    [
      "PROXY TCP6 ::1 1::2::3 1 2\r\n",
      'invalid IPv6 destination address "1::2::3"',
      15,
    ],
    [
      "PROXY TCP6 ::1 12345::1 1 2\r\n",
      'invalid IPv6 destination address "12345::1"',
      15,
    ],
    [
      "PROXY TCP6 ::1 1:2:3:4:5:6:7 1 2\r\n",
      'invalid IPv6 destination address "1:2:3:4:5:6:7"',
      15,
    ],
    [
      "PROXY TCP6 ::1 1:2:3:4:5:6:7:8:9 1 2\r\n",
      "invalid IPv6 destination address",
      15,
    ],
    [
      "PROXY TCP6 1:2:3:4::5:6:7:8 ::1 1 2\r\n",
      'invalid IPv6 source address "1:2:3:4::5:6:7:8"',
      11,
    ],
    [
      "PROXY TCP6 ::1 :1:2:3:4:5:6:7 1 2\r\n",
      "invalid IPv6 destination address",
      15,
    ],
    [
      "PROXY TCP6 ::1 1.2.3.4::1 1 2\r\n",
      "invalid IPv6 destination address",
      15,
    ],
    [
      "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",
      "invalid character 0x25 at offset 18 of the v1 line",
      18,
    ],
    [
      "PROXY TCP6 [::1] ::1 1 2\r\n",
      "invalid character 0x5b at offset 11 of the v1 line",
      11,
    ],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
      'invalid source port "65536"',
      27,
    ],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 0443\r\n",
      'invalid destination port "0443"',
      29,
    ],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 999999\r\n",
      'invalid destination port "999999"',
      29,
    ],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 a 2\r\n", 'invalid source port "a"', 27],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
      "invalid character 0x2d at offset 27",
      27,
    ],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\t2\r\n",
      "invalid character 0x09 at offset 28",
      28,
    ],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 x\r\n",
      "invalid character 0x78 at offset 29",
      29,
    ],
    [
      `PROXY UNKNOWN ${"x".repeat(92)}\r\n`,
      "v1 line has no CRLF in its first 107 bytes",
      107,
    ],
    [
      `PROXY TCP6 ${"f".repeat(200)}`,
      "v1 line has no CRLF in its first 107 bytes",
      107,
    ],
  ];
  for (const [line, message, offset] of cases) {
    assertProxyError(
      () => parseProxyHeader(te.encode(line), { version: "any" }),
      message,
      { version: 1, offset },
    );
  }
  // A byte that is not ASCII.
  assertProxyError(
    () =>
      parseProxyHeader(concat("PROXY TCP4 1.2.3.4 ", [0xc3, 0xa9], " 1 2\r\n")),
    "invalid character 0xc3 at offset 19 of the v1 line",
  );
});

Deno.test("`parseProxyHeader()` throws ProxyProtocolError on malformed v2 headers", () => {
  const addr4 = [192, 0, 2, 1, 198, 51, 100, 1, 0, 1, 0, 2];
  const badSig = SIG.slice();
  badSig[5] = 0x0a;
  const withCrc = (value: number[]) =>
    v2(0x21, 0x11, addr4, tlv(PROXY_TLV_TYPE.CRC32C, value));
  const cases: [string, Uint8Array, string, number][] = [
    [
      "wrong signature byte",
      concat(badSig, [0x21, 0x11, 0, 12], addr4),
      "expected the v2 signature, received byte 0x0a at offset 5 where 0x0d belongs",
      5,
    ],
    [
      "version 1",
      v2(0x11, 0x11, addr4),
      "unsupported version 1 in byte 0x11 at offset 12",
      12,
    ],
    [
      "version 3",
      v2(0x31, 0x11, addr4),
      "unsupported version 3 in byte 0x31 at offset 12",
      12,
    ],
    [
      "version 0",
      v2(0x01, 0x11, addr4),
      "unsupported version 0 in byte 0x01 at offset 12",
      12,
    ],
    [
      "command 2",
      v2(0x22, 0x11, addr4),
      "unsupported command 2 in byte 0x22 at offset 12",
      12,
    ],
    [
      "command 15",
      v2(0x2f, 0x11, addr4),
      "unsupported command 15 in byte 0x2f at offset 12",
      12,
    ],
    [
      "family 4",
      v2(0x21, 0x41, addr4),
      "unsupported address family and transport byte 0x41 at offset 13",
      13,
    ],
    [
      "transport 3",
      v2(0x21, 0x13, addr4),
      "unsupported address family and transport byte 0x13",
      13,
    ],
    [
      "AF_INET with UNSPEC transport",
      v2(0x21, 0x10, addr4),
      "byte 0x10 at offset 13",
      13,
    ],
    ["UNSPEC family with STREAM", v2(0x21, 0x01), "byte 0x01 at offset 13", 13],
    [
      "TCP4 with 11 address bytes",
      v2(0x21, 0x11, addr4.slice(0, 11)),
      'length 11 is shorter than the 12-byte address block of family "TCP4"',
      14,
    ],
    [
      "TCP6 with 35 address bytes",
      v2(0x21, 0x22, new Uint8Array(35)),
      'length 35 is shorter than the 36-byte address block of family "UDP6"',
      14,
    ],
    [
      "UNIX with 215 address bytes",
      v2(0x21, 0x32, new Uint8Array(215)),
      'length 215 is shorter than the 216-byte address block of family "UNIX_DGRAM"',
      14,
    ],
    [
      "TCP4 with 8 address bytes",
      v2(0x21, 0x11, addr4.slice(0, 8)),
      'length 8 is shorter than the 12-byte address block of family "TCP4"',
      14,
    ],
    [
      "TCP6 with an IPv4 block",
      v2(0x21, 0x21, addr4),
      'length 12 is shorter than the 36-byte address block of family "TCP6"',
      14,
    ],
    [
      "UNIX with nothing",
      v2(0x21, 0x31),
      'length 0 is shorter than the 216-byte address block of family "UNIX_STREAM"',
      14,
    ],
    [
      "TCP4 with nothing",
      v2(0x21, 0x11),
      'length 0 is shorter than the 12-byte address block of family "TCP4"',
      14,
    ],
    [
      "TLV header cut short",
      v2(0x21, 0x11, addr4, [0x01, 0x00]),
      "TLV at offset 28 needs 3 header bytes, 2 left",
      28,
    ],
    [
      "one stray byte after LOCAL",
      v2(0x20, 0x00, [0x04]),
      "TLV at offset 16 needs 3 header bytes, 1 left",
      16,
    ],
    [
      "TLV overrunning the block by one byte, application bytes behind",
      concat(v2(0x21, 0x00, [0x01, 0x00, 0x03, 0x61, 0x62]), "XYZ"),
      "TLV of type 0x01 at offset 16 has length 3, only 2 bytes left",
      16,
    ],
    [
      "TLV overrunning the block",
      v2(0x21, 0x11, addr4, [0x02, 0x00, 0x05, 0x61, 0x62]),
      "TLV of type 0x02 at offset 28 has length 5, only 2 bytes left",
      28,
    ],
    [
      "second TLV overrunning the block",
      v2(0x21, 0x00, tlv(1, "h2"), [0x20, 0xff, 0xff]),
      "TLV of type 0x20 at offset 21 has length 65535, only 0 bytes left",
      21,
    ],
    [
      "CRC32C TLV of 3 bytes",
      withCrc([0, 0, 0]),
      "CRC32C TLV at offset 28 has length 3, expected 4",
      28,
    ],
    [
      "CRC32C mismatch",
      withCrc([0, 0, 0, 0]),
      "CRC32C mismatch: header carries 0x00000000, computed 0x",
      31,
    ],
    [
      "two CRC32C TLVs",
      v2(0x21, 0x11, addr4, tlv(3, [0, 0, 0, 0]), tlv(3, [0, 0, 0, 0])),
      "second CRC32C TLV at offset 35",
      35,
    ],
    [
      "length over the default limit",
      concat(SIG, [0x21, 0x11, 0x0f, 0xf1]),
      "header length 4097 exceeds maxHeaderLength 4096",
      14,
    ],
    [
      "length at the protocol maximum",
      concat(SIG, [0x21, 0x00, 0xff, 0xff]),
      "header length 65551 exceeds maxHeaderLength 4096",
      14,
    ],
  ];
  for (const [name, wire, message, offset] of cases) {
    const err = assertProxyError(
      () => parseProxyHeader(wire),
      message,
      { version: 2, offset },
    );
    assert(err.message.length > 0, name);
  }
});

Deno.test("`parseProxyHeader()` throws as soon as the input is provably malformed", () => {
  const cases: [string, Uint8Array, string][] = [
    ["a first byte of neither", te.encode("G"), "or the v2 signature"],
    [
      "a v1 prefix gone wrong",
      te.encode("PRO\n"),
      "received byte 0x0a at offset 3",
    ],
    [
      "a v1 token gone wrong",
      te.encode("PROXY TCP5"),
      'unknown v1 protocol "TCP5"',
    ],
    [
      "a v1 token that cannot grow",
      te.encode("PROXY TCX"),
      'unknown v1 protocol "TCX"',
    ],
    [
      "a bad character",
      te.encode("PROXY TCP4 1.2.3.4 z"),
      "invalid character 0x7a",
    ],
    ["a lone LF", te.encode("PROXY TCP4 1.2.3.4\n"), "LF without CR"],
    [
      "107 bytes without CRLF",
      te.encode(`PROXY TCP6 ${"f".repeat(96)}`),
      "no CRLF",
    ],
    [
      "a CR where the LF cannot fit",
      te.encode(`PROXY UNKNOWN ${"x".repeat(92)}\r`),
      "no CRLF",
    ],
    [
      "a bad signature byte",
      hex("0D 0A 0D 0B"),
      "received byte 0x0b at offset 3",
    ],
    ["a bad version", concat(SIG, [0x31]), "unsupported version 3"],
    ["a bad command", concat(SIG, [0x23]), "unsupported command 3"],
    ["a bad family", concat(SIG, [0x21, 0x45]), "unsupported address family"],
    [
      "a length over the limit",
      concat(SIG, [0x21, 0x11, 0x10, 0x00]),
      "exceeds maxHeaderLength",
    ],
    [
      "a length under the family's block",
      concat(SIG, [0x21, 0x21, 0x00, 0x0c]),
      "shorter than the 36-byte",
    ],
  ];
  for (const [name, wire, message] of cases) {
    assertThrows(
      () => parseProxyHeader(wire),
      ProxyProtocolError,
      message,
      name,
    );
  }
});

Deno.test("`parseProxyHeader()` returns null for a valid prefix", () => {
  const cases: [string, Uint8Array][] = [
    ["P", te.encode("P")],
    ["PROXY", te.encode("PROXY")],
    ["PROXY UNK", te.encode("PROXY UNK")],
    ["PROXY UNKNOWN", te.encode("PROXY UNKNOWN")],
    ["a v1 line up to its CR", te.encode("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r")],
    ["106 bytes of UNKNOWN", te.encode(`PROXY UNKNOWN ${"x".repeat(92)}`)],
    ["the signature", SIG],
    ["the signature and ver/cmd", concat(SIG, [0x21])],
    ["the fixed part", concat(SIG, [0x21, 0x11, 0x00, 0x0c])],
    ["the fixed part at the limit", concat(SIG, [0x21, 0x11, 0x0f, 0xf0])],
    [
      "11 of 12 address bytes",
      concat(SIG, [0x21, 0x11, 0x00, 0x0c], new Uint8Array(11)),
    ],
  ];
  for (const [name, wire] of cases) {
    assertStrictEquals(parseProxyHeader(wire), null, name);
  }
});

Deno.test("`parseProxyHeader()` enforces maxHeaderLength on v2 headers", () => {
  const wire = v2(0x21, 0x00, tlv(0xe0, new Uint8Array(100))); // 16 + 103 bytes
  assertEquals(parseProxyHeader(wire, { maxHeaderLength: 119 })?.consumed, 119);
  const err = assertProxyError(
    () => parseProxyHeader(wire.subarray(0, 16), { maxHeaderLength: 118 }),
    "Cannot parse PROXY header: header length 119 exceeds maxHeaderLength 118",
    { version: 2, offset: 14 },
  );
  assertEquals(err.version, 2);
  assertEquals(
    parseProxyHeader(v2(0x20, 0x00), { maxHeaderLength: 16 })?.consumed,
    16,
  );
  for (const bad of [15, 65552, 100.5, NaN, Infinity]) {
    assertThrows(
      () => parseProxyHeader(wire, { maxHeaderLength: bad }),
      RangeError,
      `maxHeaderLength must be an integer from 16 to 65551, received ${bad}`,
    );
  }
});

Deno.test("`parseProxyHeader()` verifies a CRC32C TLV", () => {
  assertEquals(crc32cReference(te.encode("123456789")), 0xe3069283);
  const unchecked = v2(
    0x21,
    0x11,
    [10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0x00, 0x50],
    tlv(PROXY_TLV_TYPE.ALPN, "h2"),
    tlv(PROXY_TLV_TYPE.CRC32C, [0, 0, 0, 0]),
  );
  const crc = crc32cReference(unchecked);
  const wire = unchecked.slice();
  new DataView(wire.buffer).setUint32(wire.length - 4, crc);
  const { header } = parseProxyHeader(wire)!;
  assertEquals(header.tlvs[1], {
    type: PROXY_TLV_TYPE.CRC32C,
    value: wire.slice(-4),
  });

  const tampered = wire.slice();
  tampered[16] = 11; // the source address
  assertProxyError(
    () => parseProxyHeader(tampered),
    `CRC32C mismatch: header carries 0x${
      crc.toString(16).padStart(8, "0")
    }, computed 0x${
      crc32cReference(concat(tampered.subarray(0, -4), [0, 0, 0, 0])).toString(
        16,
      ).padStart(8, "0")
    }`,
  );
  assertEquals(
    parseProxyHeader(tampered, { verifyChecksum: false })?.consumed,
    wire.length,
  );
  assertEquals(
    parseProxyHeader(v2(0x20, 0x00, tlv(3, [1])), { verifyChecksum: false })
      ?.header.tlvs,
    [{ type: 3, value: Uint8Array.from([1]) }],
  );
});

Deno.test("`parseProxyHeader()` prints IPv6 addresses in RFC 5952 form", () => {
  const cases: [string, string][] = [
    ["00000000000000000000000000000000", "::"],
    ["00000000000000000000000000000001", "::1"],
    ["20010db8000000000000000000000001", "2001:db8::1"],
    ["20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"], // one zero group stays
    ["20010000000000010000000000000001", "2001:0:0:1::1"], // the longest run
    ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"], // the first of equals
    ["fe800000000000000000000000000000", "fe80::"],
    ["00010000000000000000000000000000", "1::"],
    ["000100020003000400050006000700ff", "1:2:3:4:5:6:7:ff"],
    ["ABCDEF0000000000000000000000ABCD", "abcd:ef00::abcd"],
    ["00000000000000000000ffffc0000201", "::ffff:192.0.2.1"], // IPv4-mapped
    ["00000000000000000000ffff00000000", "::ffff:0.0.0.0"],
    ["000000000000000000000000c0000201", "::c000:201"], // IPv4-compatible: plain
    ["0064ff9b0000000000000000c0000201", "64:ff9b::c000:201"],
  ];
  for (const [bytes, expected] of cases) {
    const wire = v2(0x21, 0x21, hex(bytes), hex(bytes), [0, 1, 0, 2]);
    const { header } = parseProxyHeader(wire)!;
    assertEquals(header.source, tcp(expected, 1), bytes);
    // The v1 parser reads the canonical form back to the same address.
    const line = `PROXY TCP6 ${expected} ${expected} 1 2\r\n`;
    assertEquals(
      parseProxyHeader(te.encode(line))?.header.destination,
      tcp(expected, 2),
    );
  }
});

Deno.test("`parseProxyHeader()` reads unix paths up to the first NUL", () => {
  const src = sunPath("/tmp/a.sock");
  src[50] = 0x41; // garbage after the NUL is ignored
  const dst = sunPath("/tmp/\u00e9t\u00e9.sock"); // UTF-8
  const { header } = parseProxyHeader(v2(0x21, 0x31, src, dst))!;
  assertEquals(header.source, { transport: "unix", path: "/tmp/a.sock" });
  assertEquals(header.destination, {
    transport: "unix",
    path: "/tmp/\u00e9t\u00e9.sock",
  });
});

Deno.test("`parseProxyHeader()` returns addresses that are Deno.Addr values", () => {
  const { header } = parseProxyHeader(V2_VECTORS[0]!.wire)!;
  const addr: Deno.Addr | undefined = header.source;
  assertEquals(addr?.transport, "tcp");
  const unix = parseProxyHeader(V2_VECTORS[5]!.wire)!.header;
  const unixAddr: Deno.Addr | undefined = unix.destination;
  assertEquals(unixAddr, { transport: "unix", path: "/run/app.sock" });
});

// ---------------------------------------------------------------------------
// ProxyProtocolError

Deno.test("`ProxyProtocolError` carries its code, version and offset", () => {
  const cause = new Error("inner");
  const err = new ProxyProtocolError("Cannot parse PROXY header: bad", {
    version: 2,
    offset: 13,
    cause,
  });
  assertInstanceOf(err, NetError);
  assertInstanceOf(err, Error);
  assertEquals(
    [err.name, err.code, err.version, err.offset, err.cause],
    ["ProxyProtocolError", "EPROXY", 2, 13, cause],
  );
  const plain = new ProxyProtocolError("Cannot parse PROXY header: bad");
  assertEquals([plain.version, plain.offset, plain.cause], [
    null,
    0,
    undefined,
  ]);
});

// ---------------------------------------------------------------------------
// Encoding

Deno.test("`encodeProxyHeader()` writes the vectors byte for byte", () => {
  let written = 0;
  for (const { name, wire, header, encodes } of ALL_VECTORS) {
    if (encodes === false) continue;
    assertEquals(encodeProxyHeader(header), wire, name);
    written++;
  }
  assertEquals(written, ALL_VECTORS.length - 8);
});

Deno.test("`encodeProxyHeader()` writes LOCAL and UNKNOWN headers", () => {
  const unknownLine = te.encode("PROXY UNKNOWN\r\n");
  assertEquals(
    encodeProxyHeader({ version: 1, command: "LOCAL" }),
    unknownLine,
  );
  assertEquals(encodeProxyHeader({ version: 1 }), unknownLine);
  assertEquals(
    encodeProxyHeader({
      version: 1,
      command: "LOCAL",
      family: "TCP4",
      source: tcp("1.2.3.4", 1),
      destination: tcp("5.6.7.8", 2),
    }),
    unknownLine,
  );
  assertEquals(
    encodeProxyHeader({ version: 2, command: "LOCAL" }),
    hex("0D0A0D0A000D0A515549540A 20 00 0000"),
  );
  assertEquals(
    encodeProxyHeader({ version: 2 }),
    hex("0D0A0D0A000D0A515549540A 21 00 0000"),
  );
  // A LOCAL header of a known family without addresses gets a zero block.
  const local4 = encodeProxyHeader({
    version: 2,
    command: "LOCAL",
    family: "TCP4",
  });
  assertEquals(local4, v2(0x20, 0x11, new Uint8Array(12)));
  assertEquals(parseProxyHeader(local4)?.header, {
    version: 2,
    command: "LOCAL",
    family: "TCP4",
    tlvs: [],
  });
});

Deno.test("`encodeProxyHeader()` infers the family from the addresses", () => {
  const cases: [ProxyAddress, ProxyAddress, ProxyFamily][] = [
    [tcp("1.2.3.4", 1), tcp("5.6.7.8", 2), "TCP4"],
    [udp("1.2.3.4", 1), udp("5.6.7.8", 2), "UDP4"],
    [tcp("::1", 1), tcp("2001:DB8::1", 2), "TCP6"],
    [udp("::ffff:1.2.3.4", 1), udp("::1", 2), "UDP6"],
    [
      { transport: "unix", path: "/a" },
      { transport: "unix", path: "/b" },
      "UNIX_STREAM",
    ],
    [
      { transport: "unixpacket", path: "/a" },
      { transport: "unixpacket", path: "/b" },
      "UNIX_DGRAM",
    ],
  ];
  for (const [source, destination, family] of cases) {
    const wire = encodeProxyHeader({ version: 2, source, destination });
    assertEquals(parseProxyHeader(wire)?.header.family, family);
  }
  assertEquals(
    td.decode(
      encodeProxyHeader({
        version: 1,
        source: tcp("::1", 1),
        destination: tcp("2001:DB8:0::1", 2),
      }),
    ),
    "PROXY TCP6 ::1 2001:db8::1 1 2\r\n",
  );
});

Deno.test("`encodeProxyHeader()` adds a CRC32C checksum when asked", () => {
  const header = {
    version: 2,
    source: tcp("192.0.2.1", 56324),
    destination: tcp("198.51.100.1", 443),
    tlvs: [{ type: PROXY_TLV_TYPE.ALPN, value: te.encode("h2") }],
  } as const;
  const wire = encodeProxyHeader(header, { checksum: true });
  assertEquals(wire.length, 33 + 7);
  assertEquals(wire.subarray(33, 36), Uint8Array.from([3, 0, 4]));
  const zeroed = concat(wire.subarray(0, 36), [0, 0, 0, 0]);
  assertEquals(
    new DataView(wire.buffer).getUint32(36),
    crc32cReference(zeroed),
  );
  assertEquals(parseProxyHeader(wire)?.header.tlvs.length, 2);

  // An existing CRC32C TLV is filled in place, not duplicated.
  const again = encodeProxyHeader(parseProxyHeader(wire)!.header, {
    checksum: true,
  });
  assertEquals(again, wire);
  const placeholder = encodeProxyHeader(
    {
      ...header,
      tlvs: [{ type: 3, value: new Uint8Array(4) }, ...header.tlvs],
    },
    { checksum: true },
  );
  assertEquals(parseProxyHeader(placeholder)?.header.tlvs.map((t) => t.type), [
    3,
    1,
  ]);
  // Version 1 has nowhere to put one.
  assertEquals(
    encodeProxyHeader({ ...header, version: 1, tlvs: [] }, { checksum: true }),
    te.encode("PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n"),
  );
});

Deno.test("`encodeProxyHeader()` throws on inconsistent headers", () => {
  const s4 = tcp("192.0.2.1", 1);
  const d4 = tcp("198.51.100.1", 2);
  const s6 = tcp("2001:db8::1", 1);
  const cases: [
    string,
    () => unknown,
    typeof TypeError | typeof RangeError,
    string,
  ][] = [
    [
      "bad version",
      () => encodeProxyHeader({ version: 3 as 1 }),
      TypeError,
      "version must be 1 or 2, received 3",
    ],
    [
      "bad command",
      () => encodeProxyHeader({ version: 2, command: "PING" as "LOCAL" }),
      TypeError,
      'command must be "PROXY" or "LOCAL", received "PING"',
    ],
    [
      "source only",
      () => encodeProxyHeader({ version: 2, source: s4 }),
      TypeError,
      "give both source and destination, or neither",
    ],
    [
      "bad family",
      () =>
        encodeProxyHeader({
          version: 2,
          family: "SCTP4" as "TCP4",
          source: s4,
          destination: d4,
        }),
      TypeError,
      'unknown family "SCTP4"',
    ],
    [
      "UNKNOWN with addresses",
      () =>
        encodeProxyHeader({
          version: 2,
          family: "UNKNOWN",
          source: s4,
          destination: d4,
        }),
      TypeError,
      'family "UNKNOWN" carries no addresses',
    ],
    [
      "PROXY TCP4 without addresses",
      () => encodeProxyHeader({ version: 2, family: "TCP4" }),
      TypeError,
      'family "TCP4" needs source and destination addresses',
    ],
    [
      "mixed IPv4 and IPv6",
      () => encodeProxyHeader({ version: 2, source: s4, destination: s6 }),
      TypeError,
      'destination hostname "2001:db8::1" is not an IPv4 address',
    ],
    [
      "IPv4 under TCP6",
      () =>
        encodeProxyHeader({
          version: 2,
          family: "TCP6",
          source: s4,
          destination: d4,
        }),
      TypeError,
      'source hostname "192.0.2.1" is not an IPv6 address',
    ],
    [
      "a host name",
      () =>
        encodeProxyHeader({
          version: 1,
          source: tcp("localhost", 1),
          destination: d4,
        }),
      TypeError,
      'source hostname "localhost" is not an IPv6 address',
    ],
    [
      "udp under TCP4",
      () =>
        encodeProxyHeader({
          version: 2,
          family: "TCP4",
          source: udp("1.2.3.4", 1),
          destination: d4,
        }),
      TypeError,
      'source transport "udp" does not match the family, expected "tcp"',
    ],
    [
      "tcp under UNIX_STREAM",
      () =>
        encodeProxyHeader({
          version: 2,
          family: "UNIX_STREAM",
          source: s4,
          destination: d4,
        }),
      TypeError,
      'source transport "tcp" does not match the family, expected "unix"',
    ],
    [
      "unknown transport",
      () =>
        encodeProxyHeader({
          version: 2,
          source: { transport: "sctp" } as unknown as ProxyAddress,
          destination: d4,
        }),
      TypeError,
      'unknown transport "sctp"',
    ],
    [
      "port 65536",
      () =>
        encodeProxyHeader({
          version: 2,
          source: tcp("1.2.3.4", 65536),
          destination: d4,
        }),
      RangeError,
      "source port must be an integer from 0 to 65535, received 65536",
    ],
    [
      "port -1",
      () =>
        encodeProxyHeader({
          version: 1,
          source: s4,
          destination: tcp("1.2.3.4", -1),
        }),
      RangeError,
      "destination port must be an integer from 0 to 65535, received -1",
    ],
    [
      "port 1.5",
      () =>
        encodeProxyHeader({
          version: 2,
          source: tcp("1.2.3.4", 1.5),
          destination: d4,
        }),
      RangeError,
      "received 1.5",
    ],
    [
      "a path with NUL",
      () =>
        encodeProxyHeader({
          version: 2,
          source: { transport: "unix", path: "/a\0b" },
          destination: { transport: "unix", path: "/b" },
        }),
      TypeError,
      "source path must be a string without NUL",
    ],
    [
      "a path of 109 bytes",
      () =>
        encodeProxyHeader({
          version: 2,
          source: { transport: "unix", path: "/a" },
          destination: { transport: "unix", path: "/" + "\u00e9".repeat(54) },
        }),
      RangeError,
      "destination path of 109 bytes exceeds 108",
    ],
    [
      "v1 with TLVs",
      () =>
        encodeProxyHeader({
          version: 1,
          source: s4,
          destination: d4,
          tlvs: [{ type: 1, value: new Uint8Array(1) }],
        }),
      TypeError,
      "v1 carries no TLVs",
    ],
    [
      "v1 with UDP",
      () =>
        encodeProxyHeader({
          version: 1,
          source: udp("1.2.3.4", 1),
          destination: udp("1.2.3.4", 2),
        }),
      TypeError,
      'v1 cannot carry family "UDP4"',
    ],
    [
      "v1 with unix",
      () =>
        encodeProxyHeader({
          version: 1,
          source: { transport: "unix", path: "/a" },
          destination: { transport: "unix", path: "/b" },
        }),
      TypeError,
      'v1 cannot carry family "UNIX_STREAM"',
    ],
    [
      "TLV type 256",
      () =>
        encodeProxyHeader({
          version: 2,
          tlvs: [{ type: 256, value: new Uint8Array() }],
        }),
      RangeError,
      "TLV 0 type must be an integer from 0 to 255, received 256",
    ],
    [
      "TLV value not bytes",
      () =>
        encodeProxyHeader({
          version: 2,
          tlvs: [{ type: 1, value: "h2" as unknown as Uint8Array }],
        }),
      TypeError,
      "TLV 0 value must be a Uint8Array",
    ],
    [
      "TLV of 65536 bytes",
      () =>
        encodeProxyHeader({
          version: 2,
          tlvs: [{ type: 1, value: new Uint8Array(65536) }],
        }),
      RangeError,
      "TLV 0 length 65536 exceeds 65535",
    ],
    [
      "header over 65535",
      () =>
        encodeProxyHeader({
          version: 2,
          tlvs: [{ type: 1, value: new Uint8Array(65000) }, {
            type: 2,
            value: new Uint8Array(600),
          }],
        }),
      RangeError,
      "length 65606 after the fixed part exceeds 65535",
    ],
    [
      "a CRC32C TLV of 2 bytes to fill",
      () =>
        encodeProxyHeader({
          version: 2,
          tlvs: [{ type: 3, value: new Uint8Array(2) }],
        }, { checksum: true }),
      RangeError,
      "CRC32C TLV length 2 is not 4",
    ],
  ];
  for (const [name, fn, ErrorClass, message] of cases) {
    const err = assertThrows(fn, ErrorClass, message);
    assert(err.message.startsWith("Cannot encode PROXY header: "), name);
    assert(!(err instanceof ProxyProtocolError), name);
  }
});

// ---------------------------------------------------------------------------
// Properties

const ipv4Arb = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
  .map((b) => ({ text: b.join("."), canonical: b.join(".") }));

// Groups biased towards zero, so that `::` runs of every length show up.
const ipv6Arb = fc.array(
  fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
  { minLength: 8, maxLength: 8 },
).chain((groups) =>
  fc.oneof(
    fc.constant(groups),
    fc.constant([0, 0, 0, 0, 0, 0xffff, groups[6]!, groups[7]!]),
  )
).map((groups) => ({
  // Written long-hand and uppercase; read back in canonical form.
  text: groups.map((g) => g.toString(16).toUpperCase().padStart(4, "0")).join(
    ":",
  ),
  canonical: ipv6Reference(groups),
  bytes: groupsToBytes(groups),
}));

const portArb = fc.integer({ min: 0, max: 65535 });

const tlvArb: fc.Arbitrary<ProxyTlv> = fc.record({
  type: fc.integer({ min: 0, max: 255 }).filter((t) =>
    t !== PROXY_TLV_TYPE.CRC32C
  ),
  value: fc.uint8Array({ maxLength: 40 }),
});

const pathArb = fc.string({ maxLength: 30, unit: "grapheme" })
  .filter((s) => !s.includes("\0") && te.encode(s).length <= 108);

/** A header with its written form and the header the parser must return. */
const headerArb: fc.Arbitrary<{ init: ProxyHeader; expected: ProxyHeader }> = fc
  .oneof(
    // v1 TCP4 / TCP6
    fc.tuple(
      fc.oneof(ipv4Arb, ipv6Arb),
      fc.oneof(ipv4Arb, ipv6Arb),
      portArb,
      portArb,
      fc.boolean(),
    )
      .filter(([s, d]) => ("bytes" in s) === ("bytes" in d))
      .map(([s, d, sp, dp, v1]) => {
        const family: ProxyFamily = "bytes" in s ? "TCP6" : "TCP4";
        const base = {
          version: (v1 ? 1 : 2) as 1 | 2,
          command: "PROXY" as const,
          family,
          tlvs: [],
        };
        return {
          init: {
            ...base,
            source: tcp(s.text, sp),
            destination: tcp(d.text, dp),
          },
          expected: {
            ...base,
            source: tcp(s.canonical, sp),
            destination: tcp(d.canonical, dp),
          },
        };
      }),
    // v2 TCP/UDP over IPv4/IPv6 with TLVs
    fc.tuple(
      fc.boolean(),
      fc.boolean(),
      ipv4Arb,
      ipv4Arb,
      ipv6Arb,
      ipv6Arb,
      portArb,
      portArb,
      fc.array(tlvArb, { maxLength: 5 }),
    ).map(([six, isUdp, s4, d4, s6, d6, sp, dp, tlvs]) => {
      const family = `${isUdp ? "UDP" : "TCP"}${six ? 6 : 4}` as ProxyFamily;
      const [s, d] = six ? [s6, d6] : [s4, d4];
      const make = isUdp ? udp : tcp;
      const base = {
        version: 2 as const,
        command: "PROXY" as const,
        family,
        tlvs,
      };
      return {
        init: {
          ...base,
          source: make(s.text, sp),
          destination: make(d.text, dp),
        },
        expected: {
          ...base,
          source: make(s.canonical, sp),
          destination: make(d.canonical, dp),
        },
      };
    }),
    // v2 unix
    fc.tuple(fc.boolean(), pathArb, pathArb, fc.array(tlvArb, { maxLength: 3 }))
      .map(
        ([dgram, s, d, tlvs]) => {
          const transport = dgram ? "unixpacket" as const : "unix" as const;
          const header: ProxyHeader = {
            version: 2,
            command: "PROXY",
            family: dgram ? "UNIX_DGRAM" : "UNIX_STREAM",
            source: { transport, path: s },
            destination: { transport, path: d },
            tlvs,
          };
          return { init: header, expected: header };
        },
      ),
    // LOCAL, v1 and v2
    fc.tuple(fc.boolean(), fc.array(tlvArb, { maxLength: 3 })).map(
      ([v1, tlvs]) => {
        const header: ProxyHeader = v1
          ? { version: 1, command: "LOCAL", family: "UNKNOWN", tlvs: [] }
          : { version: 2, command: "LOCAL", family: "UNKNOWN", tlvs };
        return { init: header, expected: header };
      },
    ),
  );

Deno.test("`encodeProxyHeader()` round-trips through `parseProxyHeader()` for any header", () => {
  fc.assert(
    fc.property(
      headerArb,
      fc.uint8Array({ maxLength: 20 }),
      ({ init, expected }, tail) => {
        const wire = encodeProxyHeader(init);
        const result = parseProxyHeader(concat(wire, tail), {
          version: init.version === 1 ? "v1" : "v2",
        });
        assertEquals(result, { header: expected, consumed: wire.length });
        // And back: the canonical header writes the same bytes.
        assertEquals(encodeProxyHeader(result!.header), wire);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("`parseProxyHeader()` gives the same answer for any prefix of a valid stream", () => {
  fc.assert(
    fc.property(
      headerArb,
      fc.uint8Array({ maxLength: 10 }),
      fc.nat(),
      ({ init, expected }, tail, cut) => {
        const wire = encodeProxyHeader(init);
        const stream = concat(wire, tail);
        const n = cut % (stream.length + 1);
        const result = parseProxyHeader(stream.subarray(0, n));
        if (n < wire.length) assertStrictEquals(result, null);
        else assertEquals(result, { header: expected, consumed: wire.length });
      },
    ),
    { numRuns: 500 },
  );
});

const prefixArb = fc.constantFrom<Uint8Array>(
  new Uint8Array(0),
  SIG,
  concat(SIG, [0x21]),
  concat(SIG, [0x20, 0x00]),
  concat(SIG, [0x21, 0x11]),
  concat(SIG, [0x21, 0x21]),
  concat(SIG, [0x21, 0x31]),
  te.encode("PROXY "),
  te.encode("PROXY TCP4 "),
  te.encode("PROXY TCP6 "),
  te.encode("PROXY UNKNOWN"),
);

Deno.test("`parseProxyHeader()` throws only ProxyProtocolError on arbitrary bytes", () => {
  const v1Chars = fc.constantFrom(..."0123456789abcdefABCDEF.: \r\n".split(""))
    .map((c) => c.charCodeAt(0));
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.array(v1Chars, { maxLength: 120 }).map((a) => Uint8Array.from(a)),
  );
  fc.assert(
    fc.property(
      prefixArb,
      body,
      fc.constantFrom<"v1" | "v2" | "any">("v1", "v2", "any"),
      (prefix, rest, version) => {
        const input = concat(prefix, rest);
        try {
          const result = parseProxyHeader(input, {
            version,
            maxHeaderLength: 400,
          });
          if (result !== null) {
            assert(result.consumed > 0 && result.consumed <= input.length);
            assert(result.header.version === 1 || result.header.version === 2);
          }
        } catch (err) {
          if (!(err instanceof ProxyProtocolError)) throw err;
          assert(err.offset >= 0 && err.offset <= input.length);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

// ---------------------------------------------------------------------------
// CidrList

Deno.test("`CidrList.contains()` matches addresses against the networks", () => {
  const cases: [string[], string, boolean][] = [
    [["10.0.0.0/8"], "10.0.0.0", true],
    [["10.0.0.0/8"], "10.255.255.255", true],
    [["10.0.0.0/8"], "11.0.0.0", false],
    [["10.0.0.0/8"], "9.255.255.255", false],
    [["10.0.0.0/8"], "::ffff:10.1.2.3", true],
    [["10.0.0.0/8"], "::FFFF:a01:203", true],
    [["10.0.0.0/8"], "::a01:203", false], // IPv4-compatible is not IPv4-mapped
    [["127.0.0.1"], "127.0.0.1", true],
    [["127.0.0.1"], "127.0.0.2", false],
    [["127.0.0.1"], "::ffff:127.0.0.1", true],
    [["127.0.0.1/32"], "127.0.0.1", true],
    [["127.0.0.0/8"], "::ffff:127.0.0.1", true],
    [["127.0.0.0/8"], "::1", false],
    [["0.0.0.0/0"], "1.2.3.4", true],
    [["0.0.0.0/0"], "255.255.255.255", true],
    [["0.0.0.0/0"], "::ffff:1.2.3.4", true],
    [["0.0.0.0/0"], "::1", false],
    [["0.0.0.0/0"], "2001:db8::1", false],
    [["128.0.0.0/1"], "200.0.0.1", true],
    [["128.0.0.0/1"], "127.255.255.255", false],
    [["192.168.1.7/24"], "192.168.1.200", true],
    [["192.168.1.7/24"], "192.168.2.1", false],
    [["10.0.0.0/31"], "10.0.0.1", true],
    [["10.0.0.0/31"], "10.0.0.2", false],
    [["::/0"], "::1", true],
    [["::/0"], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
    [["::/0"], "1.2.3.4", true], // as ::ffff:1.2.3.4
    [["::1"], "::1", true],
    [["::1"], "0:0:0:0:0:0:0:1", true],
    [["::1"], "::2", false],
    [["::1"], "127.0.0.1", false],
    [["::1/128"], "::1", true],
    [["fd00::/8"], "fd00::1", true],
    [["fd00::/8"], "fdff:ffff::", true],
    [["fd00::/8"], "fc00::1", false],
    [["fd00::/8"], "fe00::", false],
    [["2001:db8::/32"], "2001:db8:ffff::1", true],
    [["2001:db8::/32"], "2001:DB8::1", true],
    [["2001:db8::/32"], "2001:db9::", false],
    [["2001:db8:8000::/33"], "2001:db8:8000::1", true],
    [["2001:db8:8000::/33"], "2001:db8:7fff::1", false],
    [["2001:db8::/127"], "2001:db8::1", true],
    [["2001:db8::/127"], "2001:db8::2", false],
    [["2001:db8::1/128"], "2001:db8::1", true],
    [["2001:db8::1/128"], "2001:db8::2", false],
    [["::ffff:127.0.0.0/104"], "127.1.2.3", true],
    [["::ffff:127.0.0.0/104"], "::ffff:127.0.0.1", true],
    [["::ffff:127.0.0.0/104"], "128.0.0.1", false],
    [["10.0.0.0/8", "fd00::/8", "192.0.2.1"], "192.0.2.1", true],
    [["10.0.0.0/8", "fd00::/8", "192.0.2.1"], "fd01::", true],
    [["10.0.0.0/8", "fd00::/8", "192.0.2.1"], "192.0.2.2", false],
    [[], "127.0.0.1", false],
    [["0.0.0.0/0", "::/0"], "localhost", false],
    [["0.0.0.0/0", "::/0"], "", false],
    [["0.0.0.0/0", "::/0"], "[::1]", false],
    [["0.0.0.0/0", "::/0"], "fe80::1%eth0", false],
    [["0.0.0.0/0", "::/0"], "1.2.3.4/32", false],
    [["0.0.0.0/0", "::/0"], "01.2.3.4", false],
    [["0.0.0.0/0", "::/0"], " 1.2.3.4", false],
  ];
  for (const [cidrs, address, expected] of cases) {
    assertEquals(
      new CidrList(cidrs).contains(address),
      expected,
      `${JSON.stringify(cidrs)} contains ${JSON.stringify(address)}`,
    );
  }
  assertEquals(
    new CidrList(["0.0.0.0/0"]).contains(42 as unknown as string),
    false,
  );
});

Deno.test("`CidrList` reports its entries in canonical form", () => {
  const list = new CidrList(
    new Set([
      "10.1.2.3/8",
      "127.0.0.1",
      "2001:DB8:0:0::/32",
      "::1",
      "::ffff:10.0.0.0/104",
      "0.0.0.0/0",
    ]),
  );
  assertEquals(list.cidrs, [
    "10.0.0.0/8",
    "127.0.0.1/32",
    "2001:db8::/32",
    "::1/128",
    "::ffff:10.0.0.0/104",
    "0.0.0.0/0",
  ]);
  assertEquals(list.size, 6);
  assert(Object.isFrozen(list.cidrs));
  assertEquals(new CidrList([]).size, 0);
});

Deno.test("`CidrList` throws on malformed entries", () => {
  const typeErrors: [unknown, string][] = [
    ["10.0.0/8", '"10.0.0" is not an IPv4 or IPv6 address'],
    ["10.0.0.0/", 'prefix "" is not a decimal number'],
    ["10.0.0.0/x", 'prefix "x" is not a decimal number'],
    ["10.0.0.0/08", 'prefix "08" is not a decimal number'],
    ["10.0.0.0/8/8", 'prefix "8/8" is not a decimal number'],
    ["10.0.0.0/-1", 'prefix "-1" is not a decimal number'],
    ["::/9999", 'prefix "9999" is not a decimal number'],
    ["::1/ 64", 'prefix " 64" is not a decimal number'],
    ["", '"" is not an IPv4 or IPv6 address'],
    ["/8", '"" is not an IPv4 or IPv6 address'],
    ["1.2.3.4.5", '"1.2.3.4.5" is not an IPv4 or IPv6 address'],
    ["01.2.3.4", '"01.2.3.4" is not an IPv4 or IPv6 address'],
    ["gggg::", '"gggg::" is not an IPv4 or IPv6 address'],
    ["1:2:3:4::5:6:7:8", '"1:2:3:4::5:6:7:8" is not an IPv4 or IPv6 address'],
    ["::1:2:3:4:5:6:7:8", '"::1:2:3:4:5:6:7:8" is not an IPv4 or IPv6 address'],
    ["::ffff:1.2.3", '"::ffff:1.2.3" is not an IPv4 or IPv6 address'],
    ["localhost", '"localhost" is not an IPv4 or IPv6 address'],
    ["fe80::1%eth0/64", '"fe80::1%eth0" is not an IPv4 or IPv6 address'],
    [42, "expected a string, received number"],
  ];
  for (const [entry, message] of typeErrors) {
    assertThrows(() => new CidrList([entry as string]), TypeError, message);
  }
  assertThrows(
    () => new CidrList("10.0.0.0/8"),
    TypeError,
    'Cannot parse CIDR list: expected an iterable of strings, received the string "10.0.0.0/8"',
  );
  const rangeErrors: [string, string][] = [
    ["10.0.0.0/33", 'Cannot parse CIDR "10.0.0.0/33": prefix 33 exceeds 32'],
    ["1.2.3.4/100", "prefix 100 exceeds 32"],
    ["::/129", 'Cannot parse CIDR "::/129": prefix 129 exceeds 128'],
    ["::ffff:1.2.3.4/200", "prefix 200 exceeds 128"],
  ];
  for (const [entry, message] of rangeErrors) {
    assertThrows(() => new CidrList(["::1", entry]), RangeError, message);
  }
});

Deno.test("`CidrList.contains()` agrees with a bitwise reference for any address", () => {
  const bytesArb = fc.uint8Array({ minLength: 16, maxLength: 16 });
  fc.assert(
    fc.property(
      bytesArb,
      fc.integer({ min: 0, max: 128 }),
      bytesArb,
      (net, prefix, addr) => {
        const netText = ipv6Reference(
          Array.from(
            { length: 8 },
            (_, i) => (net[2 * i]! << 8) | net[2 * i + 1]!,
          ),
        );
        const addrText = ipv6Reference(
          Array.from(
            { length: 8 },
            (_, i) => (addr[2 * i]! << 8) | addr[2 * i + 1]!,
          ),
        );
        let expected = true;
        for (let bit = 0; bit < prefix; bit++) {
          const mask = 0x80 >> (bit % 8);
          if ((net[bit >> 3]! & mask) !== (addr[bit >> 3]! & mask)) {
            expected = false;
          }
        }
        assertEquals(
          new CidrList([`${netText}/${prefix}`]).contains(addrText),
          expected,
        );
        assertEquals(
          new CidrList([`${addrText}/${prefix}`]).contains(addrText),
          true,
        );
      },
    ),
    { numRuns: 1000 },
  );
});
