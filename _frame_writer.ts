// Copyright 2026 the netkit authors. MIT license.

/**
 * Private: the write half of a `Connection` — messages encoded into one
 * write buffer, coalesced into few socket writes, bounded by water marks,
 * and the FIN.
 *
 * ```text
 *   write(m) ── encode into the buffer (nothing left behind if it throws)
 *      │  not writing: flush at the end of this tick (scheduler, 1), or —
 *      │  while the application still takes a read's messages — when it
 *      │  asks for bytes again, or in a later task (scheduler, 2)
 *      ▼
 *   IDLE ── flushSoon() ──► WRITING: one socket write of the whole buffer
 *    ▲                        │  (messages sent meanwhile go to a second
 *    └── queue empty ─────────┘   buffer, written next)
 *   after a flush, closeWrite() / sendFin(): FIN    close(reason): queue dropped
 * ```
 *
 * Buffers: the buffer being filled comes from the shared pool (scheduler,
 * 3) and goes back once written, so an idle connection holds none. A
 * buffer grown past the pool's size is kept only while the queue is not
 * empty (for the messages of a large batch); once the queue is empty it is
 * let go, so an idle connection never holds one.
 *
 * @module
 */

import type { Encoder } from "./codec/decoder.ts";
import { toNetError } from "./errors.ts";
import type { WaterMarks } from "./flow/water_marks.ts";
import type { Deadlines } from "./_deadlines.ts";
import { type LingerBounds, sendFin } from "./_linger.ts";
import { type Flushable, scheduler } from "./_scheduler.ts";
import { REF_MIN, type SendBuffer } from "./_send_buffer.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** The counters the writer keeps (a connection's stats). */
export interface WriterStats {
  /** Bytes written to the socket. */
  bytesWritten: number;
  /** Messages encoded. */
  messagesWritten: number;
  /** Socket writes made. */
  writes: number;
}

/** What the writer needs of the connection it writes for. */
export interface WriterHost {
  /** Writes from `p` to the transport; resolves with the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Shuts down the transport's write side (sends FIN). */
  closeWrite(): Promise<void>;
  /** The error recorded on the connection, if any. */
  error(): Error | null;
  /** A socket write failed: the connection ends with `error`. */
  writeFailed(error: Error): void;
}

/** What the writer needs of the reader beside it. */
export interface BatchSource {
  /** Whether the application is still taking the messages of one read. */
  readonly inBatch: boolean;
}

/**
 * The write half of a connection (see the module doc). It does not check
 * whether writing is allowed: the connection's lifecycle state does.
 */
export class FrameWriter<Out> implements Flushable {
  readonly #host: WriterHost;
  readonly #reader: BatchSource;
  #encoder: Encoder<Out>;
  readonly #marks: WaterMarks;
  readonly #stats: WriterStats;
  readonly #deadlines: Deadlines | null;
  /**
   * Where messages are encoded: taken from the pool by the first message
   * after a write, given back when its bytes are written.
   */
  #out: SendBuffer | null = null;
  /**
   * A buffer too large for the pool, kept while the queue is not empty
   * for the messages sent while the other one is being written.
   */
  #spare: SendBuffer | null = null;
  /** A socket write is under way. */
  #writing = false;
  /** Queued for the end-of-tick flush. */
  #microQueued = false;
  /** Deferred: waiting for the scheduler's sweep (the scheduler's flag). */
  stalled = false;
  /** In the scheduler's sweep list (the scheduler's flag). */
  listed = false;
  #flushWaiters: Array<() => void> | null = null;
  /** The FIN is sent: nothing more goes out. */
  #finSent = false;
  /** The writer was closed (its queue dropped). */
  #closed = false;

  /**
   * Constructs a new instance.
   *
   * @param host The connection.
   * @param reader The reader beside it (whether a read's batch is open).
   * @param encoder The codec's encoder.
   * @param marks The water marks of the queue.
   * @param stats The counters to keep.
   * @param deadlines The write deadlines, if any.
   */
  constructor(
    host: WriterHost,
    reader: BatchSource,
    encoder: Encoder<Out>,
    marks: WaterMarks,
    stats: WriterStats,
    deadlines: Deadlines | null,
  ) {
    this.#host = host;
    this.#reader = reader;
    this.#encoder = encoder;
    this.#marks = marks;
    this.#stats = stats;
    this.#deadlines = deadlines;
  }

  /** Replaces the encoder, at a message boundary. */
  setEncoder(encoder: Encoder<Out>): void {
    this.#encoder = encoder;
  }

  /** Bytes encoded and not yet handed to a socket write. */
  #pendingBytes(): number {
    return this.#out?.length ?? 0;
  }

  /** Bytes queued and not yet written (the water marks' count). */
  get buffered(): number {
    return this.#marks.buffered;
  }

  /** Whether the queue is under the high-water mark. */
  get writable(): boolean {
    return this.#marks.writable;
  }

  /** Whether bytes are queued or being written. */
  get busy(): boolean {
    return this.#writing || this.#pendingBytes() > 0;
  }

  /** Whether the FIN is sent. */
  get finSent(): boolean {
    return this.#finSent;
  }

  /**
   * Encodes a message into the queue; an encoder that throws leaves no
   * byte behind.
   *
   * @returns Whether the queue is still under the high-water mark.
   */
  write(message: Out): boolean {
    let out = this.#out;
    if (out === null) {
      out = this.#out = this.#spare ?? scheduler.takeBuffer();
      this.#spare = null;
    }
    const before = out.length;
    // A large view of a read buffer's memory may be sent from where it is
    // (see _send_buffer.ts): the encoder appends it, and it is not copied.
    if (message instanceof Uint8Array && message.length >= REF_MIN) {
      out.offered = message;
    }
    try {
      this.#encoder.encodeInto(message, out);
    } catch (err) {
      // A message the codec refuses leaves nothing behind.
      out.offered = null;
      out.truncate(before);
      throw err;
    }
    out.offered = null;
    this.#stats.messagesWritten++;
    this.#marks.add(out.length - before);
    if (!this.#writing) {
      if (!this.#reader.inBatch) {
        // Messages queued in this tick go out together, in one write.
        if (!this.#microQueued) {
          this.#microQueued = true;
          scheduler.queueMicroFlush(this);
        }
      } else if (!this.stalled) {
        // Messages of the last read are still being handled: their
        // replies go out together when the last one is taken; the shared
        // sweep covers an application that stops taking them.
        scheduler.defer(this);
      }
    }
    return this.#marks.writable;
  }

  /** Resolves when the queue is at or under the low-water mark. */
  drain(): Promise<void> {
    if (this.#marks.writable) return RESOLVED;
    this.flushSoon();
    return this.#marks.waitWritable();
  }

  /**
   * Resolves when every queued byte is written; rejects with `dropped`'s
   * error when the queue is dropped first, or with the connection's error.
   */
  flush(dropped: () => Error): Promise<void> {
    if (!this.#writing && this.#pendingBytes() === 0) return RESOLVED;
    this.flushSoon();
    return new Promise<void>((resolve, reject) => {
      (this.#flushWaiters ??= []).push(() => {
        const error = this.#host.error();
        if (this.#closed && this.#pendingBytes() > 0) {
          reject(dropped());
        } else if (error !== null) reject(error);
        else resolve();
      });
    });
  }

  /** Called by the end-of-tick flush. */
  microFlush(): void {
    this.#microQueued = false;
    this.flushSoon();
  }

  /** Called by the sweep (which undeferred it). */
  sweepFlush(): void {
    this.flushSoon();
  }

  /** Starts writing what is queued, unless a write is under way. */
  flushSoon(): void {
    if (this.stalled) scheduler.undefer(this);
    if (!this.#writing && this.#pendingBytes() > 0 && !this.#closed) {
      this.#writeLoop();
    }
  }

  /**
   * The write loop, as callbacks rather than an async function (which
   * costs a frame and a promise per flush): one batch — the buffer taken
   * from `#out` — is written part by part, then the next, until nothing
   * is queued. Where a batch's write stands is kept in the buffer (see
   * `SendBuffer.write`), so a connection that is not writing holds none
   * of it.
   */
  #writeLoop(): void {
    this.#writing = true;
    const buf = this.#out!;
    this.#out = null;
    this.#batch = buf;
    buf.startWrite(this);
    this.#deadlines?.writeBegin();
    this.#writeChunk(buf);
  }

  /** The batch being written. */
  #batch: SendBuffer | null = null;

  #writeChunk(buf: SendBuffer): void {
    let written: Promise<number>;
    try {
      written = this.#host.write(buf.unwritten());
    } catch (err) {
      // A transport that throws instead of rejecting.
      written = Promise.reject(err);
    }
    written.then(buf.onWritten, buf.onWriteError);
  }

  /**
   * `n` bytes of the batch were written (called by the batch's buffer).
   *
   * @param n How many.
   */
  batchWritten(n: number): void {
    const buf = this.#batch!;
    if (this.#closed) {
      this.#endBatch();
      this.#stopWriting();
      return;
    }
    this.#stats.writes++;
    // The peer is reading: the write timeout counts from here.
    this.#deadlines?.writeProgress();
    if (!buf.advance(n)) return this.#writeChunk(buf);
    // The batch is written.
    const total = buf.length;
    this.#endBatch();
    this.#stats.bytesWritten += total;
    this.#deadlines?.writeDone();
    if (!scheduler.giveBuffer(buf) && this.#out !== null) {
      // Too large for the pool, and more is queued: a large batch
      // reuses it for the messages sent during the next write.
      buf.clear();
      this.#spare ??= buf;
    }
    this.#marks.remove(total);
    if (this.#pendingBytes() > 0 && !this.#closed) this.#writeLoop();
    else this.#stopWriting();
  }

  /**
   * A write of the batch failed (called by the batch's buffer).
   *
   * @param err Why.
   */
  batchFailed(err: unknown): void {
    this.#endBatch();
    if (!this.#closed) {
      this.#host.writeFailed(toNetError(err, "Cannot write to connection"));
    }
    this.#stopWriting();
  }

  /**
   * The batch is done with (written, or never will be): the views it sent
   * from read buffers are theirs again.
   */
  #endBatch(): void {
    this.#batch?.endWrite();
    this.#batch = null;
  }

  /** The loop stops: nothing is queued, or the writer is closed. */
  #stopWriting(): void {
    this.#writing = false;
    this.#deadlines?.writeStopped();
    if (this.#pendingBytes() === 0) {
      // The queue is empty: no large buffer is kept while idle.
      this.#spare = null;
      this.#out = null;
    }
    const waiters = this.#flushWaiters;
    if (
      waiters !== null && (this.#pendingBytes() === 0 || this.#closed)
    ) {
      this.#flushWaiters = null;
      for (const w of waiters) w();
    }
    if (this.#pendingBytes() > 0 && !this.#closed) this.#writeLoop();
  }

  /**
   * The FIN of `closeWrite()`, once the queue is flushed: shuts the
   * transport's write side (the peer reads EOF). Does nothing when the
   * connection failed or the FIN is sent.
   *
   * @throws The transport's error, unless the connection failed first.
   */
  async closeWrite(): Promise<void> {
    if (this.#host.error() !== null || this.#finSent) return;
    try {
      await this.#host.closeWrite();
    } catch (err) {
      if (this.#host.error() === null) {
        throw toNetError(err, "Cannot close the write side");
      }
    }
    this.#finSent = true;
  }

  /**
   * The FIN of a graceful close (see `_linger.ts`): bounded, never
   * rejects.
   *
   * @returns `false` when the write side could not be shut.
   */
  async sendFin(bounds: LingerBounds): Promise<boolean> {
    const sent = this.#finSent || await sendFin(this.#host, bounds);
    this.#finSent = true;
    return sent;
  }

  /**
   * Closes the writer: drops the queue, stops the write loop, fails
   * waiting senders with `reason` (or, after a clean close, a
   * `ConnectionClosedError` made only if one waits) and settles the flush
   * waiters.
   */
  close(reason: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    // Read buffers wait for no view that will not be written.
    this.#out?.release();
    this.#spare?.release();
    scheduler.forget(this);
    this.#marks.close(reason ?? undefined);
    const waiters = this.#flushWaiters;
    this.#flushWaiters = null;
    for (const w of waiters ?? []) w();
  }
}
