// Copyright 2026 the netkit authors. MIT license.
// Private byte helpers shared by the codecs and the connection.

/** An empty byte array, shared. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * A copy of `a[from..to)` in memory of its own. A Node `Buffer`'s `slice()`
 * is a view of the same memory, not a copy: a chunk from `node:net` or
 * `node:fs` must not end up shared with a frame.
 */
export function copyBytes(
  a: Uint8Array,
  from = 0,
  to: number = a.length,
): Uint8Array {
  return a.constructor === Uint8Array
    ? a.slice(from, to)
    : new Uint8Array(a.subarray(from, to));
}

/** Concatenates two byte arrays into a new one. */
export function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return copyBytes(b);
  if (b.length === 0) return copyBytes(a);
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Concatenates byte arrays into a new one. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Index of `needle` in `hay` at or after `from`, or -1. */
export function indexOfSequence(
  hay: Uint8Array,
  needle: Uint8Array,
  from: number,
): number {
  const n = needle.length;
  const first = needle[0]!;
  const last = hay.length - n;
  let i = hay.indexOf(first, from);
  while (i !== -1 && i <= last) {
    let k = 1;
    while (k < n && hay[i + k] === needle[k]) k++;
    if (k === n) return i;
    i = hay.indexOf(first, i + 1);
  }
  return -1;
}

/** Whether `a[aStart..aStart+len)` equals `b[bStart..bStart+len)`. */
export function rangeEquals(
  a: Uint8Array,
  aStart: number,
  b: Uint8Array,
  bStart: number,
  len: number,
): boolean {
  for (let k = 0; k < len; k++) {
    if (a[aStart + k] !== b[bStart + k]) return false;
  }
  return true;
}
