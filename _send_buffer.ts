// Copyright 2026 the netkit authors. MIT license.

/**
 * Private: {@linkcode SendBuffer}, a connection's write buffer, which sends
 * a large message borrowed from a read buffer from where it is instead of
 * copying it.
 *
 * ```text
 *  own bytes:  [ h1 ][ small message ][ h3 ]
 *  refs:          │                       │
 *                 ▼ at = 4                ▼ at = 4 + 60 + 4
 *          [ 64 KiB message (a view) ]   [ 16 KiB message (a view) ]
 *  written: h1, the view, small message + h3, the view — in this order
 * ```
 *
 * A message is referenced only when the writer offers it (a view of a
 * read buffer's memory that the application was lent, at least
 * {@linkcode REF_MIN} bytes) and the encoder appends that very array:
 * encoders need not know. The read buffer is pinned until the view is
 * written (it moves no byte of that memory meanwhile). Two more steps save
 * system calls: the header the encoder wrote just before the view goes
 * into the bytes of the header the frame arrived with, when the view is
 * the frame the reader lent last (those bytes are consumed and in no other
 * frame); and a view that starts where the previous one ends extends it.
 * An echo of pipelined large frames then writes its read buffer back, as a
 * hand-written loop does.
 *
 * @module
 */

import { ByteBuffer } from "./codec/byte_buffer.ts";
import { ReadBuffer } from "./codec/read_buffer.ts";

/**
 * The smallest message sent from where it is. Below it, copying costs less
 * than the bookkeeping, and a small view would pin a read buffer's array.
 */
export const REF_MIN = 2048;

const EMPTY = new Uint8Array(0);

/** What writes a {@linkcode SendBuffer}: a connection's writer. */
export interface BatchWriter {
  /** `n` bytes of the buffer were written. */
  batchWritten(n: number): void;
  /** A write of the buffer failed. */
  batchFailed(err: unknown): void;
}

/** A message sent from where it is, after the own bytes before `at`. */
export interface Ref {
  /** How many of the buffer's own bytes go before it. */
  at: number;
  /** The bytes. */
  bytes: Uint8Array;
  /** The read buffer pinned for it. */
  owner: ReadBuffer;
}

/** A write buffer whose large borrowed messages are sent from where they are. */
export class SendBuffer extends ByteBuffer {
  /** The message being encoded, which `append()` may reference. */
  offered: Uint8Array | null = null;
  /** The referenced messages, in order. */
  refs: Ref[] | null = null;
  #refBytes = 0;

  /** Bytes written: the own ones and the referenced ones. */
  override get length(): number {
    return super.length + this.#refBytes;
  }

  /**
   * Appends bytes: by reference when they are the offered message and a
   * read buffer's memory, otherwise by copying.
   *
   * @param bytes The bytes to append.
   */
  override append(bytes: Uint8Array): void {
    if (bytes !== this.offered || bytes.length < REF_MIN) {
      super.append(bytes);
      return;
    }
    const owner = ReadBuffer.ownerOf(bytes);
    if (owner === undefined) {
      super.append(bytes);
      return;
    }
    this.offered = null;
    let view = bytes;
    let own = super.length;
    const refs = this.refs ??= [];
    const last = refs.length > 0 ? refs[refs.length - 1]! : null;
    const headed = last === null ? own : own - last.at;
    if (headed > 0) {
      // The bytes the encoder wrote before the message (its header) go
      // into the header bytes the frame arrived with, when it has them.
      const room = owner.headerRoom(bytes);
      if (headed <= room) {
        const head = super.bytes().subarray(own - headed, own);
        view = new Uint8Array(
          bytes.buffer,
          bytes.byteOffset - headed,
          bytes.length + headed,
        );
        view.set(head);
        super.truncate(own - headed);
        own -= headed;
      }
    }
    if (
      last !== null && last.at === own && last.bytes.buffer === view.buffer &&
      last.bytes.byteOffset + last.bytes.length === view.byteOffset
    ) {
      // Contiguous with the previous view: one write for both.
      last.bytes = new Uint8Array(
        view.buffer,
        last.bytes.byteOffset,
        last.bytes.length + view.length,
      );
    } else {
      owner.pin();
      refs.push({ at: own, bytes: view, owner });
    }
    this.#refBytes += view.length;
  }

  /**
   * Drops the bytes written after the first `length`, referenced ones too.
   *
   * @param length The length to keep.
   */
  override truncate(length: number): void {
    const refs = this.refs;
    while (refs !== null && refs.length > 0) {
      const last = refs[refs.length - 1]!;
      const from = last.at + this.#refBytes - last.bytes.length;
      if (length >= from + last.bytes.length) break;
      if (length > from) {
        // Part of the view stays: the rest of the message goes.
        this.#refBytes -= from + last.bytes.length - length;
        last.bytes = last.bytes.subarray(0, length - from);
        super.truncate(last.at);
        return;
      }
      refs.pop();
      this.#refBytes -= last.bytes.length;
      last.owner.release(last.bytes.buffer);
    }
    super.truncate(length - this.#refBytes);
  }

  /**
   * The bytes written, in one array: a view, as a {@linkcode ByteBuffer}'s,
   * that an encoder may read or patch (a header it fills in last). The
   * referenced messages are copied in for it, and their memory released.
   *
   * @returns The bytes.
   */
  override bytes(): Uint8Array {
    if (this.refs === null || this.refs.length === 0) return super.bytes();
    const all = new Uint8Array(this.length);
    let off = 0;
    for (const part of this.parts()) {
      all.set(part, off);
      off += part.length;
    }
    this.release();
    super.truncate(0);
    super.append(all);
    return super.bytes();
  }

  /**
   * The bytes to write, in order: runs of own bytes and referenced views.
   *
   * @returns The non-empty parts.
   */
  parts(): Uint8Array[] {
    const own = super.bytes();
    const refs = this.refs;
    if (refs === null || refs.length === 0) return own.length > 0 ? [own] : [];
    const parts: Uint8Array[] = [];
    let at = 0;
    for (const ref of refs) {
      if (ref.at > at) parts.push(own.subarray(at, ref.at));
      parts.push(ref.bytes);
      at = ref.at;
    }
    if (own.length > at) parts.push(own.subarray(at));
    return parts;
  }

  // Where the write of this buffer stands, kept here rather than in the
  // connection's writer: pooled buffers carry it, idle connections don't.

  /** The writer writing this buffer. */
  #writer: BatchWriter | null = null;
  /** The parts to write, when there are more than one. */
  #parts: Uint8Array[] | null = null;
  #part = 0;
  /** The part being written, and how much of it is written. */
  #chunk: Uint8Array = EMPTY;
  #off = 0;
  /** A socket write of this buffer's bytes completed. */
  readonly onWritten = (n: number): void => this.#writer!.batchWritten(n);
  /** A socket write of this buffer's bytes failed. */
  readonly onWriteError = (err: unknown): void =>
    this.#writer!.batchFailed(err);

  /**
   * Starts writing the buffer for `writer`, which `onWritten` and
   * `onWriteError` then call.
   *
   * @param writer The connection's writer.
   */
  startWrite(writer: BatchWriter): void {
    this.#writer = writer;
    const refs = this.refs;
    this.#parts = refs === null || refs.length === 0 ? null : this.parts();
    this.#part = 0;
    this.#chunk = this.#parts === null ? super.bytes() : this.#parts[0]!;
    this.#off = 0;
  }

  /** The bytes of the part being written that are not written yet. */
  unwritten(): Uint8Array {
    return this.#off === 0 ? this.#chunk : this.#chunk.subarray(this.#off);
  }

  /**
   * Counts `n` bytes written.
   *
   * @param n How many.
   * @returns Whether every part is written.
   */
  advance(n: number): boolean {
    this.#off += n;
    if (this.#off < this.#chunk.length) return false;
    const parts = this.#parts;
    if (parts !== null && ++this.#part < parts.length) {
      this.#chunk = parts[this.#part]!;
      this.#off = 0;
      return false;
    }
    return true;
  }

  /**
   * The write is done with (written, or never will be): forgets where it
   * stood and gives the pinned memory back.
   */
  endWrite(): void {
    this.#writer = null;
    this.#parts = null;
    this.#chunk = EMPTY;
    this.release();
  }

  /** Gives the pinned memory back to the read buffers: its bytes are written. */
  release(): void {
    const refs = this.refs;
    if (refs === null) return;
    for (const ref of refs) ref.owner.release(ref.bytes.buffer);
    refs.length = 0;
    this.#refBytes = 0;
  }

  /**
   * Forgets the bytes written (pinned memory stays pinned: call
   * {@linkcode SendBuffer.release} first once they are written).
   *
   * @param keep The largest capacity worth keeping.
   */
  override clear(keep?: number): void {
    super.clear(keep);
    if (this.refs !== null) this.refs.length = 0;
    this.#refBytes = 0;
    this.offered = null;
  }
}
