// Tests for the @std/streams stand-in. They import the bare specifiers, so
// the same file runs against the stand-in (offline/import_map.json) and
// against the real @std/streams.

import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { TextLineStream, toArrayBuffer, toBytes, toText } from "@std/streams";
import fc from "fast-check";

async function lines(
  chunks: string[],
  options?: { allowCR?: boolean },
): Promise<string[]> {
  const stream = ReadableStream.from(chunks).pipeThrough(
    new TextLineStream(options),
  );
  return await Array.fromAsync(stream);
}

const LF_CASES: Array<{ name: string; chunks: string[]; lines: string[] }> = [
  { name: "a single line with a break", chunks: ["a\n"], lines: ["a"] },
  { name: "a final line without a break", chunks: ["a\nb"], lines: ["a", "b"] },
  { name: "CRLF breaks", chunks: ["a\r\nb\r\n"], lines: ["a", "b"] },
  {
    name: "a CRLF split across chunks",
    chunks: ["a\r", "\nb"],
    lines: ["a", "b"],
  },
  {
    name: "a line split across chunks",
    chunks: ["he", "ll", "o\nw"],
    lines: ["hello", "w"],
  },
  {
    name: "a chunk that is only a break",
    chunks: ["a", "\n", "b"],
    lines: ["a", "b"],
  },
  {
    name: "consecutive breaks",
    chunks: ["a\n\n\nb\n"],
    lines: ["a", "", "", "b"],
  },
  { name: "a leading break", chunks: ["\na"], lines: ["", "a"] },
  { name: "empty chunks", chunks: ["", "a", "", "\n", ""], lines: ["a"] },
  { name: "no input", chunks: [], lines: [] },
  { name: "a lone CR, which is kept", chunks: ["a\rb\n"], lines: ["a\rb"] },
  { name: "a trailing CR without a break", chunks: ["a\r"], lines: ["a\r"] },
  {
    name: "one character at a time",
    chunks: [..."ab\r\ncd\n\nx"],
    lines: ["ab", "cd", "", "x"],
  },
];

for (const { name, chunks, lines: expected } of LF_CASES) {
  Deno.test(`TextLineStream() splits ${name}`, async () => {
    assertEquals(await lines(chunks), expected);
  });
}

const CR_CASES: Array<{ name: string; chunks: string[]; lines: string[] }> = [
  { name: "a lone CR", chunks: ["a\rb\rc"], lines: ["a", "b", "c"] },
  { name: "CRLF as one break", chunks: ["a\r\nb"], lines: ["a", "b"] },
  {
    name: "a CRLF split across chunks",
    chunks: ["a\r", "\nb"],
    lines: ["a", "b"],
  },
  {
    name: "a CR at a chunk end then text",
    chunks: ["a\r", "b"],
    lines: ["a", "b"],
  },
  { name: "a trailing CR at the end of input", chunks: ["a\r"], lines: ["a"] },
  { name: "CR CR LF", chunks: ["a\r\r\nb"], lines: ["a", "", "b"] },
  {
    name: "mixed breaks one character at a time",
    chunks: [..."a\rb\nc\r\nd"],
    lines: ["a", "b", "c", "d"],
  },
];

for (const { name, chunks, lines: expected } of CR_CASES) {
  Deno.test(`TextLineStream() with allowCR splits ${name}`, async () => {
    assertEquals(await lines(chunks, { allowCR: true }), expected);
  });
}

Deno.test("TextLineStream() splits a huge chunk into many lines", async () => {
  const expected = Array.from({ length: 10_000 }, (_, i) => `line ${i}`);
  assertEquals(await lines([expected.join("\n") + "\n"]), expected);
  assertEquals(
    await lines([expected.join("\r\n")], { allowCR: true }),
    expected,
  );
});

Deno.test("TextLineStream() returns the same lines for any chunking", async () => {
  const line = fc.string({ unit: fc.constantFrom("a", "b", " ", "é", "😀") });
  await fc.assert(
    fc.asyncProperty(
      fc.array(line, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.constantFrom("\n", "\r\n"),
      async (input, cuts, eol) => {
        const text = input.map((l) => l + eol).join("");
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))]
          .sort((a, b) => a - b);
        const chunks: string[] = [];
        let start = 0;
        for (const point of [...points, text.length]) {
          chunks.push(text.slice(start, point));
          start = point;
        }
        assertEquals(await lines(chunks), input);
        assertEquals(await lines(chunks, { allowCR: true }), input);
      },
    ),
  );
});

Deno.test("toText() joins string chunks", async () => {
  assertEquals(await toText(ReadableStream.from(["ab", "", "cd"])), "abcd");
  assertEquals(await toText(ReadableStream.from<string>([])), "");
});

Deno.test("toText() decodes UTF-8 split across byte chunks", async () => {
  const bytes = new TextEncoder().encode("héllo €");
  const chunks = [...bytes].map((byte) => new Uint8Array([byte]));
  assertEquals(await toText(ReadableStream.from(chunks)), "héllo €");
});

Deno.test("toBytes() concatenates all chunks", async () => {
  const stream = ReadableStream.from([
    new Uint8Array([1, 2]),
    new Uint8Array([]),
    new Uint8Array([3]),
    new Uint8Array([4, 5, 6]).subarray(1),
  ]);
  assertEquals(await toBytes(stream), new Uint8Array([1, 2, 3, 5, 6]));
  assertEquals(
    await toBytes(ReadableStream.from<Uint8Array>([])),
    new Uint8Array(),
  );
});

Deno.test("toBytes() rejects when the stream errors", async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array([1]));
      controller.error(new RangeError("broken"));
    },
  });
  await assertRejects(() => toBytes(stream), RangeError, "broken");
});

Deno.test("toArrayBuffer() returns an ArrayBuffer of all chunks", async () => {
  const buffer = await toArrayBuffer(
    ReadableStream.from([new Uint8Array([7, 8]), new Uint8Array([9])]),
  );
  assertInstanceOf(buffer, ArrayBuffer);
  assertEquals(new Uint8Array(buffer), new Uint8Array([7, 8, 9]));
});
