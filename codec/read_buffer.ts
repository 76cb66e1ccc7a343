// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode ReadBuffer}: the one bounded read buffer of a connection (or of
 * a stream decoder), and {@linkcode DecodeInput}, the face of it that a
 * {@linkcode Decoder} sees.
 *
 * ```text
 *  data: ┌──────────────┬──────────────────────┬───────────────┐
 *        │  consumed    │  unread (the input)  │  free         │
 *        └──────────────┴──────────────────────┴───────────────┘
 *        0            start                   end          data.length
 * ```
 *
 * A decoder reads the unread bytes and consumes the front of them with
 * {@linkcode DecodeInput.take} or {@linkcode DecodeInput.skip}; the owner
 * appends what the socket delivers at `end`. Bytes move (the unread part is
 * copied to the front, or into a larger array) only when the owner makes
 * room for a read — never while a decoder runs — so a view returned by
 * `take()` stays valid until the owner reads again.
 *
 * @module
 */

import { copyBytes } from "../_bytes.ts";
import { FrameTooLargeError } from "../errors.ts";

/**
 * What {@linkcode Decoder.decode} returns when the bytes buffered so far
 * hold no whole frame: the owner reads more and calls it again.
 */
export const NEED_MORE: unique symbol = Symbol("netkit.needMore");

/** The type of {@linkcode NEED_MORE}. */
export type NeedMore = typeof NEED_MORE;

/**
 * The bytes a {@linkcode Decoder} decodes from: the unread bytes of a
 * connection's read buffer. The decoder consumes a frame's bytes with
 * {@linkcode DecodeInput.take} (a view) or {@linkcode DecodeInput.skip}.
 *
 * For speed, the unread bytes are also given as `data[start..end)`: the
 * built-in framings index `data` directly instead of making a view per
 * frame.
 */
export interface DecodeInput {
  /**
   * The buffer's whole array; the unread bytes are `data[start..end)`. A
   * decoder reads it and never writes to it: it may be the caller's chunk.
   */
  readonly data: Uint8Array;
  /** Index in `data` of the first unread byte. */
  readonly start: number;
  /** Index in `data` after the last unread byte. */
  readonly end: number;
  /** How many bytes are unread (`end - start`). */
  readonly length: number;
  /** Whether the stream has ended: no more bytes will come. */
  readonly eof: boolean;
  /** Bytes consumed over the whole stream, for error offsets. */
  readonly consumed: number;
  /** A view of the unread bytes (a new view per call). */
  readonly bytes: Uint8Array;
  /**
   * The unread byte at `offset`, or `undefined` past the end.
   *
   * @param offset Bytes after the first unread one.
   */
  at(offset: number): number | undefined;
  /**
   * Where a byte or a byte sequence occurs in the unread bytes.
   *
   * @param value A byte, or a sequence of bytes.
   * @param from The offset to search from.
   * @returns The offset of its first occurrence at or after `from`, or -1.
   */
  indexOf(value: number | Uint8Array, from?: number): number;
  /**
   * Reads an unsigned big- or little-endian integer of `width` bytes at
   * `offset` in the unread bytes (which must hold it).
   *
   * @param offset Bytes after the first unread one.
   * @param width 1, 2, 3, 4, 6 or 8 bytes (an 8-byte value above
   * `Number.MAX_SAFE_INTEGER` gives a number above it, which limits catch).
   * @param littleEndian Low byte first.
   */
  readUint(offset: number, width: number, littleEndian?: boolean): number;
  /**
   * Consumes `n` bytes and returns them as a view. The view is valid until
   * the owner reads again (it never moves bytes while a decoder runs); the
   * owner copies a byte frame for a consumer that keeps it.
   *
   * @param n How many bytes.
   * @returns The view.
   */
  take(n: number): Uint8Array;
  /**
   * Consumes `n` bytes and returns a copy of them: for parts of a frame
   * that a message keeps (the items of a RESP array, say).
   *
   * @param n How many bytes.
   * @returns A new array.
   */
  copy(n: number): Uint8Array;
  /**
   * Consumes `n` bytes without returning them.
   *
   * @param n How many bytes.
   */
  skip(n: number): void;
  /**
   * Says that no whole frame is buffered, and how many unread bytes the
   * next frame needs in all, when the decoder knows (a length header read):
   * the owner then makes room for the whole frame at once.
   *
   * @param total The unread bytes the frame needs, header included.
   * @returns {@linkcode NEED_MORE}, for `return input.needMore(n)`.
   */
  needMore(total?: number): NeedMore;
}

/** Options for {@linkcode ReadBuffer}. */
export interface ReadBufferOptions {
  /**
   * The most unread bytes the buffer holds: a decoder that needs more than
   * this for one frame fails with {@linkcode FrameTooLargeError}.
   *
   * @default {8454144 (8 MiB + 64 KiB)}
   */
  limit?: number | undefined;
  /**
   * The size of the first read, and the least a read shrinks to when
   * reads stop filling their space.
   *
   * @default {2048}
   */
  minRead?: number;
  /**
   * The largest read the buffer grows to while reads fill it.
   *
   * @default {65536}
   */
  maxRead?: number;
}

/** The default bound of a read buffer: 8 MiB frames with their header. */
export const DEFAULT_READ_LIMIT: number = 8 * 1024 * 1024 + 65536;

const EMPTY = new Uint8Array(0);

/**
 * The largest read after a read that did not fill its space: a connection
 * that goes quiet waits on at most this much memory.
 */
const QUIET_READ = 16384;

/**
 * How far ahead of the bytes buffered the buffer grows for a frame whose
 * size a decoder announced (`needMore(total)`): a header that claims 8 MiB
 * costs at most this much (or as much again as is buffered) until its
 * bytes arrive.
 */
const GROW_AHEAD = 65536;

/**
 * How many bytes {@linkcode ReadBuffer.own} copies at once for frames to
 * share: a frame a consumer keeps keeps at most this much alive beside it.
 */
const SHARED_COPY = 65536;

/**
 * The smallest frame whose memory {@linkcode ReadBuffer.handOver} gives
 * away instead of copying.
 */
const HAND_OVER_MIN = 262144;

/** The largest frame that shares a copy with the frames after it. */
const SHARED_FRAME_MAX = 4096;

/**
 * The arrays that read buffers gave back when they went quiet, shared by
 * every read buffer of the process and bounded in bytes: a connection
 * that moves bursts takes a large array back when its next burst comes
 * instead of allocating one, while a quiet connection waits on a small
 * one. (Netty pools its read buffers for the same reason.) Only a socket
 * read's buffer (`space()`) gives and takes; bytes in a spare array are
 * never seen again, since a buffer only exposes the bytes it read.
 */
const spareArrays = {
  arrays: [] as Uint8Array[],
  bytes: 0,
  /** The most bytes kept for reuse. */
  MAX_BYTES: 4 * 1024 * 1024,
  /** The smallest array worth keeping. */
  MIN_LENGTH: 32768,
  give(array: Uint8Array): void {
    if (
      array.length < this.MIN_LENGTH ||
      this.bytes + array.length > this.MAX_BYTES
    ) return;
    this.arrays.push(array);
    this.bytes += array.length;
  },
  /**
   * An array of at least `min` bytes and not much more (at most twice as
   * many, and at most `max`), if one is kept.
   */
  take(min: number, max: number): Uint8Array | undefined {
    const arrays = this.arrays;
    const most = Math.min(2 * min, max);
    for (let i = arrays.length - 1; i >= 0; i--) {
      const a = arrays[i]!;
      if (a.length >= min && a.length <= most) {
        arrays[i] = arrays[arrays.length - 1]!;
        arrays.pop();
        this.bytes -= a.length;
        return a;
      }
    }
    return undefined;
  },
};

/** What waits for a read buffer's memory (see {@linkcode ReadBuffer.space}). */
export interface ReleaseWaiter {
  /** The writers are done with the memory: the read may go on. */
  released(): void;
}

/**
 * The read buffer each array that a borrowed frame was a view of belongs
 * to: a connection's writer asked to send such a view finds the buffer
 * whose memory it is, to write the view from where it is instead of
 * copying it (see {@linkcode ReadBuffer.pin}).
 */
const owners = new WeakMap<ArrayBufferLike, ReadBuffer>();

/**
 * A bounded byte buffer that a socket reads into and a decoder consumes
 * from: the accumulation that netkit owns so that a decoder only parses.
 *
 * Reads adapt their size: a read that fills its space makes the next four
 * times as large (up to `maxRead`), so a burst that overflows the first
 * read is taken whole by the second and its replies go out in one write;
 * reads that use less than a quarter halve it (down to
 * `minRead`), and after a read that did not fill its space the next is at
 * most 16 KiB: a connection that goes quiet waits on little memory, and
 * the memory a large frame needed is let go once the frame is consumed.
 *
 * @example Decode from a read buffer by hand
 * ```ts
 * import { ReadBuffer } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const buf = new ReadBuffer();
 * buf.append(new TextEncoder().encode("PING\r\nPI"));
 * const at = buf.indexOf(new TextEncoder().encode("\r\n"));
 * assertEquals(new TextDecoder().decode(buf.take(at)), "PING");
 * buf.skip(2);
 * assertEquals(buf.length, 2);
 * ```
 */
export class ReadBuffer implements DecodeInput {
  /** The buffer's array; the unread bytes are `data[start..end)`. */
  data: Uint8Array = EMPTY;
  /** Index of the first unread byte. */
  start = 0;
  /** Index after the last unread byte. */
  end = 0;
  /** Whether the stream has ended. */
  eof = false;
  #limit: number;
  readonly #minRead: number;
  readonly #maxRead: number;
  /** The size of the next read while reads fill their space. */
  #readSize: number;
  /** The last read filled its space: the peer has more to send. */
  #busy = false;
  /** Unread bytes the frame in progress needs, from `needMore()`. */
  #want = 0;
  /** Bytes consumed before `start` over the whole stream. */
  #consumedBefore = 0;

  /**
   * Constructs a new instance.
   *
   * @param options The bound and the read sizes.
   */
  constructor(options: ReadBufferOptions = {}) {
    const {
      limit = DEFAULT_READ_LIMIT,
      minRead = 2048,
      maxRead = 65536,
    } = options;
    for (
      const [name, value] of [["limit", limit], ["minRead", minRead], [
        "maxRead",
        maxRead,
      ]] as const
    ) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(
          `Cannot create read buffer: ${name} must be a positive integer, received ${value}`,
        );
      }
    }
    this.#limit = limit;
    this.#minRead = minRead;
    this.#maxRead = Math.max(minRead, maxRead);
    this.#readSize = minRead;
  }

  /**
   * The most unread bytes held. A connection that switches codec sets it
   * to the new decoder's bound: the bytes buffered stay.
   *
   * @throws {RangeError} Set to a value that is not a positive integer.
   */
  get limit(): number {
    return this.#limit;
  }

  set limit(value: number) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot set read buffer limit: it must be a positive integer, received ${value}`,
      );
    }
    this.#limit = value;
  }

  /** How many bytes are unread. */
  get length(): number {
    return this.end - this.start;
  }

  /** The array's size: what the buffer holds in memory. */
  get capacity(): number {
    return this.data.length;
  }

  /** Bytes consumed over the whole stream. */
  get consumed(): number {
    return this.#consumedBefore + this.start;
  }

  /** A view of the unread bytes. */
  get bytes(): Uint8Array {
    return this.data.subarray(this.start, this.end);
  }

  /**
   * The unread byte at `offset`, or `undefined` past the end.
   *
   * @param offset Bytes after the first unread one.
   * @returns The byte.
   */
  at(offset: number): number | undefined {
    const i = this.start + offset;
    return offset >= 0 && i < this.end ? this.data[i] : undefined;
  }

  /**
   * Where a byte or a byte sequence occurs in the unread bytes.
   *
   * @param value A byte, or a non-empty sequence of bytes.
   * @param from The offset to search from.
   * @returns The offset of its first occurrence at or after `from`, or -1.
   */
  indexOf(value: number | Uint8Array, from = 0): number {
    const data = this.data;
    const start = this.start;
    const end = this.end;
    if (typeof value === "number") {
      const i = data.subarray(0, end).indexOf(value, start + from);
      return i === -1 ? -1 : i - start;
    }
    const n = value.length;
    if (n === 0) return Math.min(from, end - start);
    const first = value[0]!;
    const last = end - n;
    let i = data.subarray(0, end).indexOf(first, start + from);
    while (i !== -1 && i <= last) {
      let k = 1;
      while (k < n && data[i + k] === value[k]) k++;
      if (k === n) return i - start;
      i = data.indexOf(first, i + 1);
      if (i >= end) return -1;
    }
    return -1;
  }

  /**
   * Reads an unsigned integer of `width` bytes at `offset`.
   *
   * @param offset Bytes after the first unread one.
   * @param width 1 to 8 bytes.
   * @param littleEndian Low byte first.
   * @returns The value.
   * @throws {RangeError} The unread bytes do not hold it.
   */
  readUint(offset: number, width: number, littleEndian = false): number {
    const at = this.start + offset;
    if (offset < 0 || at + width > this.end || width < 1 || width > 8) {
      throw new RangeError(
        `Cannot read integer: ${width} bytes at offset ${offset} are not buffered (${this.length} unread)`,
      );
    }
    const d = this.data;
    let v = 0;
    if (littleEndian) {
      for (let k = width - 1; k >= 0; k--) v = v * 256 + d[at + k]!;
    } else {
      for (let k = 0; k < width; k++) v = v * 256 + d[at + k]!;
    }
    return v;
  }

  /**
   * Consumes `n` bytes and returns a view of them, valid until the next
   * read into the buffer (or, once {@linkcode ReadBuffer.own} has copied
   * them, a view of that copy, valid for good).
   *
   * @param n How many bytes.
   * @returns The view.
   */
  take(n: number): Uint8Array {
    const s = this.start;
    this.#advance(n);
    // Bytes that own() has already copied come from the copy: a consumer
    // that keeps frames then needs no copy of its own.
    const snap = this.#snap;
    if (snap !== null && s >= this.#snapFrom && s + n <= this.#snapTo) {
      const at = s - this.#snapFrom;
      return snap.subarray(at, at + n);
    }
    // A view made from the array's buffer, kept for the array it was taken
    // of: cheaper than subarray(), which is a view per message.
    const data = this.data;
    if (data !== this.#viewOf) {
      this.#viewOf = data;
      this.#viewBuffer = data.buffer;
    }
    return new Uint8Array(this.#viewBuffer, data.byteOffset + s, n);
  }

  /** The array whose buffer {@linkcode ReadBuffer.take} last made views of. */
  #viewOf: Uint8Array | null = null;
  #viewBuffer: ArrayBufferLike = EMPTY.buffer;

  /** The array changed: the old one's buffer is not kept alive for views. */
  #forgetViewBuffer(): void {
    this.#viewOf = null;
    this.#viewBuffer = EMPTY.buffer;
  }

  /**
   * Consumes `n` bytes and returns a copy of them.
   *
   * @param n How many bytes.
   * @returns A new array.
   */
  copy(n: number): Uint8Array {
    const s = this.start;
    this.#advance(n);
    return copyBytes(this.data, s, s + n);
  }

  /**
   * Consumes `n` bytes.
   *
   * @param n How many bytes.
   */
  skip(n: number): void {
    this.#advance(n);
  }

  /**
   * Records how many unread bytes the next frame needs, if known.
   *
   * @param total The unread bytes the frame needs, header included.
   * @returns {@linkcode NEED_MORE}.
   */
  needMore(total = 0): NeedMore {
    this.#want = total;
    return NEED_MORE;
  }

  /**
   * How many unread bytes the frame in progress needs, as the decoder last
   * said (`0` when it did not say).
   */
  get wanted(): number {
    return this.#want;
  }

  #advance(n: number): void {
    if (!(n >= 0 && this.start + n <= this.end)) {
      throw new RangeError(
        `Cannot consume ${n} bytes: ${this.length} are unread`,
      );
    }
    this.start += n;
    this.#want = 0;
  }

  /**
   * Appends bytes (a stream decoder fed chunks). The bound is not checked
   * here: see {@linkcode ReadBuffer.checkLimit}.
   *
   * @param chunk The bytes.
   * @param keepViews Leave the bytes already in the buffer where they are,
   * so that views taken of them stay intact: when there is no room after
   * the unread bytes, they move to a new array instead of to the front.
   */
  append(chunk: Uint8Array, keepViews = false): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.#lent !== null) this.keep(keepViews);
    this.#room(this.end - this.start + n, keepViews);
    this.data.set(chunk, this.end);
    this.end += n;
  }

  /**
   * Lets a decoder read straight from a caller's chunk instead of a copy
   * of it: the unread bytes become `chunk[from..)`. Only when nothing is
   * unread; {@linkcode ReadBuffer.keep} must follow before the caller
   * reuses the chunk, and before any other call that adds bytes.
   *
   * @param chunk The caller's bytes, not written to.
   * @param from Where the unread bytes start in `chunk`.
   * @throws {RangeError} Bytes are unread.
   */
  lend(chunk: Uint8Array, from = 0): void {
    if (this.end > this.start) {
      throw new RangeError(
        `Cannot lend a chunk: ${this.length} bytes are unread`,
      );
    }
    this.#consumedBefore += this.start - from;
    this.#snap = null;
    if (this.#lent === null) {
      // Pinned memory is a writer's until written: keep() must not fill
      // it, so the buffer gives it up and keeps into a new array.
      if (this.#pins > 0) {
        this.#retire();
        this.#lent = EMPTY;
      } else this.#lent = this.data;
    }
    this.data = chunk;
    this.#forgetViewBuffer();
    this.start = from;
    this.end = chunk.length;
  }

  /**
   * Copies the unread bytes of a lent chunk into the buffer's own memory
   * (sized for the frame in progress, when the decoder said how large it
   * is), so that the chunk can be reused. Does nothing when no chunk is
   * lent.
   *
   * @param keepViews Leave intact the views taken of the buffer's own
   * array before the chunk was lent: the bytes go to a new array.
   */
  keep(keepViews = false): void {
    const lent = this.#lent;
    if (lent === null) return;
    this.#lent = null;
    const unread = this.end - this.start;
    const chunk = this.data;
    this.#consumedBefore += this.start;
    this.#snap = null;
    if (unread === 0) {
      this.data = lent;
    } else {
      const size = Math.max(unread, this.#wantAhead(unread), 64);
      this.data = !keepViews && lent.length >= size
        ? lent
        : new Uint8Array(size);
      this.data.set(chunk.subarray(this.start, this.end));
    }
    this.#forgetViewBuffer();
    this.start = 0;
    this.end = unread;
  }

  /**
   * The array of the buffer while a chunk is lent (or `EMPTY` when it had
   * none); `null` when no chunk is lent.
   */
  #lent: Uint8Array | null = null;

  /**
   * Gives the memory under `frame`, a view that `take()` returned, to the
   * caller instead of having it copied, when the frame fills most of the
   * buffer (a large frame read in one array sized for it): the buffer
   * starts a new array with the bytes after the frame. The frame is then
   * the caller's; nothing in the buffer refers to its memory.
   *
   * @param frame A view of the buffer's memory, of bytes consumed.
   * @returns Whether the memory was handed over; if not, copy the frame.
   */
  handOver(frame: Uint8Array): boolean {
    const data = this.data;
    if (
      frame.length < HAND_OVER_MIN || this.#lent !== null || this.#pins > 0 ||
      frame.buffer !== data.buffer || frame.length * 2 < data.length ||
      frame.byteOffset + frame.length > data.byteOffset + this.start
    ) {
      return false;
    }
    const unread = this.end - this.start;
    this.#consumedBefore += this.start;
    this.#snap = null;
    this.#frameView = null;
    this.#registered = null;
    this.data = unread > 0
      ? data.slice(this.start, this.end)
      : this.#small !== null && this.#small !== data
      ? this.#small
      : EMPTY;
    this.#forgetViewBuffer();
    this.start = 0;
    this.end = unread;
    return true;
  }

  /**
   * Returns a copy of `view` (a view of the buffer's memory, from
   * `take()`) that the caller may keep. Small frames share copies: the
   * first copies the unread bytes from its start on (64 KiB of them, or
   * the frame), and the next frames in those bytes are views of that copy,
   * until bytes in the buffer move. Small frames then cost no allocation
   * each (a consumer that keeps one keeps at most 64 KiB alive beside it).
   *
   * @param view A view of `data`, of bytes from `take()`.
   * @returns A view of bytes that nothing writes to.
   */
  own(view: Uint8Array): Uint8Array {
    const data = this.data;
    const from = view.byteOffset - data.byteOffset;
    const to = from + view.length;
    // A larger frame is worth its own copy: it would keep most of a shared
    // one alive on its own.
    if (view.length > SHARED_FRAME_MAX) return copyBytes(view);
    let snap = this.#snap;
    if (snap === null || from < this.#snapFrom || to > this.#snapTo) {
      const until = Math.max(to, Math.min(this.end, from + SHARED_COPY));
      snap = this.#snap = copyBytes(data, from, until);
      this.#snapFrom = from;
      this.#snapTo = until;
    }
    return snap.subarray(from - this.#snapFrom, to - this.#snapFrom);
  }

  /**
   * The copy that {@linkcode ReadBuffer.own} hands out views of, of
   * `data[#snapFrom..#snapTo)`; null once bytes in `data` may move.
   */
  #snap: Uint8Array | null = null;
  /**
   * The array a quiet read waits in once a larger one was let go: half of
   * `minRead` (or the frame in progress), the array a new connection's
   * first read gets, however large busy reads had grown: a connection idle
   * after a large frame holds what a new one does.
   */
  #small: Uint8Array | null = null;
  #snapFrom = 0;
  #snapTo = 0;

  /**
   * Switches to `next`; the array left goes to the spare arrays (with
   * `give`, for a socket read's array), unless a writer holds a view of it.
   */
  #replace(next: Uint8Array, give: boolean): void {
    const old = this.data;
    if (this.#pins > 0) this.#retire();
    else if (give && old !== this.#small) spareArrays.give(old);
    this.data = next;
    this.#frameView = null;
    this.#registered = null;
    this.#forgetViewBuffer();
  }

  /**
   * The array is left while writers hold views of it: it goes to the spare
   * arrays once the last is written ({@linkcode ReadBuffer.release}).
   */
  #retire(): void {
    const old = this.data;
    (this.#retired ??= new Map()).set(old.buffer, {
      array: old,
      pins: this.#pins,
    });
    this.#pins = 0;
    if (old === this.#small) this.#small = null;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.released();
  }

  /** How many views of `data` writers hold (see `pin()`). */
  #pins = 0;
  /** The read waiting for the writers to release `data`. */
  #waiter: ReleaseWaiter | null = null;
  /** Arrays left while writers held views of them, by their memory. */
  #retired: Map<ArrayBufferLike, { array: Uint8Array; pins: number }> | null =
    null;
  /** Where the last borrowed frame began in `data`. */
  #frameFrom = 0;
  /** The last borrowed frame, until its header room is used. */
  #frameView: unknown = null;
  /**
   * The array last registered in `owners`, while it is `data`: it is let go
   * with `data`, or an idle connection would keep a large frame's array.
   */
  #registered: Uint8Array | null = null;

  /**
   * Records that `frame`, decoded from the bytes at `from` on, is handed
   * out as a view of the buffer (a borrowed frame): a writer may then send
   * it from where it is ({@linkcode ReadBuffer.pin}), and write its header
   * into the bytes of the header it came with
   * ({@linkcode ReadBuffer.headerRoom}).
   *
   * @param from The index in `data` where the frame's bytes began.
   * @param frame What the decoder returned.
   */
  borrowed(from: number, frame: unknown): void {
    this.#frameFrom = from;
    this.#frameView = frame;
    if (this.#registered !== this.data && this.#lent === null) {
      this.#registered = this.data;
      owners.set(this.data.buffer, this);
    }
  }

  /**
   * The read buffer whose current array `view` is a view of, when a
   * writer may send it from where it is (it is not a lent chunk's).
   *
   * @param view A message being written.
   * @returns The buffer, or `undefined`.
   */
  static ownerOf(view: Uint8Array): ReadBuffer | undefined {
    const owner = owners.get(view.buffer);
    return owner !== undefined && owner.data.buffer === view.buffer &&
        owner.#lent === null
      ? owner
      : undefined;
  }

  /**
   * Holds the buffer's current array for a writer that sends a view of it
   * without copying: until {@linkcode ReadBuffer.release}, the buffer
   * neither moves nor overwrites a byte of the array (a read that needs
   * the room goes to another array).
   */
  pin(): void {
    this.#pins++;
  }

  /**
   * A writer has written a view it pinned: the array is the buffer's
   * again, or goes to the spare arrays once no writer holds it.
   *
   * @param memory The pinned view's memory.
   */
  release(memory: ArrayBufferLike): void {
    if (memory === this.data.buffer && this.#pins > 0) {
      if (--this.#pins === 0 && this.#waiter !== null) {
        const waiter = this.#waiter;
        this.#waiter = null;
        waiter.released();
      }
      return;
    }
    const old = this.#retired?.get(memory);
    if (old === undefined) return;
    if (--old.pins === 0) {
      this.#retired!.delete(memory);
      spareArrays.give(old.array);
    }
  }

  /**
   * How many bytes before `view` a writer may overwrite: the header bytes
   * of the borrowed frame that `view` is (consumed, and in no other
   * frame), once; `0` for any other view.
   *
   * @param view A view of the buffer's current array.
   * @returns The bytes free before it.
   */
  headerRoom(view: Uint8Array): number {
    if (view !== this.#frameView || view.buffer !== this.data.buffer) return 0;
    this.#frameView = null;
    const at = view.byteOffset - this.data.byteOffset;
    return at >= this.#frameFrom && at + view.length <= this.start
      ? at - this.#frameFrom
      : 0;
  }

  /**
   * Throws when the decoder, having asked for more bytes, needs more than
   * the bound for one frame.
   *
   * @throws {FrameTooLargeError} The frame in progress exceeds `limit`.
   */
  checkLimit(): void {
    const unread = this.end - this.start;
    if (this.#want > this.limit || unread >= this.limit) {
      throw new FrameTooLargeError(
        Math.max(this.#want, unread + 1),
        this.limit,
        { limitName: "the read buffer limit" },
      );
    }
  }

  /**
   * Makes room for a socket read and returns the free space to read into:
   * the unread bytes move to the front, or into a larger array when the
   * frame in progress needs it; an empty buffer after a quiet read gives a
   * large array back. Views from `take()` are invalid afterwards.
   *
   * While a writer holds a view of the array (see
   * {@linkcode ReadBuffer.pin}) and the read needs room that only moving
   * the unread bytes or another array would give, the read goes to another
   * array — or, given a `waiter`, waits: an empty view is returned, and
   * `waiter.released()` is called once the writer is done with the array (a
   * connection's reader then reads into it again, as a hand-written loop
   * that writes its read buffer back and reads once the write is done).
   *
   * @param waiter Told when the array is released, if the read waits.
   * @returns A view of the free space to read into; empty when the read
   * waits for `waiter`.
   * @throws {FrameTooLargeError} The frame in progress exceeds `limit`.
   */
  space(waiter?: ReleaseWaiter): Uint8Array {
    if (this.#lent !== null) this.keep();
    this.checkLimit();
    const unread = this.end - this.start;
    const read = this.#busy
      ? this.#readSize
      : Math.min(this.#readSize, QUIET_READ);
    // Room for the frame in progress when its size is known (but never far
    // ahead of the bytes that came: a header may lie), and for one read:
    // never more than the bound and one read (checkLimit() stops a frame
    // at the bound; a read is never cut down to it, or a codec of small
    // frames would read a frame or two per system call).
    const want = this.#wantAhead(unread);
    // Room for the frame in progress (when its size is known) and for a
    // read, but a read may be smaller than its target rather than make
    // the array grow: it grows only when what is buffered needs it.
    const need = Math.max(want, unread + read);
    if (unread === 0 && !this.#busy && this.data.length > 2 * need) {
      // Quiet: the memory of a large frame or of a busy spell goes back,
      // for the next burst of this connection or another to take, and the
      // read waits in the small array this buffer keeps for it.
      this.#consumedBefore += this.start;
      this.#snap = null;
      const quiet = Math.max(want, this.#minRead >> 1);
      const small = this.#small;
      if (
        small === null || small.length < quiet || small.length > 2 * quiet ||
        (small === this.data && this.#pins > 0)
      ) {
        this.#small = new Uint8Array(quiet);
      }
      this.#replace(this.#small!, true);
      this.start = this.end = 0;
    } else {
      // Room for the rest of a large frame of known size; otherwise for
      // half a read at least (which holds the rest of a small frame).
      const free = want > unread && want >= read
        ? want - unread
        : Math.max(want - unread, read >> 1);
      if (this.data.length - this.end < free) {
        if (this.#pins > 0 && waiter !== undefined) {
          this.#waiter = waiter;
          return EMPTY;
        }
        this.#room(unread + free, false, true);
      }
    }
    // The read may fill the array: room that is there costs nothing, and
    // a frame a little larger than a read (64 KiB and its header) then
    // comes in one read, not a read and a read of its last bytes.
    const size = this.data.length - this.end;
    this.#asked = size;
    this.#askedForFrame = want - unread > read;
    // The whole array needs no view of it: a read pending on an idle
    // connection holds one object less.
    return size === this.data.length
      ? this.data
      : this.data.subarray(this.end, this.end + size);
  }

  /** How many bytes the last `space()` offered. */
  #asked = 0;
  /**
   * Whether the last `space()` was sized by the frame in progress: a read
   * that fills it says the frame is whole, not that more bytes wait.
   */
  #askedForFrame = false;

  /**
   * The unread bytes to make room for, of the frame in progress: what the
   * decoder asked for, but at most `GROW_AHEAD` (or twice the unread
   * bytes) beyond what is buffered.
   */
  #wantAhead(unread: number): number {
    return Math.min(this.#want, unread + Math.max(GROW_AHEAD, unread));
  }

  /**
   * Makes `data` hold `need` unread bytes from `start = 0` if it must;
   * with `keepViews`, never by moving bytes within `data`.
   */
  #room(need: number, keepViews = false, spare = false): void {
    // Bytes a writer holds a view of stay where they are until written.
    keepViews ||= this.#pins > 0;
    const unread = this.end - this.start;
    if (unread === 0 && !keepViews) {
      this.#consumedBefore += this.start;
      this.start = this.end = 0;
      this.#snap = null;
      this.#frameView = null;
    }
    if (this.start + need <= this.data.length) return;
    this.#snap = null;
    this.#frameView = null;
    if (need <= this.data.length && !keepViews) {
      this.data.copyWithin(0, this.start, this.end);
    } else {
      let cap = Math.max(64, this.data.length * 2);
      while (cap < need) cap *= 2;
      // A frame of known size gets an array of its size: it can be handed
      // over whole (see handOver()).
      if (this.#want >= need) cap = Math.min(cap, this.#want);
      // Doubling never takes the array past the bound and one read.
      const most = Math.max(need, this.limit + this.#maxRead);
      cap = Math.min(cap, most);
      const next = (spare ? spareArrays.take(cap, most) : undefined) ??
        new Uint8Array(cap);
      next.set(this.data.subarray(this.start, this.end));
      this.#replace(next, spare);
    }
    this.#consumedBefore += this.start;
    this.start = 0;
    this.end = unread;
  }

  /**
   * Adds `n` bytes read into the last {@linkcode ReadBuffer.space} to the
   * unread bytes, and adapts the next read's size.
   *
   * @param n How many bytes were read.
   */
  commit(n: number): void {
    this.end += n;
    // A read that filled the rest of a frame of known size is not busy:
    // once that frame is taken, the next read is a quiet one, and a
    // connection that goes idle after a large frame waits on little memory.
    this.#busy = n >= this.#asked && !this.#askedForFrame;
    if (this.#busy) {
      // Four times, not twice: a pipelined batch a little larger than the
      // read took two reads (and two writes of replies) every time.
      this.#readSize = Math.min(this.#readSize * 4, this.#maxRead);
    } else if (n < this.#readSize / 4) {
      this.#readSize = Math.max(this.#minRead, this.#readSize / 2);
    }
  }

  /** Forgets every unread byte and the stream's end, and lets the memory go. */
  clear(): void {
    if (this.#pins > 0) this.#retire();
    this.#frameView = null;
    this.#registered = null;
    this.#lent = null;
    this.#snap = null;
    this.#consumedBefore = 0;
    this.data = EMPTY;
    this.#forgetViewBuffer();
    this.start = this.end = 0;
    this.eof = false;
    this.#want = 0;
    this.#busy = false;
    this.#readSize = this.#minRead;
  }
}
