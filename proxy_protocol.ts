// Copyright 2026 the netkit authors. MIT license.

/**
 * The HAProxy PROXY protocol, versions 1 (text) and 2 (binary): a parser
 * for the header a load balancer puts in front of a connection, a writer
 * for the client side, and a list of trusted networks to decide whose
 * header to believe.
 *
 * The module is pure: it does no I/O. A server reads bytes from the
 * connection, appends them to what it has, and calls
 * {@linkcode parseProxyHeader} with all the bytes received so far until it
 * returns a result; the bytes after `consumed` belong to the application
 * protocol.
 *
 * ```ts
 * import { parseProxyHeader } from "@netkit/net/proxy-protocol";
 * import { assertEquals } from "@std/assert";
 *
 * const bytes = new TextEncoder().encode(
 *   "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n",
 * );
 * const result = parseProxyHeader(bytes, { version: "any" })!;
 * assertEquals(result.header.source, { transport: "tcp", hostname: "192.0.2.1", port: 56324 });
 * assertEquals(result.consumed, 45);
 * ```
 *
 * ## Version 1: one line of US-ASCII text
 *
 * ```text
 * +-------+----+--------+----+----------+----+----------+----+-------+----+-------+------+
 * | PROXY | SP | family | SP | src addr | SP | dst addr | SP | sport | SP | dport | CRLF |
 * +-------+----+--------+----+----------+----+----------+----+-------+----+-------+------+
 *   family: "TCP4", "TCP6", or "UNKNOWN" (then anything up to the CRLF is ignored)
 * ```
 *
 * The line is at most 107 bytes with its CRLF. Addresses are dotted-quad
 * IPv4 or textual IPv6; ports are decimal 0 to 65535; leading zeros are
 * refused. The line `PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n` is
 * these 45 bytes:
 *
 * ```text
 *  P  R  O  X  Y     T  C  P  4     1  9  2  .  0  .  2  .  1
 * 50 52 4F 58 59 20 54 43 50 34 20 31 39 32 2E 30 2E 32 2E 31 20
 *  1  9  8  .  5  1  .  1  0  0  .  1     5  6  3  2  4     4  4  3 \r \n
 * 31 39 38 2E 35 31 2E 31 30 30 2E 31 20 35 36 33 32 34 20 34 34 33 0D 0A
 * ```
 *
 * ## Version 2: binary
 *
 * A 16-byte fixed part, then `len` bytes: the address block of the family,
 * then type-length-value extensions (TLVs) up to the end.
 *
 * ```text
 * offset 0                                    12        13    14       16
 *        +------------------------------------+---------+-----+--------+
 *        | 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A | ver/cmd | fam | len    |
 *        +------------------------------------+---------+-----+--------+
 *          signature "\r\n\r\n\0\r\nQUIT\n"    1 byte    1     u16 BE
 *
 * ver/cmd: high nibble = version, always 2
 *          low nibble  = command, 0 = LOCAL (health check: use the real
 *                        endpoints), 1 = PROXY (relayed: use the addresses)
 *          so 20 = LOCAL, 21 = PROXY; anything else is refused
 *
 * LOCAL ignores the family: an address block of the family's size is
 * skipped, a shorter length means there is none, and TLVs follow either
 * way (so 20 11 00 00, LOCAL with TCP4 and no addresses, is accepted).
 *
 * fam  address family  transport  address block  ProxyFamily
 * 00   AF_UNSPEC       UNSPEC       0 bytes      "UNKNOWN"
 * 11   AF_INET         STREAM      12 bytes      "TCP4"
 * 12   AF_INET         DGRAM       12 bytes      "UDP4"
 * 21   AF_INET6        STREAM      36 bytes      "TCP6"
 * 22   AF_INET6        DGRAM       36 bytes      "UDP6"
 * 31   AF_UNIX         STREAM     216 bytes      "UNIX_STREAM"
 * 32   AF_UNIX         DGRAM      216 bytes      "UNIX_DGRAM"
 * ```
 *
 * The address blocks, all in network byte order:
 *
 * ```text
 * IPv4, 12 bytes:
 * +--------------+--------------+----------+----------+
 * | src addr (4) | dst addr (4) | sport(2) | dport(2) |
 * +--------------+--------------+----------+----------+
 *
 * IPv6, 36 bytes:
 * +---------------+---------------+----------+----------+
 * | src addr (16) | dst addr (16) | sport(2) | dport(2) |
 * +---------------+---------------+----------+----------+
 *
 * UNIX, 216 bytes (each path NUL-padded):
 * +----------------+----------------+
 * | src path (108) | dst path (108) |
 * +----------------+----------------+
 *
 * TLV, 3 + length bytes (the SSL TLV 0x20 nests sub-TLVs inside its value):
 * +----------+------------------+----------------+
 * | type (1) | length (2, u16)  | value (length) |
 * +----------+------------------+----------------+
 * ```
 *
 * A PROXY header for TCP from 192.0.2.1:56324 to 198.51.100.1:443 that
 * carries the ALPN `h2` is these 33 bytes:
 *
 * ```text
 * 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A   signature
 * 21                                    version 2, command PROXY
 * 11                                    AF_INET, STREAM: TCP over IPv4
 * 00 11                                 len = 17: 12 address + 5 TLV bytes
 * C0 00 02 01                           source 192.0.2.1
 * C6 33 64 01                           destination 198.51.100.1
 * DC 04                                 source port 56324
 * 01 BB                                 destination port 443
 * 01 00 02 68 32                        TLV type 0x01 (ALPN), length 2, "h2"
 * ```
 *
 * The receiver must know that a header is coming: the protocol forbids
 * guessing whether one is present, and only trusted peers (see
 * {@linkcode CidrList}) may send one, or any client could forge its
 * address.
 *
 * @module
 */

import { NetError } from "./errors.ts";

// The base class of ProxyProtocolError and its types, re-exported so that
// this entry point documents the whole public type.
export { NetError, type NetErrorCode, type NetErrorOptions } from "./errors.ts";

// ---------------------------------------------------------------------------
// Errors

/** Options for {@linkcode ProxyProtocolError}. */
export interface ProxyProtocolErrorOptions {
  /**
   * The version of the header being parsed, or `null` when the bytes match
   * neither.
   *
   * @default {null}
   */
  version?: 1 | 2 | null;
  /**
   * The offset in the header of the byte or field that is wrong.
   *
   * @default {0}
   */
  offset?: number;
  /**
   * The underlying error.
   *
   * @default {undefined}
   */
  cause?: unknown;
}

/**
 * A PROXY protocol header is malformed, unsupported or over the limit. The
 * connection that sent it must be closed.
 *
 * @example Usage
 * ```ts
 * import { parseProxyHeader, ProxyProtocolError } from "@netkit/net/proxy-protocol";
 * import { assert, assertEquals } from "@std/assert";
 *
 * try {
 *   parseProxyHeader(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
 *   assert(false);
 * } catch (err) {
 *   assert(err instanceof ProxyProtocolError);
 *   assertEquals([err.code, err.version, err.offset], ["EPROXY", null, 0]);
 * }
 * ```
 */
export class ProxyProtocolError extends NetError {
  /** Always `"EPROXY"`. */
  declare readonly code: "EPROXY";
  /** The version of the header being parsed, or `null` when unrecognized. */
  readonly version: 1 | 2 | null;
  /** The offset in the header of the byte or field that is wrong. */
  readonly offset: number;

  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options The version, the offset and the cause.
   */
  constructor(message: string, options: ProxyProtocolErrorOptions = {}) {
    super(message, { code: "EPROXY", cause: options.cause });
    this.version = options.version ?? null;
    this.offset = options.offset ?? 0;
  }
}

// ---------------------------------------------------------------------------
// Types

/** The command of a header: relayed (`"PROXY"`) or the proxy's own (`"LOCAL"`). */
export type ProxyCommand = "PROXY" | "LOCAL";

/**
 * The address family and transport of a header. Version 1 knows only
 * `"TCP4"`, `"TCP6"` and `"UNKNOWN"`.
 */
export type ProxyFamily =
  | "TCP4"
  | "TCP6"
  | "UDP4"
  | "UDP6"
  | "UNIX_STREAM"
  | "UNIX_DGRAM"
  | "UNKNOWN";

/**
 * An IP endpoint, shaped like `Deno.NetAddr`. IPv6 hostnames are in the
 * canonical form of RFC 5952 (`"2001:db8::1"`, `"::ffff:192.0.2.1"`).
 */
export interface ProxyNetAddress {
  /** `"tcp"` or `"udp"`. */
  transport: "tcp" | "udp";
  /** The IPv4 or IPv6 address. */
  hostname: string;
  /** The port, 0 to 65535. */
  port: number;
}

/**
 * A unix socket endpoint, shaped like `Deno.UnixAddr`: `"unix"` for a
 * stream socket, `"unixpacket"` for a datagram one.
 */
export interface ProxyUnixAddress {
  /** `"unix"` or `"unixpacket"`. */
  transport: "unix" | "unixpacket";
  /** The socket path (at most 108 bytes of UTF-8, no NUL). */
  path: string;
}

/** An endpoint carried by a header, assignable to `Deno.Addr`. */
export type ProxyAddress = ProxyNetAddress | ProxyUnixAddress;

/** A type-length-value extension of a version 2 header. */
export interface ProxyTlv {
  /** The type, 0 to 255 (see {@linkcode PROXY_TLV_TYPE}). */
  type: number;
  /** The value, at most 65535 bytes; a copy, never a view of the input. */
  value: Uint8Array;
}

/** A parsed PROXY protocol header. */
export interface ProxyHeader {
  /** The version of the wire format. */
  version: 1 | 2;
  /**
   * `"PROXY"` when the connection was relayed for a client, `"LOCAL"` when
   * the proxy opened it on its own (a health check): then the real
   * connection endpoints apply. A version 1 `PROXY UNKNOWN` line, which the
   * specification gives the same meaning, is reported as `"LOCAL"`.
   */
  command: ProxyCommand;
  /** The address family and transport announced. */
  family: ProxyFamily;
  /** The client's address; present only for a `"PROXY"` command of a known family. */
  source?: ProxyAddress;
  /** The address the client connected to; present when `source` is. */
  destination?: ProxyAddress;
  /** The TLVs of a version 2 header, in wire order; empty for version 1. */
  tlvs: ProxyTlv[];
}

/**
 * A header to write with {@linkcode encodeProxyHeader}. A
 * {@linkcode ProxyHeader} is one.
 */
export interface ProxyHeaderInit {
  /** The version of the wire format. */
  version: 1 | 2;
  /**
   * The command.
   *
   * @default {"PROXY"}
   */
  command?: ProxyCommand;
  /**
   * The address family and transport.
   *
   * @default {inferred from the addresses; "UNKNOWN" without them}
   */
  family?: ProxyFamily;
  /**
   * The client's address. Required, with `destination`, for a `"PROXY"`
   * command of a known family.
   *
   * @default {undefined}
   */
  source?: ProxyAddress;
  /**
   * The address the client connected to.
   *
   * @default {undefined}
   */
  destination?: ProxyAddress;
  /**
   * TLVs to append (version 2 only).
   *
   * @default {[]}
   */
  tlvs?: readonly ProxyTlv[];
}

/** Options for {@linkcode parseProxyHeader}. */
export interface ParseProxyHeaderOptions {
  /**
   * Which format to accept: `"v1"`, `"v2"`, or `"any"` to tell them apart
   * by their first bytes. Bytes that start neither are refused either way.
   *
   * @default {"any"}
   */
  version?: "v1" | "v2" | "any";
  /**
   * The largest version 2 header accepted, in bytes, its 16-byte fixed part
   * included: from 16 to 65551. A version 1 line is always limited to 107
   * bytes by the specification.
   *
   * @default {4096}
   */
  maxHeaderLength?: number;
  /**
   * Whether to check a `PP2_TYPE_CRC32C` TLV against the header, and refuse
   * the header when it does not match.
   *
   * @default {true}
   */
  verifyChecksum?: boolean;
}

/** What {@linkcode parseProxyHeader} returns once a header is complete. */
export interface ParseProxyHeaderResult {
  /** The header. */
  header: ProxyHeader;
  /** How many bytes the header took; the rest belong to the application. */
  consumed: number;
}

/** Options for {@linkcode encodeProxyHeader}. */
export interface EncodeProxyHeaderOptions {
  /**
   * Whether to add (or fill in) a `PP2_TYPE_CRC32C` TLV with the checksum
   * of the header. Version 2 only; ignored for version 1.
   *
   * @default {false}
   */
  checksum?: boolean;
}

/**
 * The TLV types registered by the specification. `0xE0`–`0xEF` are for
 * applications, `0xF0`–`0xF7` for experiments. The `SSL_*` subtypes appear
 * inside the value of an `SSL` TLV, after its 1-byte `client` field and
 * 4-byte `verify` field; {@linkcode parseProxyHeader} exposes that value raw.
 *
 * @example Usage
 * ```ts
 * import { parseProxyHeader, PROXY_TLV_TYPE } from "@netkit/net/proxy-protocol";
 * import { assertEquals } from "@std/assert";
 *
 * const header = parseProxyHeader(new Uint8Array([
 *   0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
 *   0x20, 0x00, 0x00, 0x05, 0x01, 0x00, 0x02, 0x68, 0x32,
 * ]))!.header;
 * const alpn = header.tlvs.find((tlv) => tlv.type === PROXY_TLV_TYPE.ALPN);
 * assertEquals(new TextDecoder().decode(alpn?.value), "h2");
 * ```
 */
export const PROXY_TLV_TYPE = {
  /** Application-Layer Protocol Negotiation, such as `h2`. */
  ALPN: 0x01,
  /** The host name the client asked for (TLS SNI), UTF-8. */
  AUTHORITY: 0x02,
  /** A CRC32C of the whole header, 4 bytes. */
  CRC32C: 0x03,
  /** Padding, to be ignored. */
  NOOP: 0x04,
  /** An opaque connection ID of up to 128 bytes. */
  UNIQUE_ID: 0x05,
  /** TLS information, with sub-TLVs. */
  SSL: 0x20,
  /** Sub-TLV: the TLS version, US-ASCII. */
  SSL_VERSION: 0x21,
  /** Sub-TLV: the Common Name of the client certificate, UTF-8. */
  SSL_CN: 0x22,
  /** Sub-TLV: the cipher, US-ASCII. */
  SSL_CIPHER: 0x23,
  /** Sub-TLV: the signature algorithm of the certificate, US-ASCII. */
  SSL_SIG_ALG: 0x24,
  /** Sub-TLV: the key algorithm of the certificate, US-ASCII. */
  SSL_KEY_ALG: 0x25,
  /** The network namespace name, US-ASCII. */
  NETNS: 0x30,
} as const;

// ---------------------------------------------------------------------------
// Constants

const V2_SIGNATURE = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);
const V1_PREFIX = new Uint8Array([0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]); // "PROXY "
const V1_MAX_LENGTH = 107;
const V2_FIXED_LENGTH = 16;
const V2_MAX_LENGTH = V2_FIXED_LENGTH + 0xffff;
const DEFAULT_MAX_HEADER_LENGTH = 4096;
const UNIX_PATH_LENGTH = 108;
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TLV_CRC32C = PROXY_TLV_TYPE.CRC32C;

interface FamilyInfo {
  byte: number;
  /** Bytes of the address block. */
  block: number;
  /** Bytes of one IP address, 0 for unix and unknown. */
  ip: 0 | 4 | 16;
  transport: ProxyAddress["transport"] | null;
}

const FAMILIES: Readonly<Record<ProxyFamily, FamilyInfo>> = {
  UNKNOWN: { byte: 0x00, block: 0, ip: 0, transport: null },
  TCP4: { byte: 0x11, block: 12, ip: 4, transport: "tcp" },
  UDP4: { byte: 0x12, block: 12, ip: 4, transport: "udp" },
  TCP6: { byte: 0x21, block: 36, ip: 16, transport: "tcp" },
  UDP6: { byte: 0x22, block: 36, ip: 16, transport: "udp" },
  UNIX_STREAM: { byte: 0x31, block: 216, ip: 0, transport: "unix" },
  UNIX_DGRAM: { byte: 0x32, block: 216, ip: 0, transport: "unixpacket" },
};

const FAMILY_BY_BYTE: ReadonlyMap<number, ProxyFamily> = new Map(
  (Object.keys(FAMILIES) as ProxyFamily[]).map((f) => [FAMILIES[f].byte, f]),
);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

// ---------------------------------------------------------------------------
// Parsing

/**
 * Parses a PROXY protocol header from the start of `bytes`, which must hold
 * all the bytes received on the connection so far. Call it again with the
 * longer buffer each time more bytes arrive, until it returns a result.
 *
 * It never reads past the header: the bytes after `consumed` belong to the
 * application protocol. It throws as soon as the bytes cannot be the start
 * of a valid header (a wrong signature, a version 1 line without CRLF in
 * its first 107 bytes, a version 2 length over `maxHeaderLength`), so a
 * server can close a bad connection without waiting for more.
 *
 * The parse is stateless and costs O(header length) per call. A deadline
 * for the whole header is the caller's: the specification suggests a few
 * seconds, at least 3.
 *
 * @example Feed bytes as they arrive
 * ```ts
 * import { parseProxyHeader } from "@netkit/net/proxy-protocol";
 * import { assertEquals } from "@std/assert";
 *
 * const wire = new TextEncoder().encode("PROXY TCP6 2001:db8::1 ::1 56324 443\r\nHELLO");
 * assertEquals(parseProxyHeader(wire.subarray(0, 20)), null);
 * const { header, consumed } = parseProxyHeader(wire, { version: "v1" })!;
 * assertEquals(header.source, { transport: "tcp", hostname: "2001:db8::1", port: 56324 });
 * assertEquals(new TextDecoder().decode(wire.subarray(consumed)), "HELLO");
 * ```
 *
 * @param bytes All the bytes received so far.
 * @param options The accepted versions and the limits.
 * @returns The header and its length, or `null` when more bytes are needed.
 * @throws {ProxyProtocolError} When the bytes are not a valid header.
 * @throws {RangeError} When `maxHeaderLength` is out of range.
 */
export function parseProxyHeader(
  bytes: Uint8Array,
  options: ParseProxyHeaderOptions = {},
): ParseProxyHeaderResult | null {
  const {
    version = "any",
    maxHeaderLength = DEFAULT_MAX_HEADER_LENGTH,
    verifyChecksum = true,
  } = options;
  if (
    !Number.isInteger(maxHeaderLength) ||
    maxHeaderLength < V2_FIXED_LENGTH || maxHeaderLength > V2_MAX_LENGTH
  ) {
    throw new RangeError(
      `Cannot parse PROXY header: maxHeaderLength must be an integer from ${V2_FIXED_LENGTH} to ${V2_MAX_LENGTH}, received ${maxHeaderLength}`,
    );
  }
  if (version !== "v1" && version !== "v2" && version !== "any") {
    throw new TypeError(
      `Cannot parse PROXY header: version must be "v1", "v2" or "any", received "${
        String(version)
      }"`,
    );
  }
  if (bytes.length === 0) return null;
  const first = bytes[0]!;
  if (version === "v1" || (version === "any" && first === V1_PREFIX[0])) {
    return parseV1(bytes);
  }
  if (version === "v2" || first === V2_SIGNATURE[0]) {
    return parseV2(bytes, maxHeaderLength, verifyChecksum);
  }
  throw new ProxyProtocolError(
    `Cannot parse PROXY header: expected "PROXY " or the v2 signature, received byte ${
      hex(first)
    } at offset 0`,
  );
}

function v1Error(message: string, offset: number): ProxyProtocolError {
  return new ProxyProtocolError(`Cannot parse PROXY header: ${message}`, {
    version: 1,
    offset,
  });
}

function v2Error(message: string, offset: number): ProxyProtocolError {
  return new ProxyProtocolError(`Cannot parse PROXY header: ${message}`, {
    version: 2,
    offset,
  });
}

const V1_TOKENS = ["TCP4", "TCP6", "UNKNOWN"] as const;

function isV1AddressChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x3a) || // 0-9 and ':'
    c === 0x2e || c === SP || // '.' and ' '
    (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66); // A-F, a-f
}

function parseV1(bytes: Uint8Array): ParseProxyHeaderResult | null {
  const prefix = Math.min(bytes.length, V1_PREFIX.length);
  for (let i = 0; i < prefix; i++) {
    if (bytes[i] !== V1_PREFIX[i]) {
      throw v1Error(
        `expected "PROXY " at offset 0, received byte ${
          hex(bytes[i]!)
        } at offset ${i}`,
        i,
      );
    }
  }
  // Find the end of the protocol token and check it as far as it goes.
  const start = V1_PREFIX.length;
  const scan = Math.min(bytes.length, V1_MAX_LENGTH);
  let tokenEnd = start;
  while (
    tokenEnd < scan && bytes[tokenEnd] !== SP && bytes[tokenEnd] !== CR &&
    bytes[tokenEnd] !== LF
  ) tokenEnd++;
  const token = String.fromCharCode(...bytes.subarray(start, tokenEnd));
  const complete = tokenEnd < scan;
  if (
    complete ? !(V1_TOKENS as readonly string[]).includes(token) : (
      !V1_TOKENS.some((t) => t.startsWith(token))
    )
  ) {
    throw v1Error(
      `unknown v1 protocol ${
        JSON.stringify(token)
      }, expected "TCP4", "TCP6" or "UNKNOWN"`,
      start,
    );
  }
  const unknown = token === "UNKNOWN";
  if (complete && !unknown && bytes[tokenEnd] !== SP) {
    throw v1Error(
      `expected a space after "${token}" at offset ${tokenEnd}`,
      tokenEnd,
    );
  }
  // Find the CRLF within the first 107 bytes.
  let end = -1;
  for (let i = tokenEnd; i < scan; i++) {
    const c = bytes[i]!;
    if (c === CR) {
      if (i + 1 >= V1_MAX_LENGTH) break;
      if (i + 1 >= bytes.length) return null;
      if (bytes[i + 1] !== LF) {
        throw v1Error(`v1 line has a CR without LF at offset ${i}`, i);
      }
      end = i;
      break;
    }
    if (c === LF) {
      throw v1Error(`v1 line has an LF without CR at offset ${i}`, i);
    }
    if (!unknown && !isV1AddressChar(c)) {
      throw v1Error(
        `invalid character ${hex(c)} at offset ${i} of the v1 line`,
        i,
      );
    }
  }
  if (end === -1) {
    if (bytes.length < V1_MAX_LENGTH) return null;
    throw v1Error(
      `v1 line has no CRLF in its first ${V1_MAX_LENGTH} bytes`,
      V1_MAX_LENGTH,
    );
  }
  const consumed = end + 2;
  if (unknown) {
    return {
      header: { version: 1, command: "LOCAL", family: "UNKNOWN", tlvs: [] },
      consumed,
    };
  }
  const fieldsStart = tokenEnd + 1;
  const fields = String.fromCharCode(...bytes.subarray(fieldsStart, end))
    .split(" ");
  if (fields.length !== 4) {
    throw v1Error(
      `expected 4 fields separated by single spaces after "${token}", received ${
        JSON.stringify(fields.join(" "))
      }`,
      fieldsStart,
    );
  }
  const family = token as "TCP4" | "TCP6";
  const [src, dst, sport, dport] = fields as [string, string, string, string];
  const offsets = [fieldsStart];
  for (const f of fields) offsets.push(offsets.at(-1)! + f.length + 1);
  const address = (text: string, which: string, offset: number): string => {
    if (family === "TCP4") {
      if (parseIPv4(text) === null) {
        throw v1Error(
          `invalid IPv4 ${which} address ${JSON.stringify(text)}`,
          offset,
        );
      }
      return text;
    }
    const ip = parseIPv6(text);
    if (ip === null) {
      throw v1Error(
        `invalid IPv6 ${which} address ${JSON.stringify(text)}`,
        offset,
      );
    }
    return formatIPv6(ip);
  };
  const port = (text: string, which: string, offset: number): number => {
    const value = parsePort(text);
    if (value === null) {
      throw v1Error(`invalid ${which} port ${JSON.stringify(text)}`, offset);
    }
    return value;
  };
  return {
    header: {
      version: 1,
      command: "PROXY",
      family,
      source: {
        transport: "tcp",
        hostname: address(src, "source", offsets[0]!),
        port: port(sport, "source", offsets[2]!),
      },
      destination: {
        transport: "tcp",
        hostname: address(dst, "destination", offsets[1]!),
        port: port(dport, "destination", offsets[3]!),
      },
      tlvs: [],
    },
    consumed,
  };
}

function parsePort(text: string): number | null {
  if (!/^(?:0|[1-9][0-9]{0,4})$/.test(text)) return null;
  const value = Number(text);
  return value <= 0xffff ? value : null;
}

function parseV2(
  bytes: Uint8Array,
  maxHeaderLength: number,
  verifyChecksum: boolean,
): ParseProxyHeaderResult | null {
  const sig = Math.min(bytes.length, V2_SIGNATURE.length);
  for (let i = 0; i < sig; i++) {
    if (bytes[i] !== V2_SIGNATURE[i]) {
      throw v2Error(
        `expected the v2 signature, received byte ${
          hex(bytes[i]!)
        } at offset ${i} where ${hex(V2_SIGNATURE[i]!)} belongs`,
        i,
      );
    }
  }
  if (bytes.length < 13) return null;
  const verCmd = bytes[12]!;
  if (verCmd >> 4 !== 2) {
    throw v2Error(
      `unsupported version ${verCmd >> 4} in byte ${hex(verCmd)} at offset 12`,
      12,
    );
  }
  const cmd = verCmd & 0x0f;
  if (cmd > 1) {
    throw v2Error(
      `unsupported command ${cmd} in byte ${hex(verCmd)} at offset 12`,
      12,
    );
  }
  if (bytes.length < 14) return null;
  const fam = bytes[13]!;
  const family = FAMILY_BY_BYTE.get(fam);
  if (family === undefined) {
    throw v2Error(
      `unsupported address family and transport byte ${hex(fam)} at offset 13`,
      13,
    );
  }
  if (bytes.length < V2_FIXED_LENGTH) return null;
  const length = (bytes[14]! << 8) | bytes[15]!;
  const total = V2_FIXED_LENGTH + length;
  if (total > maxHeaderLength) {
    throw v2Error(
      `header length ${total} exceeds maxHeaderLength ${maxHeaderLength}`,
      14,
    );
  }
  const info = FAMILIES[family];
  const command: ProxyCommand = cmd === 1 ? "PROXY" : "LOCAL";
  // LOCAL ignores the family (the spec, and HAProxy's own parser): its
  // address block is skipped when there is one, and may be left out.
  const block = command === "LOCAL" && length < info.block ? 0 : info.block;
  if (length < block) {
    throw v2Error(
      `length ${length} is shorter than the ${info.block}-byte address block of family "${family}"`,
      14,
    );
  }
  if (bytes.length < total) return null;

  const header: ProxyHeader = { version: 2, command, family, tlvs: [] };
  if (command === "PROXY" && info.transport !== null) {
    const [source, destination] = readAddresses(bytes, info);
    header.source = source;
    header.destination = destination;
  }

  let at = V2_FIXED_LENGTH + block;
  let checksumAt = -1;
  while (at < total) {
    if (total - at < 3) {
      throw v2Error(
        `TLV at offset ${at} needs 3 header bytes, ${total - at} left`,
        at,
      );
    }
    const type = bytes[at]!;
    const size = (bytes[at + 1]! << 8) | bytes[at + 2]!;
    if (at + 3 + size > total) {
      throw v2Error(
        `TLV of type ${hex(type)} at offset ${at} has length ${size}, only ${
          total - at - 3
        } bytes left`,
        at,
      );
    }
    if (type === TLV_CRC32C && verifyChecksum) {
      if (size !== 4) {
        throw v2Error(
          `CRC32C TLV at offset ${at} has length ${size}, expected 4`,
          at,
        );
      }
      if (checksumAt !== -1) {
        throw v2Error(`second CRC32C TLV at offset ${at}`, at);
      }
      checksumAt = at + 3;
    }
    header.tlvs.push({ type, value: bytes.slice(at + 3, at + 3 + size) });
    at += 3 + size;
  }
  if (checksumAt !== -1) {
    const expected = readU32(bytes, checksumAt);
    const actual = crc32cHeader(bytes.subarray(0, total), checksumAt);
    if (expected !== actual) {
      throw v2Error(
        `CRC32C mismatch: header carries 0x${
          expected.toString(16).padStart(8, "0")
        }, computed 0x${actual.toString(16).padStart(8, "0")}`,
        checksumAt,
      );
    }
  }
  return { header, consumed: total };
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) |
    (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function readAddresses(
  bytes: Uint8Array,
  info: FamilyInfo,
): [ProxyAddress, ProxyAddress] {
  const at = V2_FIXED_LENGTH;
  if (info.transport === "unix" || info.transport === "unixpacket") {
    const transport = info.transport;
    return [
      { transport, path: readPath(bytes.subarray(at, at + UNIX_PATH_LENGTH)) },
      {
        transport,
        path: readPath(
          bytes.subarray(at + UNIX_PATH_LENGTH, at + 2 * UNIX_PATH_LENGTH),
        ),
      },
    ];
  }
  const transport = info.transport as "tcp" | "udp";
  const n = info.ip;
  const ports = at + 2 * n;
  const format = n === 4 ? formatIPv4 : formatIPv6;
  return [
    {
      transport,
      hostname: format(bytes.subarray(at, at + n)),
      port: (bytes[ports]! << 8) | bytes[ports + 1]!,
    },
    {
      transport,
      hostname: format(bytes.subarray(at + n, at + 2 * n)),
      port: (bytes[ports + 2]! << 8) | bytes[ports + 3]!,
    },
  ];
}

function readPath(block: Uint8Array): string {
  const end = block.indexOf(0);
  return decoder.decode(end === -1 ? block : block.subarray(0, end));
}

// ---------------------------------------------------------------------------
// Encoding

/**
 * Writes a PROXY protocol header, for a client or proxy that connects on
 * behalf of another peer. Send it before any other byte, in one write.
 *
 * - Version 1 writes `PROXY TCP4 …\r\n` or `PROXY TCP6 …\r\n`; a `"LOCAL"`
 *   command or the `"UNKNOWN"` family writes `PROXY UNKNOWN\r\n`. It cannot
 *   carry UDP, unix addresses or TLVs.
 * - Version 2 writes the binary header with the TLVs in order. A `"LOCAL"`
 *   header normally has the `"UNKNOWN"` family and no addresses; with
 *   another family and no addresses, its address block is zero-filled.
 *
 * `parseProxyHeader(encodeProxyHeader(h))` gives back `h` for any header
 * `h` that {@linkcode parseProxyHeader} can return, IPv6 hostnames in
 * canonical form.
 *
 * @example Usage
 * ```ts
 * import { encodeProxyHeader, parseProxyHeader } from "@netkit/net/proxy-protocol";
 * import { assertEquals } from "@std/assert";
 *
 * const source = { transport: "tcp", hostname: "192.0.2.1", port: 56324 } as const;
 * const destination = { transport: "tcp", hostname: "198.51.100.1", port: 443 } as const;
 *
 * const v1 = encodeProxyHeader({ version: 1, source, destination });
 * assertEquals(new TextDecoder().decode(v1), "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n");
 *
 * const v2 = encodeProxyHeader({ version: 2, source, destination });
 * assertEquals(v2.length, 28);
 * assertEquals(parseProxyHeader(v2)?.header.source, source);
 * ```
 *
 * @param header The header to write.
 * @param options Whether to add a CRC32C checksum (version 2).
 * @returns The bytes of the header.
 * @throws {TypeError} When the header is inconsistent: a family that does
 * not match the addresses, an invalid address, a family or TLV that
 * version 1 cannot carry.
 * @throws {RangeError} When a port, a TLV type, a TLV length, a unix path or
 * the whole header is out of range.
 */
export function encodeProxyHeader(
  header: ProxyHeaderInit,
  options: EncodeProxyHeaderOptions = {},
): Uint8Array {
  const { version, command = "PROXY", source, destination } = header;
  if (version !== 1 && version !== 2) {
    throw new TypeError(
      `Cannot encode PROXY header: version must be 1 or 2, received ${
        String(version)
      }`,
    );
  }
  if (command !== "PROXY" && command !== "LOCAL") {
    throw new TypeError(
      `Cannot encode PROXY header: command must be "PROXY" or "LOCAL", received "${
        String(command)
      }"`,
    );
  }
  if ((source === undefined) !== (destination === undefined)) {
    throw new TypeError(
      "Cannot encode PROXY header: give both source and destination, or neither",
    );
  }
  const family = header.family ?? inferFamily(source);
  if (!Object.hasOwn(FAMILIES, family)) {
    throw new TypeError(
      `Cannot encode PROXY header: unknown family "${String(family)}"`,
    );
  }
  const info = FAMILIES[family];
  if (info.transport === null && source !== undefined) {
    throw new TypeError(
      'Cannot encode PROXY header: family "UNKNOWN" carries no addresses',
    );
  }
  if (
    info.transport !== null && source === undefined && command === "PROXY"
  ) {
    throw new TypeError(
      `Cannot encode PROXY header: family "${family}" needs source and destination addresses`,
    );
  }
  const tlvs = header.tlvs ?? [];
  if (version === 1) {
    if (tlvs.length > 0) {
      throw new TypeError("Cannot encode PROXY header: v1 carries no TLVs");
    }
    if (command === "LOCAL" || family === "UNKNOWN") {
      return encoder.encode("PROXY UNKNOWN\r\n");
    }
    if (family !== "TCP4" && family !== "TCP6") {
      throw new TypeError(
        `Cannot encode PROXY header: v1 cannot carry family "${family}"`,
      );
    }
    const src = checkNet(source!, info, "source");
    const dst = checkNet(destination!, info, "destination");
    const text = family === "TCP4"
      ? `PROXY TCP4 ${formatIPv4(src.ip)} ${formatIPv4(dst.ip)}`
      : `PROXY TCP6 ${formatIPv6(src.ip)} ${formatIPv6(dst.ip)}`;
    return encoder.encode(`${text} ${src.port} ${dst.port}\r\n`);
  }
  return encodeV2(
    command,
    family,
    source,
    destination,
    tlvs,
    options.checksum ?? false,
  );
}

function inferFamily(source: ProxyAddress | undefined): ProxyFamily {
  if (source === undefined) return "UNKNOWN";
  switch (source.transport) {
    case "unix":
      return "UNIX_STREAM";
    case "unixpacket":
      return "UNIX_DGRAM";
    case "tcp":
    case "udp": {
      const v4 = typeof source.hostname === "string" &&
        parseIPv4(source.hostname) !== null;
      const tcp = source.transport === "tcp";
      if (v4) return tcp ? "TCP4" : "UDP4";
      return tcp ? "TCP6" : "UDP6";
    }
    default:
      throw new TypeError(
        `Cannot encode PROXY header: unknown transport "${
          String((source as { transport: unknown }).transport)
        }"`,
      );
  }
}

function checkNet(
  address: ProxyAddress,
  info: FamilyInfo,
  which: string,
): { ip: Uint8Array; port: number } {
  if (address.transport !== info.transport) {
    throw new TypeError(
      `Cannot encode PROXY header: ${which} transport "${
        String(address.transport)
      }" does not match the family, expected "${info.transport}"`,
    );
  }
  const { hostname, port } = address as ProxyNetAddress;
  const ip = typeof hostname !== "string"
    ? null
    : info.ip === 4
    ? parseIPv4(hostname)
    : parseIPv6(hostname);
  if (ip === null) {
    throw new TypeError(
      `Cannot encode PROXY header: ${which} hostname ${
        JSON.stringify(hostname)
      } is not an IPv${info.ip === 4 ? 4 : 6} address`,
    );
  }
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(
      `Cannot encode PROXY header: ${which} port must be an integer from 0 to 65535, received ${port}`,
    );
  }
  return { ip, port };
}

function checkPath(
  address: ProxyAddress,
  info: FamilyInfo,
  which: string,
): Uint8Array {
  if (address.transport !== info.transport) {
    throw new TypeError(
      `Cannot encode PROXY header: ${which} transport "${
        String(address.transport)
      }" does not match the family, expected "${info.transport}"`,
    );
  }
  const { path } = address as ProxyUnixAddress;
  if (typeof path !== "string" || path.includes("\0")) {
    throw new TypeError(
      `Cannot encode PROXY header: ${which} path must be a string without NUL`,
    );
  }
  const bytes = encoder.encode(path);
  if (bytes.length > UNIX_PATH_LENGTH) {
    throw new RangeError(
      `Cannot encode PROXY header: ${which} path of ${bytes.length} bytes exceeds ${UNIX_PATH_LENGTH}`,
    );
  }
  return bytes;
}

function encodeV2(
  command: ProxyCommand,
  family: ProxyFamily,
  source: ProxyAddress | undefined,
  destination: ProxyAddress | undefined,
  tlvs: readonly ProxyTlv[],
  checksum: boolean,
): Uint8Array {
  const info = FAMILIES[family];
  let list: readonly ProxyTlv[] = tlvs;
  if (checksum && !tlvs.some((t) => t.type === TLV_CRC32C)) {
    list = [...tlvs, { type: TLV_CRC32C, value: new Uint8Array(4) }];
  }
  let length = info.block;
  for (const [i, tlv] of list.entries()) {
    const type: unknown = tlv?.type;
    const value: unknown = tlv?.value;
    if (
      typeof type !== "number" || !Number.isInteger(type) || type < 0 ||
      type > 0xff
    ) {
      throw new RangeError(
        `Cannot encode PROXY header: TLV ${i} type must be an integer from 0 to 255, received ${type}`,
      );
    }
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot encode PROXY header: TLV ${i} value must be a Uint8Array`,
      );
    }
    if (value.length > 0xffff) {
      throw new RangeError(
        `Cannot encode PROXY header: TLV ${i} length ${value.length} exceeds 65535`,
      );
    }
    if (checksum && type === TLV_CRC32C && value.length !== 4) {
      throw new RangeError(
        `Cannot encode PROXY header: CRC32C TLV length ${value.length} is not 4`,
      );
    }
    length += 3 + value.length;
  }
  if (length > 0xffff) {
    throw new RangeError(
      `Cannot encode PROXY header: length ${length} after the fixed part exceeds 65535`,
    );
  }
  const out = new Uint8Array(V2_FIXED_LENGTH + length);
  out.set(V2_SIGNATURE, 0);
  out[12] = command === "PROXY" ? 0x21 : 0x20;
  out[13] = info.byte;
  out[14] = length >> 8;
  out[15] = length & 0xff;
  const at = V2_FIXED_LENGTH;
  if (source !== undefined && destination !== undefined) {
    if (info.ip === 0) {
      out.set(checkPath(source, info, "source"), at);
      out.set(checkPath(destination, info, "destination"), at + 108);
    } else {
      const src = checkNet(source, info, "source");
      const dst = checkNet(destination, info, "destination");
      out.set(src.ip, at);
      out.set(dst.ip, at + info.ip);
      const ports = at + 2 * info.ip;
      out[ports] = src.port >> 8;
      out[ports + 1] = src.port & 0xff;
      out[ports + 2] = dst.port >> 8;
      out[ports + 3] = dst.port & 0xff;
    }
  }
  let pos = at + info.block;
  let checksumAt = -1;
  for (const { type, value } of list) {
    out[pos] = type;
    out[pos + 1] = value.length >> 8;
    out[pos + 2] = value.length & 0xff;
    if (checksum && type === TLV_CRC32C && checksumAt === -1) {
      checksumAt = pos + 3;
    } else {
      out.set(value, pos + 3);
    }
    pos += 3 + value.length;
  }
  if (checksumAt !== -1) {
    const crc = crc32cHeader(out, checksumAt);
    out[checksumAt] = crc >>> 24;
    out[checksumAt + 1] = (crc >>> 16) & 0xff;
    out[checksumAt + 2] = (crc >>> 8) & 0xff;
    out[checksumAt + 3] = crc & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------
// CRC32C (Castagnoli), as RFC 4960 appendix B

let crcTable: Uint32Array | undefined;

function crc32cTable(): Uint32Array {
  if (crcTable !== undefined) return crcTable;
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return crcTable = table;
}

/** CRC32C of `bytes` with the four bytes at `zeroAt` counted as zeros. */
function crc32cHeader(bytes: Uint8Array, zeroAt: number): number {
  const table = crc32cTable();
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    const b = i >= zeroAt && i < zeroAt + 4 ? 0 : bytes[i]!;
    crc = table[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------
// IP addresses

/** Parses a dotted-quad IPv4 address without leading zeros, or `null`. */
function parseIPv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part === 3) return null;
      out[part++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39) return null;
    if (digits > 0 && value === 0) return null; // leading zero
    value = value * 10 + (c - 0x30);
    digits++;
    if (value > 255) return null;
  }
  if (part !== 3 || digits === 0) return null;
  out[3] = value;
  return out;
}

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseGroups(text: string, tail: boolean): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (tail && i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIPv4(part);
      if (v4 === null) return null;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!HEX_GROUP.test(part)) return null;
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}

/**
 * Parses a textual IPv6 address (RFC 4291 section 2.2: groups of 1 to 4
 * hex digits, one `::`, an optional dotted-quad tail), or `null`. Zone IDs
 * and brackets are refused.
 */
function parseIPv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 1) {
    const all = parseGroups(text, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else {
    const head = parseGroups(halves[0]!, false);
    const tail = parseGroups(halves[1]!, true);
    if (head === null || tail === null || head.length + tail.length > 7) {
      return null;
    }
    groups = [
      ...head,
      ...new Array<number>(8 - head.length - tail.length).fill(0),
      ...tail,
    ];
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Formats 16 bytes as an IPv6 address in the canonical form of RFC 5952:
 * lowercase, no leading zeros, the longest run (the first of equals) of two
 * or more zero groups as `::`, and IPv4-mapped addresses as
 * `::ffff:a.b.c.d` (as Deno and Rust print them).
 */
function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  if (
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 &&
    groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff
  ) {
    return `::ffff:${formatIPv4(bytes.subarray(12))}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hexes.join(":");
  return `${hexes.slice(0, bestStart).join(":")}::${
    hexes.slice(bestStart + bestLength).join(":")
  }`;
}

/** Parses IPv4 (as IPv4-mapped IPv6) or IPv6 into 16 bytes, or `null`. */
function parseIp(text: string): { bytes: Uint8Array; v4: boolean } | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) {
    const bytes = new Uint8Array(16);
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    bytes.set(v4, 12);
    return { bytes, v4: true };
  }
  const v6 = parseIPv6(text);
  return v6 === null ? null : { bytes: v6, v4: false };
}

// ---------------------------------------------------------------------------
// Trusted networks

/**
 * A list of networks in CIDR notation, compiled for fast matching: the
 * trusted proxies whose PROXY header a server believes.
 *
 * Entries are IPv4 (`"10.0.0.0/8"`, `"127.0.0.1"` for `/32`) or IPv6
 * (`"fd00::/8"`, `"::1"` for `/128`). IPv4 is matched as IPv4-mapped IPv6,
 * so `"127.0.0.0/8"` contains `"::ffff:127.0.0.1"`, the address a
 * dual-stack socket reports for an IPv4 peer, and `"::/0"` contains every
 * address. Bits past the prefix are ignored: `"192.168.1.7/24"` is
 * `"192.168.1.0/24"`.
 *
 * @example Usage
 * ```ts
 * import { CidrList } from "@netkit/net/proxy-protocol";
 * import { assertEquals } from "@std/assert";
 *
 * const trusted = new CidrList(["10.0.0.0/8", "127.0.0.1", "fd00::/8"]);
 * assertEquals(trusted.contains("10.1.2.3"), true);
 * assertEquals(trusted.contains("::ffff:127.0.0.1"), true);
 * assertEquals(trusted.contains("fd12::1"), true);
 * assertEquals(trusted.contains("192.0.2.1"), false);
 * assertEquals(trusted.cidrs, ["10.0.0.0/8", "127.0.0.1/32", "fd00::/8"]);
 * ```
 */
export class CidrList {
  /** Per entry: 4 masked network words, then 4 mask words. */
  #rules: Int32Array;
  #cidrs: readonly string[];

  /**
   * Compiles the list.
   *
   * @param cidrs The networks, such as `["10.0.0.0/8", "::1"]`.
   * @throws {TypeError} When `cidrs` is a single string, or an entry is not
   * an address with an optional decimal `/prefix`.
   * @throws {RangeError} When a prefix exceeds 32 for IPv4 or 128 for IPv6.
   */
  constructor(cidrs: Iterable<string>) {
    if (typeof cidrs === "string") {
      throw new TypeError(
        `Cannot parse CIDR list: expected an iterable of strings, received the string ${
          JSON.stringify(cidrs)
        }`,
      );
    }
    const entries = [...cidrs];
    const rules = new Int32Array(entries.length * 8);
    const canonical: string[] = [];
    for (const [i, entry] of entries.entries()) {
      if (typeof entry !== "string") {
        throw new TypeError(
          `Cannot parse CIDR: expected a string, received ${typeof entry}`,
        );
      }
      const slash = entry.indexOf("/");
      const addressText = slash === -1 ? entry : entry.slice(0, slash);
      const ip = parseIp(addressText);
      if (ip === null) {
        throw new TypeError(
          `Cannot parse CIDR ${JSON.stringify(entry)}: ${
            JSON.stringify(addressText)
          } is not an IPv4 or IPv6 address`,
        );
      }
      const max = ip.v4 ? 32 : 128;
      let prefix = max;
      if (slash !== -1) {
        const prefixText = entry.slice(slash + 1);
        if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText)) {
          throw new TypeError(
            `Cannot parse CIDR ${JSON.stringify(entry)}: prefix ${
              JSON.stringify(prefixText)
            } is not a decimal number`,
          );
        }
        prefix = Number(prefixText);
        if (prefix > max) {
          throw new RangeError(
            `Cannot parse CIDR ${
              JSON.stringify(entry)
            }: prefix ${prefix} exceeds ${max}`,
          );
        }
      }
      const bits = ip.v4 ? prefix + 96 : prefix;
      const words = toWords(ip.bytes);
      for (let w = 0; w < 4; w++) {
        const n = Math.min(32, Math.max(0, bits - 32 * w));
        const mask = n === 0 ? 0 : (-1 << (32 - n)) | 0;
        rules[i * 8 + w] = words[w]! & mask;
        rules[i * 8 + 4 + w] = mask;
      }
      const network = new Uint8Array(16);
      for (let w = 0; w < 4; w++) {
        const v = rules[i * 8 + w]!;
        network[4 * w] = v >>> 24;
        network[4 * w + 1] = (v >>> 16) & 0xff;
        network[4 * w + 2] = (v >>> 8) & 0xff;
        network[4 * w + 3] = v & 0xff;
      }
      canonical.push(
        `${
          ip.v4 ? formatIPv4(network.subarray(12)) : formatIPv6(network)
        }/${prefix}`,
      );
    }
    this.#rules = rules;
    this.#cidrs = Object.freeze(canonical);
  }

  /**
   * The entries in canonical form, each with its prefix length.
   *
   * @returns The entries, such as `["10.0.0.0/8", "::1/128"]`.
   */
  get cidrs(): readonly string[] {
    return this.#cidrs;
  }

  /**
   * The number of entries.
   *
   * @returns The number of entries.
   */
  get size(): number {
    return this.#cidrs.length;
  }

  /**
   * Tells whether an address is in one of the networks.
   *
   * @example Usage
   * ```ts
   * import { CidrList } from "@netkit/net/proxy-protocol";
   * import { assertEquals } from "@std/assert";
   *
   * const trusted = new CidrList(["192.168.0.0/16"]);
   * assertEquals(trusted.contains("192.168.10.1"), true);
   * assertEquals(trusted.contains("not an address"), false);
   * ```
   *
   * @param address An IPv4 or IPv6 address, such as `conn.remoteAddr.hostname`.
   * @returns Whether the address is in the list; `false` for a string that
   * is not an IP address.
   */
  contains(address: string): boolean {
    if (typeof address !== "string") return false;
    const ip = parseIp(address);
    if (ip === null) return false;
    const [w0, w1, w2, w3] = toWords(ip.bytes);
    const rules = this.#rules;
    for (let r = 0; r < rules.length; r += 8) {
      if (
        (w0! & rules[r + 4]!) === rules[r] &&
        (w1! & rules[r + 5]!) === rules[r + 1] &&
        (w2! & rules[r + 6]!) === rules[r + 2] &&
        (w3! & rules[r + 7]!) === rules[r + 3]
      ) return true;
    }
    return false;
  }
}

function toWords(bytes: Uint8Array): [number, number, number, number] {
  const word = (i: number) =>
    (bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) |
    bytes[i + 3]!;
  return [word(0), word(4), word(8), word(12)];
}
