// Copyright 2026 the netkit authors. MIT license.
// The read half of a Connection: one read buffer, frames decoded on demand.

import { type Decoder, nextFrame } from "./codec/decoder.ts";
import {
  type DecodeInput,
  DEFAULT_READ_LIMIT,
  NEED_MORE,
  type NeedMore,
  ReadBuffer,
  type ReleaseWaiter,
} from "./codec/read_buffer.ts";
import { toNetError, UnexpectedEofError } from "./errors.ts";
import { scheduler } from "./_scheduler.ts";

/**
 * The method of a `Connection` that stops its frame reader: messages
 * already buffered are still delivered, then iteration ends. Used by a
 * server's graceful shutdown.
 */
export const stopReading: unique symbol = Symbol("netkit.stopReading");

/** What the reader returns when the stream has ended. */
export const END: unique symbol = Symbol("netkit.end");
/** The type of {@linkcode END}. */
export type End = typeof END;

/** One step of a read: a value, more bytes needed, or the end. */
export type ReadStep<T> = (input: ReadBuffer) => T | NeedMore | End;

/** What the reader needs of the connection it reads for. */
export interface ReaderHost {
  /** Reads from the transport into `p`. */
  read(p: Uint8Array): Promise<number | null>;
  /**
   * No whole message is buffered and a socket read comes next: the
   * replies to the messages taken so far go out now.
   */
  beforeRead(): void;
  /** A read waits for a whole message (the read timeout starts). */
  readWait(): void;
  /**
   * The next read waits for a writer to release the buffer's memory, not
   * for the peer: the read timeout does not count the wait.
   */
  readHeld(): void;
  /** `n` bytes arrived. */
  bytesRead(n: number): void;
  /** The peer's EOF was read. */
  readEnded(): void;
  /** A whole message was taken (the read timeout stops). */
  messageRead(): void;
  /** Whether the connection was closed here (a failed read is then EOF). */
  isClosed(): boolean;
  /** The transport's read failed: the connection ends with `error`. */
  readFailed(error: Error): void;
}

/**
 * How many messages (or procedural reads) a connection decodes from bytes
 * already buffered before it lets other work run: a peer that packs a
 * read with tiny messages gets through them a slice at a time, and other
 * connections are served in between (tokio's cooperative budget, Netty's
 * `maxMessagesPerRead`).
 */
const BUDGET = 1024;

/**
 * A reader waiting for bytes: a promise's ({@linkcode PendingRead}) or a
 * running `forEach` loop, which waits as itself.
 */
export interface Waiter {
  /** The step to run over the buffer; `null` for the next message. */
  readonly step: ReadStep<unknown> | null;
  /** For a message: whether a byte message may be a view of the buffer. */
  readonly borrow: boolean;
  /**
   * Called once the step gave a value (or the message, or
   * {@linkcode END}), or threw (`failed`, `value` the error).
   */
  settle(value: unknown, failed: boolean): void;
}

/** A waiting reader that settles a promise. */
class PendingRead implements Waiter {
  readonly step: ReadStep<unknown> | null;
  readonly borrow: boolean;
  readonly #resolve: (value: unknown) => void;

  constructor(
    step: ReadStep<unknown> | null,
    borrow: boolean,
    resolve: (value: unknown) => void,
  ) {
    this.step = step;
    this.borrow = borrow;
    this.#resolve = resolve;
  }

  settle(value: unknown, failed: boolean): void {
    // A rejected promise settles it as a rejection: the function the
    // promise's executor would keep for it is not kept for every wait.
    this.#resolve(failed ? Promise.reject(value) : value);
  }
}

/**
 * The read half of a connection.
 *
 * ```text
 *            ask (a message, or a procedural read)
 *  IDLE ─────────────────────────► DECODING ── frame ──► IDLE (one value out)
 *   ▲                                 │ NEED_MORE
 *   │  bytes / EOF                    ▼
 *   └──────────────────────────── READING (one socket read into the buffer)
 *  any state ── decoder throws ──► FAILED (every later read throws the error)
 *            ── EOF drained / stop() ──► ENDED
 * ```
 *
 * Nothing is decoded before it is asked for, and the socket is read only
 * when the buffer holds no whole frame for the reader at the head of the
 * queue: what the connection holds is one bounded buffer, and a
 * connection whose consumer does not ask stops reading.
 */
export class FrameReader<In> implements ReleaseWaiter {
  readonly #host: ReaderHost;
  #decoder: Decoder<In>;
  readonly #buf: ReadBuffer;
  readonly #borrow: boolean;
  /** A socket read is under way. */
  #reading = false;
  /** The socket read under way, for a lingering close to take over. */
  #pending: Promise<number | null> | null = null;
  /** A lingering close owns the socket's read side now. */
  #lingering = false;
  /** The error that ended reading: a decoder's, or the transport's. */
  #error: Error | null = null;
  /** Set by a server's graceful shutdown: read no more from the socket. */
  #stopped = false;
  /** The last decode gave a frame: more may be buffered. */
  #inBatch = false;
  /** Messages left to decode in this turn of the event loop. */
  #budget = BUDGET;
  /** Waiting for the next turn, its budget spent. */
  #yielding = false;
  #first: Waiter | null = null;
  #more: Waiter[] | null = null;
  /** The reader at the head of the queue is running its step. */
  #serving = false;
  /** The next read waits for a writer to release the buffer's memory. */
  #pinned = false;

  /**
   * Constructs a new instance.
   *
   * @param host The connection.
   * @param decoder The codec's decoder.
   * @param borrow Whether byte messages may be views of the buffer.
   * @param initial Bytes read before the connection was made.
   */
  constructor(
    host: ReaderHost,
    decoder: Decoder<In>,
    borrow: boolean,
    initial: Uint8Array | undefined,
  ) {
    this.#host = host;
    this.#decoder = decoder;
    this.#borrow = borrow;
    this.#buf = new ReadBuffer({ limit: decoder.maxBuffered });
    if (initial !== undefined && initial.length > 0) this.#buf.append(initial);
  }

  /** The read buffer (for a codec switch, a TLS upgrade and tests). */
  get buffer(): ReadBuffer {
    return this.#buf;
  }

  /** The error that ended reading, if any. */
  get error(): Error | null {
    return this.#error;
  }

  /** Whether the last decode gave a frame, so more may be buffered. */
  get inBatch(): boolean {
    return this.#inBatch;
  }

  /** Whether a socket read is under way. */
  get reading(): boolean {
    return this.#reading;
  }

  /**
   * Hands the socket's read side over to a lingering close: readers get
   * the messages already buffered, then the end; what the read under way
   * returns is discarded here.
   *
   * @returns The socket read under way, for the linger to take over, or
   * `null`.
   */
  linger(): Promise<number | null> | null {
    this.#lingering = true;
    this.stop();
    return this.#reading ? this.#pending : null;
  }

  /** Whether the stream has ended (EOF read, or reading stopped). */
  get ended(): boolean {
    return this.#buf.eof || this.#stopped;
  }

  /**
   * Replaces the decoder, at a message boundary: the bytes buffered stay
   * and are decoded by the new one, and the buffer takes its bound.
   *
   * @param decoder The new decoder.
   */
  setDecoder(decoder: Decoder<In>): void {
    this.#buf.limit = decoder.maxBuffered ?? DEFAULT_READ_LIMIT;
    this.#decoder = decoder;
  }

  /**
   * Decodes the next message if one is buffered.
   *
   * @returns The message, {@linkcode NEED_MORE}, or {@linkcode END}.
   * @throws The decoder's error, or the error that ended reading.
   */
  poll(borrow: boolean = this.#borrow): In | NeedMore | End {
    if (this.#error !== null) throw this.#error;
    // Readers that asked earlier and wait for bytes go first: a message
    // taken now would take the bytes of a procedural read that waits.
    if (this.#first !== null && !this.#serving) return NEED_MORE;
    if (this.#budget === 0) {
      // Other connections go first; the rest of the buffer waits a turn.
      this.#yield();
      return NEED_MORE;
    }
    this.#budget--;
    let frame: In | NeedMore;
    try {
      frame = nextFrame(this.#decoder, this.#buf, borrow);
    } catch (err) {
      throw this.#failWith(err);
    }
    if (frame !== NEED_MORE) {
      this.#inBatch = true;
      this.#host.messageRead();
      return frame;
    }
    this.#inBatch = false;
    return this.#buf.eof || this.#stopped ? END : NEED_MORE;
  }

  /**
   * The next message, or {@linkcode END}.
   *
   * @param borrow Whether a byte message may be a view of the buffer.
   * @returns A promise of the message.
   */
  next(borrow: boolean = this.#borrow): Promise<In | End> {
    let r: In | NeedMore | End;
    try {
      r = this.poll(borrow);
    } catch (err) {
      return Promise.reject(err);
    }
    if (r !== NEED_MORE) return Promise.resolve(r);
    return this.#enqueue(null, borrow) as Promise<In | End>;
  }

  /**
   * Runs a one-off decode step over the buffer until it gives a value: a
   * procedural read. At the end of the stream, a step that still needs
   * bytes throws {@linkcode UnexpectedEofError} with the bytes left.
   *
   * @param decode The step.
   * @returns A promise of its value.
   */
  read<T>(decode: (input: DecodeInput) => T | NeedMore): Promise<T> {
    const step: ReadStep<T> = (input) => {
      if (this.#error !== null) throw this.#error;
      // Procedural reads spend the same budget as messages: a loop of
      // them over a flood lets other connections run too.
      if (this.#budget === 0) {
        this.#yield();
        return NEED_MORE;
      }
      this.#budget--;
      const r = decode(input);
      if (r !== NEED_MORE) {
        this.#inBatch = input.length > 0;
        // A view of the buffer (from `take()`) is copied, as a decoder's
        // frame is: the caller keeps it past the next read.
        const buf = this.#buf;
        if (
          r instanceof Uint8Array && r.buffer === buf.data.buffer &&
          !buf.handOver(r)
        ) {
          return buf.own(r) as T;
        }
        return r;
      }
      this.#inBatch = false;
      if (input.eof || this.#stopped) {
        const left = input.length;
        throw new UnexpectedEofError(left, {
          message: left === 0
            ? "Cannot read: the stream ended"
            : `Cannot read: the stream ended with ${left} bytes of a partial read`,
        });
      }
      return NEED_MORE;
    };
    if (this.#first === null) {
      try {
        const r = step(this.#buf);
        if (r !== NEED_MORE) return Promise.resolve(r as T);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.wait(step) as Promise<T>;
  }

  /**
   * Queues a reader whose step needs more bytes than are buffered; the
   * step runs again as bytes arrive, in the order readers asked.
   *
   * @param step The step.
   * @returns A promise of its value.
   */
  wait<T>(step: ReadStep<T>): Promise<T | End> {
    return this.#enqueue(step, this.#borrow) as Promise<T | End>;
  }

  /** Queues a waiting reader: a step, or the next message (`step` null). */
  #enqueue(step: ReadStep<unknown> | null, borrow: boolean): Promise<unknown> {
    return new Promise<unknown>((resolve) => {
      this.waitWith(new PendingRead(step, borrow, resolve));
    });
  }

  /**
   * Queues a waiting reader that settles itself, in the order readers
   * asked: it is settled once, when the buffer can serve it.
   *
   * @param waiter The waiter.
   */
  waitWith(waiter: Waiter): void {
    if (this.#first === null) this.#first = waiter;
    else (this.#more ??= []).push(waiter);
    this.#serve();
  }

  /** Called on the next turn of the event loop after the budget ran out. */
  resume(): void {
    this.#yielding = false;
    this.#budget = BUDGET;
    this.#serve();
  }

  /** Reads no more from the socket; what is buffered is still decoded. */
  stop(): void {
    this.#stopped = true;
    this.#unyield();
    this.#serve();
  }

  /** Fails every waiting reader (the connection was aborted). */
  fail(error: Error): void {
    this.#error ??= error;
    this.#unyield();
    this.#serve();
  }

  /**
   * The budget ran out: the reader waits for the next turn of the event
   * loop, queued once however many readers ask meanwhile (and whether or
   * not a socket read may follow: a lingering close's readers drain what
   * is buffered a budget at a time too).
   */
  #yield(): void {
    this.#inBatch = false;
    if (this.#yielding) return;
    this.#yielding = true;
    scheduler.yieldReader(this);
  }

  #unyield(): void {
    if (this.#yielding) {
      this.#yielding = false;
      this.#budget = BUDGET;
      scheduler.unyieldReader(this);
    }
  }

  #failWith(err: unknown): Error {
    const error = err instanceof Error ? err : toNetError(err);
    this.#error ??= error;
    return error;
  }

  /** Settles the waiting readers that the buffer can serve; reads for the rest. */
  #serve(): void {
    for (let w = this.#first; w !== null; w = this.#first) {
      let r: unknown;
      this.#serving = true;
      try {
        r = w.step === null ? this.poll(w.borrow) : w.step(this.#buf);
      } catch (err) {
        this.#shift();
        w.settle(err, true);
        continue;
      } finally {
        this.#serving = false;
      }
      if (r === NEED_MORE) {
        if (this.#reading) return;
        if (this.#startRead()) return;
        continue;
      }
      this.#shift();
      w.settle(r, false);
    }
  }

  #shift(): void {
    this.#first = this.#more?.shift() ?? null;
    if (this.#more?.length === 0) this.#more = null;
  }

  /** Starts one socket read; `false` when the buffer refused (the error is recorded). */
  #startRead(): boolean {
    const host = this.#host;
    host.beforeRead();
    if (
      this.#reading || this.#lingering || this.#yielding || this.#pinned
    ) return true;
    let space: Uint8Array;
    try {
      space = this.#buf.space(this);
    } catch (err) {
      this.#failWith(err);
      return false;
    }
    if (space.length === 0) {
      // A writer is sending bytes of the buffer from where they are: the
      // read waits for them to be written, then reuses the memory.
      this.#pinned = true;
      host.readHeld();
      return true;
    }
    host.readWait();
    this.#reading = true;
    const read = host.read(space);
    this.#pending = read;
    read.then(this.#onRead, this.#onReadError);
    return true;
  }

  /**
   * The writers released the buffer's memory that the next read waited
   * for (a method, not a closure per connection).
   */
  released(): void {
    this.#pinned = false;
    this.#serve();
  }

  readonly #onRead = (n: number | null): void => {
    this.#reading = false;
    this.#pending = null;
    // Taken over by a lingering close: its bytes are discarded.
    if (this.#lingering) return;
    this.#budget = BUDGET;
    if (n === null) {
      this.#buf.eof = true;
      this.#host.readEnded();
    } else {
      this.#buf.commit(n);
      this.#host.bytesRead(n);
    }
    this.#serve();
  };

  readonly #onReadError = (err: unknown): void => {
    this.#reading = false;
    this.#pending = null;
    if (this.#lingering) return;
    if (this.#host.isClosed()) {
      // Closed here while the read was pending: the stream ends.
      this.#buf.eof = true;
    } else if (this.#error === null) {
      const error = toNetError(err, "Cannot read from connection");
      this.#error = error;
      this.#host.readFailed(error);
    }
    this.#serve();
  };
}
