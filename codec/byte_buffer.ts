// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode ByteBuffer}: the growable buffer encoders append a message's
 * bytes to.
 *
 * @module
 */

/**
 * A growable byte buffer that encoders append to. Connections keep one per
 * socket and reuse it, so small messages queued together go out in one
 * write.
 *
 * An encoder writes either with {@linkcode ByteBuffer.append}, or into the
 * view {@linkcode ByteBuffer.reserve} returns and then
 * {@linkcode ByteBuffer.commit}s what it wrote.
 *
 * @example Usage
 * ```ts
 * import { ByteBuffer } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const buf = new ByteBuffer();
 * buf.append(new Uint8Array([1, 2]));
 * buf.reserve(1)[0] = 3;
 * buf.commit(1);
 * assertEquals(buf.bytes(), new Uint8Array([1, 2, 3]));
 * ```
 */
export class ByteBuffer {
  #buf: Uint8Array<ArrayBuffer>;
  /** The buffer of `#buf` (its views are made from it: cheaper than subarray()). */
  #ab: ArrayBuffer;
  #len = 0;

  /**
   * Constructs a new instance.
   *
   * @param capacity The initial capacity in bytes.
   */
  constructor(capacity = 1024) {
    this.#buf = new Uint8Array(capacity);
    this.#ab = this.#buf.buffer;
  }

  /** The number of bytes written. */
  get length(): number {
    return this.#len;
  }

  /** The number of bytes the buffer holds before it must grow. */
  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * Returns a view of the bytes written. The view is valid until the next
   * call that writes or clears.
   *
   * @returns The bytes written so far.
   */
  bytes(): Uint8Array {
    return new Uint8Array(this.#ab, 0, this.#len);
  }

  /**
   * Returns a view of `n` writable bytes at the end; call
   * {@linkcode ByteBuffer.commit} with how many were written.
   *
   * @param n How many bytes to make room for.
   * @returns A view of `n` bytes after the written ones.
   */
  reserve(n: number): Uint8Array {
    const need = this.#len + n;
    if (need > this.#buf.length) this.#grow(need);
    this.#reservedTo = need;
    return this.#buf.subarray(this.#len, need);
  }

  /** Where the last {@linkcode ByteBuffer.reserve}d view ends. */
  #reservedTo = 0;

  /**
   * Adds `n` bytes written into the last {@linkcode ByteBuffer.reserve}d
   * view to the length.
   *
   * @param n How many bytes were written.
   * @throws {RangeError} `n` is negative or goes past the reserved view:
   * the bytes beyond it were never written.
   */
  commit(n: number): void {
    const len = this.#len + n;
    if (!(n >= 0 && len <= this.#reservedTo)) {
      throw new RangeError(
        `Cannot commit ${n} bytes: ${
          Math.max(0, this.#reservedTo - this.#len)
        } are reserved`,
      );
    }
    this.#len = len;
  }

  /**
   * Appends bytes.
   *
   * @param bytes The bytes to append.
   */
  append(bytes: Uint8Array): void {
    const need = this.#len + bytes.length;
    if (need > this.#buf.length) this.#grow(need);
    this.#buf.set(bytes, this.#len);
    this.#len = need;
  }

  /**
   * Appends an unsigned integer of `width` bytes (the inverse of
   * `DecodeInput.readUint`), without making a view: what a length header
   * costs per message.
   *
   * @example Append a 4-byte big-endian length
   * ```ts
   * import { ByteBuffer } from "@netkit/net/codec";
   * import { assertEquals } from "@std/assert";
   *
   * const buf = new ByteBuffer();
   * buf.appendUint(258, 4);
   * buf.appendUint(258, 2, true);
   * assertEquals(buf.bytes(), new Uint8Array([0, 0, 1, 2, 2, 1]));
   * ```
   *
   * @param value The integer, at most `2^(8 × width) − 1` (and at most
   * `Number.MAX_SAFE_INTEGER`).
   * @param width 1 to 8 bytes.
   * @param littleEndian Low byte first.
   * @throws {RangeError} The value does not fit, or the width is not 1 to 8.
   */
  appendUint(value: number, width: number, littleEndian = false): void {
    if (
      width === 4 && (value >>> 0) === value ||
      (width === 1 || width === 2 || width === 3) && (value >>> 0) === value &&
        value < 1 << (8 * width)
    ) {
      // value < 2^32: 32-bit shifts are exact.
      const at = this.#len;
      const need = at + width;
      if (need > this.#buf.length) this.#grow(need);
      const b = this.#buf;
      this.#len = need;
      if (littleEndian) {
        for (let k = 0; k < width; k++) b[at + k] = value >>> (8 * k);
      } else {
        for (let k = 0; k < width; k++) b[need - 1 - k] = value >>> (8 * k);
      }
      return;
    }
    this.#appendWide(value, width, littleEndian);
  }

  /** `appendUint()` of 5 to 8 bytes, or of a value that does not fit. */
  #appendWide(value: number, width: number, littleEndian: boolean): void {
    if (
      !(width >= 5 && width <= 8 && value >= 0 && Number.isInteger(value)) ||
      value > (width < 7 ? 2 ** (8 * width) - 1 : Number.MAX_SAFE_INTEGER)
    ) {
      throw new RangeError(
        `Cannot append integer: ${value} does not fit in ${width} bytes`,
      );
    }
    const at = this.#len;
    const need = at + width;
    if (need > this.#buf.length) this.#grow(need);
    const b = this.#buf;
    this.#len = need;
    let v = value;
    for (let k = 0; k < width; k++) {
      b[littleEndian ? at + k : need - 1 - k] = v % 256;
      v = Math.floor(v / 256);
    }
  }

  /**
   * Drops the bytes written after the first `length`: what a connection
   * does when an encoder throws half-way through a message.
   *
   * @param length The length to keep.
   */
  truncate(length: number): void {
    if (length < this.#len) this.#len = Math.max(0, length);
    this.#reservedTo = 0;
  }

  /**
   * Forgets the bytes written; keeps the memory unless it grew past
   * `keep` bytes.
   *
   * @param keep The largest capacity worth keeping.
   */
  clear(keep = 1 << 20): void {
    this.#len = 0;
    this.#reservedTo = 0;
    if (this.#buf.length > keep) {
      this.#buf = new Uint8Array(keep);
      this.#ab = this.#buf.buffer;
    }
  }

  #grow(need: number): void {
    let cap = Math.max(64, this.#buf.length * 2);
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#ab = next.buffer;
  }
}
