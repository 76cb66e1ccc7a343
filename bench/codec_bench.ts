// Copyright 2026 the netkit authors. MIT license.

/**
 * Benchmarks of the codec cores.
 *
 * Each group compares a codec against a baseline that copies the same bytes
 * once per 64 KiB read with `new Uint8Array(n)` + `.set()`: the least work
 * that hands the caller bytes it owns. Every iteration moves about 1 MiB.
 *
 * The decoders run as a `StreamDecoder` fed the 64 KiB reads (frames the
 * caller owns, and borrowed views), and on a connection's read path: each
 * read copied into a `ReadBuffer`'s free space (the copy a socket read
 * makes, which the baseline does not count), then `nextFrame()`.
 * Targets: 64 KiB frames at no more than 1/0.85 of the baseline's time;
 * 10 M 64 B frames a second.
 *
 * ```sh
 * deno bench --import-map=offline/import_map.json bench/codec_bench.ts
 * ```
 *
 * @module
 */

import {
  ByteBuffer,
  type Codec,
  encodeAll,
  lengthPrefixed,
  lines,
  NEED_MORE,
  nextFrame,
  ReadBuffer,
  StreamDecoder,
  text,
} from "../codec.ts";

const MIB = 1024 * 1024;
const READ_SIZE = 64 * 1024;

/** Consumed bytes, so that no work can be optimised away. */
let sink = 0;

function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < bytes.length; k += size) {
    out.push(bytes.subarray(k, k + size));
  }
  return out;
}

/** The baseline: one owned copy per read. */
function copyReads(chunks: readonly Uint8Array[]): void {
  for (const chunk of chunks) {
    const copy = new Uint8Array(chunk.length);
    copy.set(chunk);
    sink += copy[copy.length - 1]!;
  }
}

interface Workload {
  /** The messages, about 1 MiB on the wire in all. */
  messages: Uint8Array[];
  /** Their encoding, in 64 KiB reads. */
  reads: Uint8Array[];
}

function workload(
  codec: Codec<Uint8Array>,
  frameSize: number,
  overhead: number,
): Workload {
  const count = Math.max(1, Math.floor(MIB / (frameSize + overhead)));
  const messages = Array.from({ length: count }, (_, i) => {
    const m = new Uint8Array(frameSize);
    m.fill(0x61 + i % 26);
    return m;
  });
  return { messages, reads: chunksOf(encodeAll(codec, messages), READ_SIZE) };
}

function decodeAllReads<T>(
  codec: Codec<T, unknown>,
  reads: readonly Uint8Array[],
  expected: number,
  borrow = false,
): void {
  const d = new StreamDecoder(codec, { borrow });
  let frames = 0;
  const emit = () => void frames++;
  for (const read of reads) d.decode(read, emit);
  d.finish(emit);
  if (frames !== expected) {
    throw new Error(`Decoded ${frames} frames, expected ${expected}`);
  }
  sink += frames;
}

/**
 * A connection's read path: each read lands in the read buffer's free
 * space (the copy a socket read makes), then frames are decoded from it.
 */
function readBufferReads<T>(
  codec: Codec<T, unknown>,
  reads: readonly Uint8Array[],
  expected: number,
): void {
  const d = codec.decoder();
  const buf = new ReadBuffer({ limit: d.maxBuffered });
  let frames = 0;
  for (const read of reads) {
    let off = 0;
    while (off < read.length) {
      const space = buf.space();
      const n = Math.min(space.length, read.length - off);
      space.set(read.subarray(off, off + n));
      buf.commit(n);
      off += n;
      while (nextFrame(d, buf, false) !== NEED_MORE) frames++;
    }
  }
  if (frames !== expected) {
    throw new Error(`Decoded ${frames} frames, expected ${expected}`);
  }
  sink += frames;
}

const SIZES: [string, number][] = [
  ["64 B", 64],
  ["1 KiB", 1024],
  ["64 KiB", 64 * 1024],
];

for (const [label, size] of SIZES) {
  const codec = lengthPrefixed();
  const { messages, reads } = workload(codec, size, 4);
  const count = messages.length;

  const decodeGroup = `decode lengthPrefixed() ${label} frames`;
  Deno.bench({
    name: `baseline: copy 1 MiB in 64 KiB reads (${label} frames)`,
    group: decodeGroup,
    baseline: true,
    fn: () => copyReads(reads),
  });
  Deno.bench({
    name: `lengthPrefixed() decode ${count} × ${label} from 64 KiB reads`,
    group: decodeGroup,
    fn: () => decodeAllReads(codec, reads, count),
  });
  Deno.bench({
    name:
      `lengthPrefixed() decode ${count} × ${label} from 64 KiB reads, borrowed`,
    group: decodeGroup,
    fn: () => decodeAllReads(codec, reads, count, true),
  });
  Deno.bench({
    name:
      `lengthPrefixed() ${count} × ${label}, read into a ReadBuffer + nextFrame()`,
    group: decodeGroup,
    fn: () => readBufferReads(codec, reads, count),
  });

  const encodeGroup = `encode lengthPrefixed() ${label} frames`;
  Deno.bench({
    name: `baseline: copy 1 MiB in 64 KiB reads (${label} messages)`,
    group: encodeGroup,
    baseline: true,
    fn: () => copyReads(reads),
  });
  const out = new ByteBuffer(2 * MIB);
  const encoder = codec.encoder();
  Deno.bench({
    name:
      `lengthPrefixed() encodeInto ${count} × ${label}, one reused ByteBuffer`,
    group: encodeGroup,
    fn: () => {
      out.clear(4 * MIB);
      for (const m of messages) encoder.encodeInto(m, out);
      sink += out.length;
    },
  });
  Deno.bench({
    name: `lengthPrefixed() encode ${count} × ${label}, one array each`,
    group: encodeGroup,
    fn: () => {
      for (const m of messages) sink += encoder.encode(m).length;
    },
  });
}

// The sync core's rate on small frames: one 64 B frame (68 bytes on the wire)
// per decode() call, so iter/s reads as frames per second.
{
  const codec = lengthPrefixed();
  const frames = Array.from(
    { length: 1024 },
    (_, i) => codec.encoder().encode(new Uint8Array(64).fill(i & 0xff)),
  );
  const d = new StreamDecoder(codec);
  let k = 0;
  const emit = (frame: Uint8Array) => void (sink += frame.length);
  Deno.bench({
    name:
      "lengthPrefixed() sync core, 1 × 64 B frame per decode() call (iter/s = frames/s)",
    group: "frames per second",
    fn: () => {
      d.decode(frames[k++ & 1023]!, emit);
    },
  });
  // The same frames handed over in 64 KiB reads, 1 MiB per iteration.
  const { messages, reads } = workload(codec, 64, 4);
  Deno.bench({
    name:
      `lengthPrefixed() sync core, ${messages.length} × 64 B frames per 1 MiB (frames/s = ${messages.length} × iter/s)`,
    group: "frames per second",
    fn: () => decodeAllReads(codec, reads, messages.length),
  });
}

// Lines: a delimiter scan instead of a length field.
for (const [label, size] of [["64 B", 64], ["1 KiB", 1024]] as const) {
  const codec = lines();
  // A line is `size` bytes with its LF.
  const { messages, reads } = workload(codec, size - 1, 1);
  const count = messages.length;
  const group = `decode lines() ${label} lines`;
  Deno.bench({
    name: `baseline: copy 1 MiB in 64 KiB reads (${label} lines)`,
    group,
    baseline: true,
    fn: () => copyReads(reads),
  });
  Deno.bench({
    name: `lines() decode ${count} × ${label} from 64 KiB reads`,
    group,
    fn: () => decodeAllReads(codec, reads, count),
  });
  Deno.bench({
    name: `text(lines()) decode ${count} × ${label} from 64 KiB reads`,
    group,
    fn: () => decodeAllReads(text(codec), reads, count),
  });
}

// What a frame the application keeps costs: memory nothing else writes.
// A view is what a borrowed frame costs; an array of its own, or a share of
// a larger copy, is what a kept one does (Deno allocates, and zeroes, each
// ArrayBuffer).
{
  const source = new Uint8Array(65536).fill(7);
  const group = "memory for a 1 KiB frame to keep";
  let kept: Uint8Array = source;
  Deno.bench({
    name: "a view of the read buffer (a borrowed frame)",
    group,
    baseline: true,
    fn: () => {
      kept = new Uint8Array(source.buffer, 1024, 1024);
    },
  });
  Deno.bench({
    name: "an array of its own: source.slice() of 1 KiB",
    group,
    fn: () => {
      kept = source.slice(1024, 2048);
    },
  });
  Deno.bench({
    name: "a shared copy for 64 frames: source.slice() of 64 KiB (÷ 64)",
    group,
    fn: () => {
      kept = source.slice();
    },
  });
  Deno.bench({
    name: "a copy into memory that exists: set() of 1 KiB",
    group,
    fn: () => {
      kept.set(source.subarray(0, 1024));
    },
  });
}
