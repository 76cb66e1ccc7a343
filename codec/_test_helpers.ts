// Copyright 2026 the netkit authors. MIT license.
// Helpers shared by the codec test files (not part of the package).

import { assert } from "@std/assert";
import fc from "fast-check";
import { concat as concatBytes } from "../_bytes.ts";
import { type Codec, StreamDecoder } from "./decoder.ts";
import type { ReadBuffer } from "./read_buffer.ts";

export const utf8 = new TextEncoder();
export const EMPTY = new Uint8Array(0);
export const NUM_RUNS = 200;

/** UTF-8 bytes of a string. */
export function b(s: string): Uint8Array {
  return utf8.encode(s);
}

/** Bytes from hex pairs separated by spaces: `"00 0a ff"`. */
export function hex(s: string): Uint8Array {
  const parts = s.trim().split(/\s+/).filter((p) => p.length > 0);
  return Uint8Array.from(parts, (p) => {
    assert(/^[0-9a-f]{2}$/i.test(p), `bad hex byte ${p}`);
    return parseInt(p, 16);
  });
}

/** Hex pairs separated by spaces, for readable failure messages. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** Reads `bytes` into a read buffer as a socket would, a `space()` at a time. */
export function readInto(buf: ReadBuffer, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    const space = buf.space();
    const n = Math.min(space.length, bytes.length - off);
    space.set(bytes.subarray(off, off + n));
    buf.commit(n);
    off += n;
  }
}

/** `n` bytes of lower-case letters, starting at letter `seed`. */
export function letters(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = 0x61 + (seed + k) % 26;
  return out;
}

/** Cuts `bytes` at the given points (sorted copies; repeats give empty chunks). */
export function cutAt(
  bytes: Uint8Array,
  points: readonly number[],
): Uint8Array[] {
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
export function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < bytes.length; k += size) {
    out.push(bytes.slice(k, k + size));
  }
  return out;
}

/** Named ways to cut `bytes`: whole, every single split point, bytewise, by 3. */
export function* chunkings(
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

export interface Collected<T> {
  frames: T[];
  errors: unknown[];
  decoder: StreamDecoder<T>;
}

/**
 * Feeds chunks to a new decoder, recording every frame and every error
 * (after an error it goes on with the next chunk), then finishes.
 */
export function collect<T>(
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
export function accepts<T>(codec: Codec<unknown, T>, message: T): boolean {
  try {
    codec.encoder().encode(message);
    return true;
  } catch (err) {
    if (err instanceof TypeError) return false;
    throw err;
  }
}

/** Arbitrary cut points; mapped into range by {@linkcode cutBy}. */
export const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

export function cutBy(
  bytes: Uint8Array,
  cuts: readonly number[],
): Uint8Array[] {
  return cutAt(bytes, cuts.map((c) => c % (bytes.length + 1)));
}

/** Byte arrays over a small alphabet, so delimiters and CRs turn up often. */
export function bytesOver(
  alphabet: readonly number[],
  maxLength = 40,
): fc.Arbitrary<Uint8Array> {
  return fc.array(fc.constantFrom(...alphabet), { maxLength })
    .map((xs) => Uint8Array.from(xs));
}
