// Copyright 2026 the netkit authors. MIT license.

// The RESP codecs without sockets: commands and replies in every chunking,
// Redis' inline quoting, its protocol errors and limits, and the memory a
// claimed length may make the read buffer take.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLess,
  assertThrows,
} from "@std/assert";
import fc from "fast-check";
import { ByteBuffer } from "../codec/byte_buffer.ts";
import {
  type Codec,
  decodeAll,
  nextFrame,
  StreamDecoder,
} from "../codec/decoder.ts";
import { NEED_MORE, ReadBuffer } from "../codec/read_buffer.ts";
import { DecodeError, FrameTooLargeError, UnexpectedEofError } from "../mod.ts";
import {
  INLINE_MAX,
  latin1,
  parseInteger,
  type RespArg,
  respClient,
  RespCommand,
  RespError,
  RespProtocolError,
  respServer,
  type RespServerOptions,
  type RespValue,
  splitArgs,
} from "./resp.ts";

const enc = new TextEncoder();
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const words = (cmds: RespCommand[]) => cmds.map((c) => c.words().map(latin1));
/** Replies with each error as its message: errors' stacks differ. */
const plain = (v: unknown): unknown =>
  v instanceof RespError
    ? { error: v.message }
    : Array.isArray(v)
    ? v.map(plain)
    : v;

/** The bytes whole, split in two at every offset, and one at a time. */
function* chunkings(b: Uint8Array): Generator<Uint8Array[]> {
  yield [b];
  for (let i = 1; i < b.length; i++) yield [b.subarray(0, i), b.subarray(i)];
  yield Array.from(b, (_, i) => b.subarray(i, i + 1));
}

interface Outcome<T> {
  messages: T[];
  error: Error | null;
}

/** Decodes chunks, then the end of the stream; keeps the first error. */
function run<T>(codec: Codec<T, unknown>, chunks: Uint8Array[]): Outcome<T> {
  const messages: T[] = [];
  const d = new StreamDecoder(codec);
  try {
    for (const c of chunks) d.decode(c.slice(), (m) => messages.push(m));
    d.finish((m) => messages.push(m));
    return { messages, error: null };
  } catch (error) {
    return { messages, error: error as Error };
  }
}

/** Decodes `b` in every chunking and checks each gives the same outcome. */
function everyChunking<T>(codec: Codec<T, unknown>, b: Uint8Array): Outcome<T> {
  let first: Outcome<T> | undefined;
  for (const chunks of chunkings(b)) {
    const got = run(codec, chunks);
    if (first === undefined) first = got;
    else {
      assertEquals(
        plain(got.messages),
        plain(first.messages),
        `${chunks.length} chunks`,
      );
      assertEquals(got.error?.message, first.error?.message);
      assertEquals(got.error?.constructor, first.error?.constructor);
    }
  }
  return first!;
}

/**
 * The words of the commands in `s`, decoded in every chunking, and the
 * error; with `borrow: true` (each command's words taken before the next
 * is decoded) the same.
 */
const commands = (s: string, options: RespServerOptions = {}) => {
  const { messages, error } = everyChunking(respServer(options), bytes(s));
  const got = { commands: words(messages), error };
  for (const chunks of chunkings(bytes(s))) {
    const lent = new StreamDecoder(respServer({ ...options, borrow: true }));
    const borrowed: string[][] = [];
    const take = (c: RespCommand) => borrowed.push(c.words().map(latin1));
    let failure: Error | null = null;
    try {
      for (const c of chunks) lent.decode(c.slice(), take);
      lent.finish(take);
    } catch (err) {
      failure = err as Error;
    }
    assertEquals(borrowed, got.commands, `borrowed, ${chunks.length} chunks`);
    assertEquals(failure?.message, error?.message);
  }
  return got;
};

Deno.test("respServer() decodes pipelined arrays and inline lines in every chunking", () => {
  const { commands: got, error } = commands(
    "*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$0\r\n\r\n" +
      "PING\r\n" + "get  k\n" + "*1\r\n$4\r\nPING\r\n",
  );
  assertEquals(error, null);
  assertEquals(got, [["SET", "k\r\n", ""], ["PING"], ["get", "k"], ["PING"]]);
});

Deno.test("respServer() yields nothing for empty lines and arrays of zero or fewer items", () => {
  const { commands: got } = commands(
    "\r\n\n   \r\n*0\r\n*-1\r\n*-9223372036854775808\r\nECHO x\r\n",
  );
  assertEquals(got, [["ECHO", "x"]]);
});

Deno.test("respServer() skips the two bytes after a bulk string without looking, as Redis does", () => {
  assertEquals(commands("*1\r\n$4\r\nPINGxx*1\r\n$1\r\na??").commands, [
    ["PING"],
    ["a"],
  ]);
  // So does the byte after the CR of a header line.
  assertEquals(commands("*1\rx$1\ry!\r\n").commands, [["!"]]);
});

Deno.test("respServer() splits inline lines as Redis' sdssplitargs does", () => {
  const cases: Array<[string, string[] | null]> = [
    ['set "a b" c', ["set", "a b", "c"]],
    ['"\\x41\\x7a\\n\\r\\t\\b\\a\\q\\"" x', ['Az\n\r\t\b\x07q"', "x"]],
    ['"\\x4g"', ["x4g"]], // not two hex digits: a plain escape of x
    ["'it\\'s' 'a\\nb'", ["it's", "a\\nb"]],
    ['ab"cd"', ["abcd"]], // a quote inside a word starts quoting
    ['"a"b', null], // a closing quote must be followed by a space
    ["'a'b", null],
    ['"abc', null],
    ["'abc", null],
    ['"a\\', null],
    ["a\x0bb \x0c c", ["a\x0bb", "c"]], // \v and \f: spaces between words only
    ["\xe9t\xe9", ["\xe9t\xe9"]],
    ["a\rb", ["a", "b"]],
    ["", []],
  ];
  for (const [line, want] of cases) {
    const b = bytes(line);
    const got = splitArgs(b, 0, b.length);
    assertEquals(got === null ? null : got.map(latin1), want, line);
    // The decoder splits the line the same way (words without quotes in
    // place, with them through splitArgs).
    const { commands: decoded, error } = commands(`${line}\r\nPING\r\n`);
    if (want === null) {
      assertEquals(decoded, [], line);
      assertEquals(
        error?.message,
        "Protocol error: unbalanced quotes in request",
      );
    } else {
      assertEquals(
        decoded,
        want.length > 0 ? [want, ["PING"]] : [["PING"]],
        line,
      );
    }
  }
});

Deno.test("respServer() throws Redis' protocol errors after every command before them", () => {
  const cases: Array<[string, string]> = [
    ["*x\r\n", "invalid multibulk length"],
    ["*1x\r\n", "invalid multibulk length"],
    ["*+1\r\n", "invalid multibulk length"],
    ["*01\r\n", "invalid multibulk length"],
    ["*9223372036854775808\r\n", "invalid multibulk length"],
    ["*1048577\r\n", "invalid multibulk length"],
    ["*1\r\n$-1\r\n", "invalid bulk length"],
    ["*1\r\n$x\r\n", "invalid bulk length"],
    ["*1\r\n$8388609\r\n", "invalid bulk length"],
    ["*1\r\nPING\r\n", "expected '$', got 'P'"],
    ["*1\r\n\r\n", "expected '$', got ' '"],
    ["*1\r\n\n\r\n", "expected '$', got ' '"],
    ["*1\r\n\xff\r\n", "expected '$', got '\xff'"],
    ['SET a "b\r\n', "unbalanced quotes in request"],
  ];
  for (const [bad, text] of cases) {
    const { commands: got, error } = commands(
      `PING\r\n*1\r\n$1\r\na\r\n${bad}PING\r\n`,
    );
    assertEquals(got, [["PING"], ["a"]], bad);
    assertInstanceOf(error, RespProtocolError, bad);
    assertEquals(error.message, `Protocol error: ${text}`, bad);
    assertEquals(error.offset, 17, bad); // the bytes of the two good commands
  }
});

Deno.test("respServer() treats a NUL byte as Redis' strchr does: the line has not ended", () => {
  // Redis waits for more, so the stream ends inside a command.
  for (const s of ["PING\0\r\n", "*1\0\r\n", "*1\r\n$1\0\r\na\r\n"]) {
    const { error } = commands(s);
    assertInstanceOf(error, UnexpectedEofError, JSON.stringify(s));
    assertEquals(error.remaining, s.length);
  }
});

Deno.test("respServer() refuses a line past 64 KiB without its end, as Redis does", () => {
  // Lines of INLINE_MAX + 1 bytes from where each begins.
  const long = "x".repeat(INLINE_MAX);
  const cases: Array<[string, string]> = [
    [`x${long}`, "too big inline request"],
    [`*${long}`, "too big mbulk count string"],
    [`*1\r\n$${long}`, "too big bulk count string"],
  ];
  for (const [s, text] of cases) {
    const { messages, error } = run(respServer(), [bytes("PING\r\n" + s)]);
    assertEquals(messages.length, 1);
    assertInstanceOf(error, RespProtocolError);
    assertEquals(error.message, `Protocol error: ${text}`);
    // One byte less is not an error yet: the line may still end.
    const shorter = run(respServer(), [bytes(s.slice(0, -1))]);
    assertInstanceOf(shorter.error, UnexpectedEofError);
  }
  // A line of 64 KiB that ends is a command.
  const inline = run(respServer(), [
    bytes(`ECHO ${"y".repeat(INLINE_MAX - 7)}\r\n`),
  ]);
  assertEquals(inline.messages[0]?.word(1)?.length, INLINE_MAX - 7);
});

Deno.test("respServer() bounds bulk strings and arguments as configured", () => {
  const codec = { maxBulkLength: 3, maxArgs: 2 };
  assertEquals(commands("*2\r\n$3\r\nabc\r\n$0\r\n\r\n", codec).commands, [[
    "abc",
    "",
  ]]);
  assertEquals(
    commands("*1\r\n$4\r\nabcd\r\n", codec).error?.message,
    "Protocol error: invalid bulk length",
  );
  assertEquals(
    commands("*3\r\n", codec).error?.message,
    "Protocol error: invalid multibulk length",
  );
  assertThrows(() => respServer({ maxBulkLength: 0 }), RangeError);
});

Deno.test("respServer() refuses a command over maxCommandLength with FrameTooLargeError", () => {
  const codec = respServer({ maxBulkLength: 100, maxCommandLength: 300 });
  const arg = "$100\r\n" + "z".repeat(100) + "\r\n";
  // In reads of 50 bytes: a read buffer holds its bound and one read.
  const reads = (s: string) =>
    Array.from(
      { length: Math.ceil(s.length / 50) },
      (_, i) => bytes(s.slice(i * 50, i * 50 + 50)),
    );
  assertEquals(run(codec, reads("*2\r\n" + arg + arg)).messages.length, 1);
  const { messages, error } = run(
    codec,
    reads("PING\r\n*9\r\n" + arg.repeat(9)),
  );
  assertEquals(messages.length, 1);
  assertInstanceOf(error, FrameTooLargeError);
});

Deno.test("respServer() discards what follows a protocol error", () => {
  const d = new StreamDecoder(respServer());
  const got: RespCommand[] = [];
  assertThrows(
    () => d.decode(bytes("PING\r\n*x\r\nPING\r\n"), (m) => got.push(m)),
    RespProtocolError,
  );
  d.decode(bytes("PING\r\n*1\r\n$4\r\nPING\r\n"), (m) => got.push(m));
  assertEquals(d.buffered, 0);
  d.finish((m) => got.push(m));
  assertEquals(words(got), [["PING"]]);
});

Deno.test("respServer() ends the stream inside a command with UnexpectedEofError", () => {
  const { commands: got, error } = commands(
    "PING\r\n*2\r\n$3\r\nGET\r\n$1\r\n",
  );
  assertEquals(got, [["PING"]]);
  assertInstanceOf(error, UnexpectedEofError);
  assertEquals(error.remaining, 17);
});

/**
 * Feeds a decoder as a connection does: reads into the read buffer's free
 * space, decodes what is whole; returns the most memory the buffer held.
 */
function connectionLike(
  codec: Codec<unknown, unknown>,
  chunks: Uint8Array[],
): { capacity: number; frames: unknown[] } {
  const decoder = codec.decoder();
  const buf = new ReadBuffer({ limit: decoder.maxBuffered });
  const frames: unknown[] = [];
  let capacity = 0;
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length;) {
      const space = buf.space();
      const n = Math.min(space.length, chunk.length - at);
      space.set(chunk.subarray(at, at + n));
      buf.commit(n);
      at += n;
      capacity = Math.max(capacity, buf.capacity);
      for (
        let f = nextFrame(decoder, buf, false);
        f !== NEED_MORE;
        f = nextFrame(decoder, buf, false)
      ) {
        frames.push(f);
      }
    }
  }
  return { capacity, frames };
}

Deno.test("respServer() never makes the read buffer take a claimed length before its bytes come", () => {
  const codec = respServer({ maxBulkLength: 512 * 1024 * 1024 });
  const claim = bytes("*1\r\n$536870912\r\n");
  const { capacity } = connectionLike(codec, [claim, new Uint8Array(1000)]);
  assertLess(capacity, 256 * 1024);
  // Bytes that come are still read in large steps.
  const value = new Uint8Array(3 * 1024 * 1024).fill(0x61);
  const whole = connectionLike(codec, [
    bytes(`*1\r\n$${value.length}\r\n`),
    value,
    bytes("\r\n"),
  ]);
  assertEquals(whole.frames.length, 1);
  assertEquals((whole.frames[0] as RespCommand).word(0)!.length, value.length);
  assertLess(whole.capacity, 8 * 1024 * 1024);
});

Deno.test("respServer() command arguments are copies the next read cannot change", () => {
  const decoder = respServer().decoder();
  const buf = new ReadBuffer();
  buf.append(bytes("*2\r\n$3\r\nSET\r\n$1\r\nk\r\n"));
  const cmd = nextFrame(decoder, buf, false) as RespCommand;
  buf.data.fill(0x21);
  assertEquals(words([cmd]), [["SET", "k"]]);
});

Deno.test("respServer({ borrow: true }) gives one command object, in the read buffer; a line with quotes is built", () => {
  const decoder = respServer({ borrow: true }).decoder();
  const buf = new ReadBuffer();
  buf.append(
    bytes('*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO plain\r\nECHO "quo ted"\r\n'),
  );
  const array = nextFrame(decoder, buf, false) as RespCommand;
  assertEquals(words([array]), [["GET", "k"]]);
  assert(array.data === buf.data);
  const inline = nextFrame(decoder, buf, false) as RespCommand;
  assert(inline === array); // pointed at the next command
  assertEquals(words([inline]), [["ECHO", "plain"]]);
  assert(inline.data === buf.data);
  const quoted = nextFrame(decoder, buf, false) as RespCommand;
  assertEquals(words([quoted]), [["ECHO", "quo ted"]]);
  assert(quoted.data !== buf.data);
  // Without borrow, each command is its own, and none is in the read buffer.
  const copying = respServer().decoder();
  buf.append(bytes("*1\r\n$4\r\nPING\r\nECHO x\r\n"));
  const a = nextFrame(copying, buf, false) as RespCommand;
  const b = nextFrame(copying, buf, false) as RespCommand;
  buf.data.fill(0x21);
  assertEquals(words([a, b]), [["PING"], ["ECHO", "x"]]);
  assert(
    a.data.buffer !== buf.data.buffer && b.data.buffer !== buf.data.buffer,
  );
});

Deno.test("RespCommand gives its words in place and as views", () => {
  const data = bytes("..SET.k.value");
  const cmd = new RespCommand(data, [2, 5, 6, 7, 8, 13]);
  assertEquals(cmd.length, 3);
  assertEquals([cmd.start(1), cmd.end(1)], [6, 7]);
  assertEquals(cmd.words().map(latin1), ["SET", "k", "value"]);
  assertEquals(cmd.word(2)!.buffer, data.buffer);
  assertEquals(cmd.word(3), undefined);
  const built = RespCommand.from([bytes("a"), bytes(""), bytes("bc")]);
  assertEquals(built.words().map(latin1), ["a", "", "bc"]);
  assertEquals(latin1(built.data), "abc");
});

// ---------------------------------------------------------------------------

Deno.test("parseInteger() accepts what Redis' string2ll accepts, and nothing else", () => {
  const cases: Array<[string, number]> = [
    ["0", 0],
    ["7", 7],
    ["-7", -7],
    ["1234567890", 1234567890],
    ["9223372036854775807", 9223372036854775807],
    ["-9223372036854775808", -9223372036854775808],
    ["9223372036854775808", NaN],
    ["-9223372036854775809", NaN],
    ["19223372036854775807", NaN],
    ["", NaN],
    ["-", NaN],
    ["-0", NaN],
    ["00", NaN],
    ["01", NaN],
    ["+1", NaN],
    [" 1", NaN],
    ["1 ", NaN],
    ["1.5", NaN],
    ["0x10", NaN],
  ];
  for (const [s, want] of cases) {
    const b = bytes(s);
    assertEquals(parseInteger(b, 0, b.length), want, s);
  }
});

// ---------------------------------------------------------------------------
// Replies

const replies = (s: string) => everyChunking(respClient(), bytes(s));

Deno.test("respClient() decodes every RESP2 reply type in every chunking", () => {
  const { messages, error } = replies(
    "+OK\r\n-ERR no such key\r\n:-42\r\n:9223372036854775807\r\n$5\r\nhe\r\no\r\n$0\r\n\r\n$-1\r\n" +
      "*3\r\n:1\r\n*2\r\n+a\r\n$-1\r\n*0\r\n*-1\r\n*0\r\n+\xe9\r\n",
  );
  assertEquals(error, null);
  assertEquals(plain(messages), [
    "OK",
    { error: "ERR no such key" },
    -42,
    9223372036854775807n,
    bytes("he\r\no"),
    new Uint8Array(0),
    null,
    [1, ["a", null], []],
    null,
    [],
    "\xe9",
  ]);
  const e = messages[1];
  assertInstanceOf(e, RespError);
  assertEquals([e.code, e.message], ["ERR", "ERR no such key"]);
});

Deno.test("respClient() refuses replies that are not RESP2 with a DecodeError", () => {
  const cases: Array<[string, string]> = [
    ["!x\r\n", "type byte 0x21 is not one of + - : $ *"],
    [":1.5\r\n", '":1.5" is not an integer'],
    ["$-2\r\n", "length -2 is out of range"],
    ["*-2\r\n", "length -2 is out of range"],
    ["$1\r\nab\r\n", "a bulk string does not end in CR LF"],
    ["+OK\rX", "a line ends in CR without LF"],
  ];
  for (const [bad, why] of cases) {
    const { messages, error } = replies(`:1\r\n${bad}`);
    assertEquals(messages, [1], bad);
    assertInstanceOf(error, DecodeError, bad);
    assertEquals(error.message, `Cannot decode RESP reply: ${why}`, bad);
  }
});

Deno.test("respClient() bounds lines, bulk strings, replies and nesting", () => {
  const line = run(respClient(), [bytes("+" + "a".repeat(INLINE_MAX + 1))]);
  assertEquals(
    line.error?.message,
    "Cannot decode RESP reply: a line is over 65536 bytes",
  );
  const bulk = run(respClient({ maxBulkLength: 4 }), [bytes("$5\r\n")]);
  assertEquals(
    bulk.error?.message,
    "Cannot decode RESP reply: bulk length 5 exceeds maxBulkLength 4",
  );
  const codec = respClient({ maxReplyLength: 30 });
  assertEquals(
    run(codec, [bytes("*2\r\n$3\r\nabc\r\n$3\r\nabc\r\n")]).messages.length,
    1,
  );
  const big = run(codec, [
    bytes(":0\r\n*3\r\n$3\r\nabc\r\n$3\r\nabc\r\n$3\r\nabc\r\n"),
  ]);
  assertEquals(big.messages, [0]);
  assertInstanceOf(big.error, FrameTooLargeError);
  const deep = run(respClient({ maxDepth: 3 }), [
    bytes("*1\r\n".repeat(3) + ":1\r\n"),
  ]);
  assertEquals(deep.messages, [[[[1]]]]);
  const deeper = run(respClient({ maxDepth: 3 }), [bytes("*1\r\n".repeat(4))]);
  assertEquals(
    deeper.error?.message,
    "Cannot decode RESP reply: arrays nest deeper than 3",
  );
});

Deno.test("respClient() does not make the read buffer take a claimed bulk length", () => {
  const { capacity } = connectionLike(respClient(), [
    bytes("$500000000\r\n"),
    new Uint8Array(1000),
  ]);
  assertLess(capacity, 256 * 1024);
});

// ---------------------------------------------------------------------------
// Encoders, and decode(encode(m)) = m

Deno.test("respServer() encodes every reply type as redis-server writes it", () => {
  const e = respServer().encoder();
  const text = (v: RespValue) => latin1(e.encode(v));
  assertEquals(text("OK"), "+OK\r\n");
  assertEquals(text(new RespError("ERR bad \xff")), "-ERR bad \xff\r\n");
  assertEquals(text(-3), ":-3\r\n");
  assertEquals(text(-9223372036854775808n), ":-9223372036854775808\r\n");
  assertEquals(text(bytes("a\r\nb")), "$4\r\na\r\nb\r\n");
  assertEquals(text(null), "$-1\r\n");
  assertEquals(
    text([bytes("x"), [], null, 0]),
    "*4\r\n$1\r\nx\r\n*0\r\n$-1\r\n:0\r\n",
  );
});

Deno.test("respServer() encoder refuses a value it cannot write and leaves the buffer as it was", () => {
  const e = respServer().encoder();
  const bad: unknown[] = [
    "a\r\nb",
    new RespError("x\ny"),
    "\u0100",
    1.5,
    2 ** 60,
    [bytes("ok"), undefined],
    {},
  ];
  for (const v of bad) {
    const out = new ByteBuffer();
    out.append(bytes("+before\r\n"));
    assertThrows(() => e.encodeInto(v as RespValue, out), TypeError);
    assertEquals(latin1(out.bytes()), "+before\r\n");
  }
});

Deno.test("respClient() encodes commands as arrays of bulk strings, strings as UTF-8", () => {
  const e = respClient().encoder();
  assertEquals(
    latin1(e.encode(["SET", "\u00e9", bytes("\0"), 12, -5n])),
    "*5\r\n$3\r\nSET\r\n$2\r\n\xc3\xa9\r\n$1\r\n\0\r\n$2\r\n12\r\n$2\r\n-5\r\n",
  );
  const out = new ByteBuffer();
  assertThrows(() => e.encodeInto(["A", {} as RespArg], out), TypeError);
  assertEquals(out.length, 0);
});

const byteString = fc.uint8Array({ maxLength: 40 });

Deno.test("respServer() decodes any commands the client encodes, in any chunking", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(byteString, { minLength: 1, maxLength: 6 }), {
        maxLength: 8,
      }),
      fc.array(fc.integer({ min: 1, max: 64 }), {
        minLength: 1,
        maxLength: 20,
      }),
      (cmds, cuts) => {
        const wire = respClient().encoder();
        const out = new ByteBuffer();
        for (const c of cmds) wire.encodeInto(c, out);
        const all = out.bytes();
        const chunks: Uint8Array[] = [];
        for (let at = 0, i = 0; at < all.length; i++) {
          const n = cuts[i % cuts.length]!;
          chunks.push(all.subarray(at, at + n));
          at += n;
        }
        assertEquals(
          decodeAll(respServer(), chunks).map((c) => c.words()),
          cmds,
        );
      },
    ),
  );
});

const replyValue: fc.Arbitrary<RespValue> =
  fc.letrec<{ v: RespValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.string({
        unit: fc.integer({ min: 0, max: 255 }).filter((c) =>
          c !== 10 && c !== 13
        ).map((c) => String.fromCharCode(c)),
      }),
      fc.string().filter((s) => !/[\r\n\u0100-\uffff]/.test(s))
        .map((s) => new RespError(s)),
      fc.maxSafeInteger(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).filter((n) =>
        n < -(2n ** 53n) || n > 2n ** 53n
      ),
      byteString,
      fc.constant(null),
      fc.array(tie("v"), { maxLength: 4 }),
    ),
  })).v;

Deno.test("respClient() decodes any reply the server encodes, in any chunking", () => {
  fc.assert(
    fc.property(
      fc.array(replyValue, { maxLength: 6 }),
      fc.integer({ min: 1, max: 16 }),
      (values, cut) => {
        const wire = respServer().encoder();
        const out = new ByteBuffer();
        for (const v of values) wire.encodeInto(v, out);
        const all = out.bytes();
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < all.length; at += cut) {
          chunks.push(
            all.subarray(at, at + cut),
          );
        }
        assertEquals(plain(decodeAll(respClient(), chunks)), plain(values));
      },
    ),
  );
});

Deno.test("respServer() and respClient() name their codecs", () => {
  assertEquals([respServer().name, respClient().name], [
    "respServer",
    "respClient",
  ]);
  assertEquals(enc.encode("x").length, 1);
});
