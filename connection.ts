// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode Connection}: a framed, full-duplex connection over a socket,
 * shared by {@linkcode connect} and {@linkcode serve}.
 *
 * The hot path is `conn.read()` into a reused buffer → the codec's
 * synchronous decoder → your code → one coalesced `conn.write()` for all
 * the replies to one read. Web streams ({@linkcode Connection.readable},
 * {@linkcode Connection.writable}) are a face over the same machinery.
 *
 * ## States
 *
 * ```text
 *             closeWrite()                 read EOF
 *   OPEN ──────────────────► WRITE_CLOSED ────────────► CLOSED
 *     │  read EOF (peer half-closed): READ_CLOSED, can still send
 *     │
 *     │  close() / idle timeout: flush what was sent, FIN
 *     ├──────────────────────────────► LINGERING ──────────► CLOSED
 *     │   (close() resolves here)     read and discard until the peer's
 *     │                               EOF, lingerTimeout or lingerTime
 *     │
 *     └─ abort(reason) / read or write timeout / socket error ─► CLOSED
 *        (also from LINGERING)                   (`closed` rejects)
 * ```
 *
 * A graceful close lingers so that the peer gets every reply: closing a
 * socket with unread input sends RST, and the peer's kernel drops what
 * its application has not read yet. An idle timeout closes gracefully
 * too, and `closed` then rejects with its {@linkcode TimeoutError}.
 *
 * Reading EOF never closes the write side: a peer that half-closes still
 * gets every reply (Deno's own `conn.readable` closes the whole socket at
 * EOF; netkit reads with `conn.read()` to avoid that).
 *
 * @module
 */

import { ByteBuffer, type Codec, raw } from "./codec.ts";
import type { DecodeInput, NeedMore } from "./codec/read_buffer.ts";
import { NEED_MORE } from "./codec/read_buffer.ts";
import {
  ConnectionClosedError,
  DecodeError,
  FrameTooLargeError,
  type TimeoutError,
  TlsError,
  toNetError,
  UnexpectedEofError,
} from "./errors.ts";
import {
  END,
  FrameReader,
  type ReaderHost,
  stopReading,
} from "./_frame_reader.ts";
import type { WaterMarks } from "./flow.ts";
import {
  type ConnectionOptions,
  makeTimeouts,
  makeWaterMarks,
} from "./_options.ts";
import { Deadlines } from "./_deadlines.ts";
import { drainInput, sendFin } from "./_linger.ts";

export type {
  CommonConnectionOptions,
  ConnectionOptions,
  TimeoutOptions,
} from "./_options.ts";

/**
 * The byte transport under a {@linkcode Connection}: what `Deno.Conn`
 * offers. {@linkcode Connection} takes a `Deno.TcpConn`, `Deno.TlsConn`,
 * `Deno.UnixConn`, or anything else of this shape (the in-memory pipes of
 * `testing.ts`).
 */
export interface Transport {
  /** Reads into `p`; resolves with the count, or `null` at EOF; rejects with an error. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes from `p`; resolves with the count written (may be partial). */
  write(p: Uint8Array): Promise<number>;
  /** Shuts down the write side (sends FIN). */
  closeWrite(): Promise<void>;
  /** Closes the transport; pending reads and writes fail. */
  close(): void;
  /** The local address. */
  readonly localAddr: Deno.Addr;
  /** The remote address. */
  readonly remoteAddr: Deno.Addr;
}

/** Counters of one connection, as {@linkcode Connection.stats}. */
export interface ConnectionStats {
  /** Bytes read from the socket. */
  bytesRead: number;
  /** Bytes written to the socket. */
  bytesWritten: number;
  /** Messages decoded. */
  messagesRead: number;
  /** Messages encoded. */
  messagesWritten: number;
  /** Socket writes made (fewer than messages when writes coalesce). */
  writes: number;
  /** When the connection opened, as `Date.now()`. */
  openedAt: number;
}

/** Options for {@linkcode Connection.readUntil} and {@linkcode Connection.readLine}. */
export interface ReadUntilOptions {
  /**
   * The most bytes before the delimiter.
   *
   * @default {65536}
   */
  maxLength?: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

function noop(): void {}

/**
 * The connections whose replies wait for the application to take the rest
 * of a read's messages. One still waiting when a later task starts has an
 * application that stopped taking them (it awaits something else): its
 * replies go out then. Any connection's read completing starts such a task,
 * so a busy server flushes them at once; a timer shared by every
 * connection covers a quiet one within `SWEEP_MS`. (A shorter timer costs
 * a pipelining connection 5–10% of its throughput: it is re-armed for
 * almost every read.) The timer is cleared when the set empties, so no
 * timer outlives the connections that need it.
 */
const sweepFlush = Symbol("sweepFlush");
const deferred = new Set<{ [sweepFlush](): void }>();
let sweepTimer: ReturnType<typeof setTimeout> | undefined;
const SWEEP_MS = 10;

/** Flushes the connections deferred in an earlier task. */
function flushStalled(): void {
  if (deferred.size === 0) return;
  const conns = [...deferred];
  deferred.clear();
  for (const conn of conns) conn[sweepFlush]();
}

function sweep(): void {
  sweepTimer = undefined;
  flushStalled();
}

function deferFlush(conn: { [sweepFlush](): void }): void {
  deferred.add(conn);
  sweepTimer ??= setTimeout(sweep, SWEEP_MS);
}

/**
 * The connections that queued replies in this tick: flushed together by
 * one microtask at its end.
 */
const microFlush = Symbol("microFlush");
const microFlushes: Array<{ [microFlush](): void }> = [];

function runMicroFlushes(): void {
  try {
    // A flush may queue another connection: the loop reaches it too.
    for (let i = 0; i < microFlushes.length; i++) {
      microFlushes[i]![microFlush]();
    }
  } finally {
    microFlushes.length = 0;
  }
}

function queueMicroFlush(conn: { [microFlush](): void }): void {
  if (microFlushes.push(conn) === 1) queueMicrotask(runMicroFlushes);
}

function undeferFlush(conn: { [sweepFlush](): void }): void {
  deferred.delete(conn);
  if (deferred.size === 0 && sweepTimer !== undefined) {
    clearTimeout(sweepTimer);
    sweepTimer = undefined;
  }
}

/**
 * Write buffers not in use, shared by every connection: a connection takes
 * one for the messages it encodes and gives it back once they are written.
 * Bounded in count; buffers that grew past `POOL_MAX_BYTES` stay with
 * their connection instead.
 */
const bufferPool: ByteBuffer[] = [];
const POOL_MAX_BUFFERS = 64;
const POOL_MAX_BYTES = 65536;

function takeBuffer(): ByteBuffer {
  return bufferPool.pop() ?? new ByteBuffer(256);
}

function giveBuffer(buf: ByteBuffer): void {
  if (bufferPool.length < POOL_MAX_BUFFERS) {
    buf.clear();
    bufferPool.push(buf);
  }
}

const pipeFast = Symbol("pipeFast");
const nextMessage = Symbol("nextMessage");
const writableTarget = Symbol("writableTarget");
const writableController = Symbol("writableController");

/**
 * A connection's readable face: a `ReadableStream` whose `pipeTo` into a
 * connection's writable face moves whole reads at a time.
 */
class MessageReadable<T> extends ReadableStream<T> {
  readonly #conn: Connection<T, unknown>;

  constructor(
    conn: Connection<T, unknown>,
    source: UnderlyingDefaultSource<T>,
    strategy: QueuingStrategy<T>,
  ) {
    super(source, strategy);
    this.#conn = conn;
  }

  override pipeTo(
    dest: WritableStream<T>,
    options?: StreamPipeOptions,
  ): Promise<void> {
    return this.#conn[pipeFast](this, dest, options) ??
      super.pipeTo(dest, options);
  }
}

/** What a pipe needs of the connection behind a writable face. */
interface PipeTarget<T> {
  write(message: T): boolean;
  drain(): Promise<void>;
  flush(): Promise<void>;
  readonly closed: Promise<void>;
}

/** A connection's writable face, known to {@linkcode MessageReadable}. */
class MessageWritable<T> extends WritableStream<T> {
  readonly [writableTarget]: PipeTarget<T>;
  [writableController]: WritableStreamDefaultController | null = null;

  constructor(conn: PipeTarget<T>, sink: UnderlyingSink<T>) {
    let controller: WritableStreamDefaultController | null = null;
    super({
      ...sink,
      start: (c) => {
        controller = c;
      },
    }, { highWaterMark: 1 });
    this[writableTarget] = conn;
    this[writableController] = controller;
  }
}

/** Settles a reader waiting for a message: a result, or a rejected promise. */
type Settle<T> = (
  r: IteratorResult<T> | PromiseLike<IteratorResult<T>>,
) => void;

/** The end of a stream of messages. */
const END_RESULT: IteratorResult<never, undefined> = Object.freeze({
  done: true,
  value: undefined,
});
const DONE: Promise<IteratorResult<never, undefined>> = Promise.resolve(
  END_RESULT,
);
const LF = new Uint8Array([10]);
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The iterator of a connection's `for await`: one small object. */
class MessageIterator<T> implements AsyncIterator<T> {
  readonly #conn: { [nextMessage](): Promise<IteratorResult<T>> };

  constructor(conn: { [nextMessage](): Promise<IteratorResult<T>> }) {
    this.#conn = conn;
  }

  next(): Promise<IteratorResult<T>> {
    return this.#conn[nextMessage]();
  }

  return(): Promise<IteratorResult<T, undefined>> {
    return DONE;
  }
}

/** Errors a stream through its controller unless it is done already. */
function errorQuietly(
  controller: { error(reason?: unknown): void },
  reason: unknown,
): void {
  try {
    controller.error(reason);
  } catch {
    // Closed or errored already.
  }
}

/**
 * A framed, full-duplex connection: send and receive messages through a
 * codec, with backpressure, timeouts, half-close and statistics.
 *
 * @example Echo over an in-memory pipe
 * ```ts
 * import { Connection, lines, text } from "@netkit/net";
 * import { connectionPair } from "@netkit/net/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const [a, b] = connectionPair({ codec: text(lines()) });
 * await a.send("Hello, World!");
 * await a.closeWrite();
 * for await (const msg of b) await b.send(msg.toUpperCase());
 * await b.close();
 * assertEquals(await Array.fromAsync(a), ["HELLO, WORLD!"]);
 * await a.close();
 * ```
 *
 * @typeParam In What the connection receives.
 * @typeParam Out What the connection sends.
 */
export class Connection<In = Uint8Array, Out = In>
  implements AsyncIterable<In>, AsyncDisposable {
  #t: Transport;
  readonly #reader: FrameReader<In>;
  #encoderImpl;
  readonly #remoteAddr: Deno.Addr;
  readonly #stats: ConnectionStats;
  readonly #marks: WaterMarks;
  /** The idle, read and write deadlines; null when no timeout is set. */
  readonly #deadlines: Deadlines | null;
  readonly #lingerTimeout: number;
  readonly #lingerTime: number;
  /**
   * A lingering close owns the socket's read side: what the read under
   * way returns is discarded, and no read is started here any more.
   */
  #lingering = false;

  // Reading.
  #faceInUse: "iterator" | "readable" | null = null;
  #readable: ReadableStream<In> | null = null;
  #readableController: ReadableStreamDefaultController<In> | null = null;
  /** A pull of the readable face waits for a message. */
  #pulling = false;
  #writable: WritableStream<Out> | null = null;

  // Writing.
  /**
   * Where messages are encoded; taken from the shared pool by the first
   * message after a write and given back when its bytes are written, so
   * an idle connection holds no write buffer.
   */
  #out: ByteBuffer | null = null;
  /**
   * A buffer too large for the pool, kept for the messages sent while the
   * other one is being written: a connection that moves large batches
   * reuses its two buffers instead of growing new ones.
   */
  #spare: ByteBuffer | null = null;

  /** Bytes encoded and not yet handed to a socket write. */
  #pendingBytes(): number {
    return this.#out?.length ?? 0;
  }
  #writing = false;
  #flushWaiters: Array<() => void> | null = null;
  #writeClosed = false;
  #closeWriteRequested: Promise<void> | null = null;

  // Lifecycle.
  #error: Error | null = null;
  #closedSettled = false;
  #closing: Promise<void> | null = null;
  /** Made when first asked for: most connections are never awaited. */
  #closed: Promise<void> | null = null;
  #resolveClosed: (() => void) | null = null;
  #rejectClosed: ((err: Error) => void) | null = null;
  /** How the connection ended, once it has: null for a clean close. */
  #endedWith: Error | null | undefined = undefined;

  /**
   * Wraps a transport.
   *
   * @param transport A `Deno.Conn` or another {@linkcode Transport}.
   * @param options The codec, water marks and timeouts.
   */
  constructor(transport: Transport, options: ConnectionOptions<In, Out> = {}) {
    const codec = options.codec ??
      (raw() as unknown as Codec<In, Out>);
    this.#t = transport;
    this.#encoderImpl = codec.encoder();
    this.#remoteAddr = options.remoteAddr ?? transport.remoteAddr;
    this.#marks = makeWaterMarks(options);
    const { idle, read, write, lingerTimeout, lingerTime } = makeTimeouts(
      options,
    );
    this.#stats = {
      bytesRead: 0,
      bytesWritten: 0,
      messagesRead: 0,
      messagesWritten: 0,
      writes: 0,
      openedAt: Date.now(),
    };
    this.#lingerTimeout = lingerTimeout;
    this.#lingerTime = lingerTime;
    this.#deadlines = idle > 0 || read > 0 || write > 0
      ? new Deadlines(idle, read, write, (err) => this.#expire(err))
      : null;
    this.#reader = new FrameReader<In>(
      this.#readerHost(),
      codec.decoder(),
      options.borrow ?? false,
      options.initialBytes,
    );
  }

  /** What the frame reader asks of this connection. */
  #readerHost(): ReaderHost {
    const deadlines = this.#deadlines;
    const stats = this.#stats;
    // deno-lint-ignore no-this-alias
    const conn = this;
    return {
      read: (p) => this.#t.read(p),
      beforeRead: () => this.#flushSoon(),
      readWait: () => deadlines?.readWait(),
      bytesRead: (n) => {
        // A read's completion starts a task: replies deferred before it
        // are stuck behind an application that stopped taking messages.
        flushStalled();
        stats.bytesRead += n;
        deadlines?.activity();
      },
      messageRead: () => {
        stats.messagesRead++;
        deadlines?.readDone();
      },
      readEnded: () => {
        deadlines?.readDone();
        this.#maybeFinish();
      },
      get isClosed() {
        return conn.#closedSettled;
      },
      readFailed: (err) => this.#fail(err),
    };
  }

  /** Reads no more from the socket (a server's graceful shutdown). */
  [stopReading](): void {
    this.#reader.stop();
  }

  /** The local address of the socket. */
  get localAddr(): Deno.Addr {
    return this.#t.localAddr;
  }

  /**
   * The peer's address: the client's real address when a PROXY protocol
   * header was read, else the socket's remote address.
   */
  get remoteAddr(): Deno.Addr {
    return this.#remoteAddr;
  }

  /** Live counters of bytes and messages in and out. */
  get stats(): Readonly<ConnectionStats> {
    return this.#stats;
  }

  /** Bytes queued for writing and not yet written to the socket. */
  get bufferedAmount(): number {
    return this.#marks.buffered;
  }

  /** Whether a write would be under the high-water mark now. */
  get writableNow(): boolean {
    return this.#marks.writable && this.#error === null && !this.#writeClosed;
  }

  /**
   * The error that ended the connection, or `null` while it is open or
   * when it closed cleanly.
   */
  get error(): Error | null {
    return this.#error ?? this.#reader.error;
  }

  /**
   * Settles when the socket is closed: resolves after a clean close, and
   * rejects with the error after an abort, a timeout or a socket error.
   */
  get closed(): Promise<void> {
    if (this.#closed === null) {
      const ended = this.#endedWith;
      if (ended === null) {
        this.#closed = RESOLVED;
      } else if (ended !== undefined) {
        this.#closed = Promise.reject(ended);
        this.#closed.catch(noop);
      } else {
        this.#closed = new Promise<void>((resolve, reject) => {
          this.#resolveClosed = resolve;
          this.#rejectClosed = reject;
        });
        this.#closed.catch(noop);
      }
    }
    return this.#closed;
  }

  /** The underlying transport, for what netkit does not wrap. */
  get transport(): Transport {
    return this.#t;
  }

  // -------------------------------------------------------------------------
  // Reading

  /**
   * Receives the next message, or `undefined` at the end of the stream (a
   * decoder never yields `undefined`, so a message whose value is `null`,
   * such as JSON's `null` or RESP's nil, is told apart from the end).
   *
   * @returns The message, or `undefined` after the peer's EOF.
   * @throws {UnexpectedEofError} The stream ended inside a frame.
   * @throws {FrameTooLargeError | DecodeError} The peer sent bad bytes:
   * every message before them was received first; the read side is done,
   * and the connection can still send (an error reply) before it closes.
   * @throws {TimeoutError} A read or idle timeout ended the connection.
   */
  async receive(): Promise<In | undefined> {
    const r = await this.#next();
    return r.done ? undefined : r.value;
  }

  /**
   * Iterates over received messages until the peer's EOF.
   *
   * @returns An iterator of messages.
   */
  [Symbol.asyncIterator](): AsyncIterator<In> {
    this.#claimFace("iterator");
    return new MessageIterator(this);
  }

  /** The next message, for the iterators of this connection. */
  [nextMessage](): Promise<IteratorResult<In>> {
    return this.#next();
  }

  /**
   * The received messages as a web stream. Use either this or the async
   * iterator, not both. Its byte messages are always copies.
   */
  get readable(): ReadableStream<In> {
    if (this.#readable) return this.#readable;
    this.#claimFace("readable");
    this.#readable = new MessageReadable<In>(this, {
      start: (controller) => {
        this.#readableController = controller;
      },
      pull: async (controller) => {
        this.#pulling = true;
        let r: In | typeof END;
        try {
          r = await this.#reader.next(false);
        } finally {
          this.#pulling = false;
        }
        if (r === END) {
          this.#flushSoon();
          controller.close();
          return;
        }
        controller.enqueue(r);
      },
      cancel: (reason) => {
        this.abort(reason);
      },
    }, { highWaterMark: 0 });
    return this.#readable;
  }

  /**
   * The sending side as a web stream: each chunk is sent with
   * {@linkcode Connection.send} (so a pipe honours backpressure), closing
   * the stream half-closes the connection with
   * {@linkcode Connection.closeWrite} (replies can still be read), and
   * aborting it aborts the connection.
   *
   * Piping a connection's `readable` into a connection's `writable`
   * (`conn.readable.pipeTo(conn.writable)` for an echo, or into another
   * connection for a relay) moves the messages of each read in one step
   * rather than one stream chunk at a time, with the outcome of a generic
   * pipe: the same backpressure, closing, aborting and cancelling.
   */
  get writable(): WritableStream<Out> {
    if (this.#writable) return this.#writable;
    this.#writable = new MessageWritable<Out>(this, {
      write: (message) => this.send(message),
      close: () => this.closeWrite(),
      abort: (reason) => {
        this.abort(reason);
      },
    });
    return this.#writable;
  }

  /**
   * Pipes the readable face into a connection's writable face without a
   * stream chunk per message; `null` when the generic pipe must run (a
   * pull is under way, or the options ask for what only it does).
   */
  [pipeFast](
    source: ReadableStream<In>,
    dest: WritableStream<In>,
    options: StreamPipeOptions | undefined,
  ): Promise<void> | null {
    if (
      !(dest instanceof MessageWritable) || source.locked || dest.locked ||
      this.#pulling || this.#readableController === null ||
      options?.signal !== undefined || options?.preventCancel === true
    ) {
      return null;
    }
    return this.#pipe(
      source.getReader(),
      dest.getWriter(),
      dest[writableTarget],
      dest[writableController]!,
      options?.preventClose === true,
      options?.preventAbort === true,
    );
  }

  async #pipe(
    reader: ReadableStreamDefaultReader<In>,
    writer: WritableStreamDefaultWriter<In>,
    to: PipeTarget<In>,
    toController: WritableStreamDefaultController,
    preventClose: boolean,
    preventAbort: boolean,
  ): Promise<void> {
    const controller = this.#readableController!;
    const frames = this.#reader;
    // Another connection ending while this one waits for bytes ends the
    // pipe then, not at the next message. (Piped into itself, the end of
    // the connection ends the reading too.)
    let destError: Error | null = null;
    let piping = true;
    if (to as unknown !== this) {
      const destEnded = (err?: unknown) => {
        if (!piping || destError !== null) return;
        destError = err instanceof Error
          ? err
          : new ConnectionClosedError("Cannot pipe: the destination closed");
        this.abort(destError);
      };
      to.closed.then(() => destEnded(), destEnded);
    }
    let sourceError: unknown = null;
    let ended = false;
    try {
      // Messages the stream already holds go first.
      while ((controller.desiredSize ?? 0) < 0) {
        const r = await reader.read();
        if (r.done) {
          ended = true;
          break;
        }
        if (!to.write(r.value)) await to.drain();
      }
      // Each message is encoded by the destination before the next is
      // decoded, so it may be a view of the read buffer.
      pump: while (!ended && destError === null) {
        let m: In | typeof END | NeedMore;
        try {
          m = await frames.next(true);
        } catch (err) {
          sourceError = err;
          break;
        }
        // Every message buffered, each written as it is decoded.
        while (m !== NEED_MORE) {
          if (m === END) {
            ended = true;
            break pump;
          }
          if (!to.write(m)) await to.drain();
          try {
            m = frames.poll(true);
          } catch (err) {
            sourceError = err;
            break pump;
          }
        }
      }
    } catch (err) {
      destError ??= err instanceof Error ? err : toNetError(err);
    } finally {
      piping = false;
    }
    if (destError !== null) {
      const err: Error = destError;
      errorQuietly(toController, err);
      writer.releaseLock();
      await reader.cancel(err).catch(noop);
      reader.releaseLock();
      throw err;
    }
    if (sourceError !== null) {
      errorQuietly(controller, sourceError);
      reader.releaseLock();
      // Nothing reads this connection any more: it closes, flushing what
      // it was sent to write.
      if (to as unknown !== this) void this.close();
      if (preventAbort) {
        writer.releaseLock();
      } else {
        // The messages before the bad bytes were accepted: they go out
        // before the abort.
        await to.flush().catch(noop);
        await writer.abort(sourceError).catch(noop);
      }
      throw sourceError;
    }
    this.#flushSoon();
    try {
      controller.close();
    } catch {
      // Closed already.
    }
    reader.releaseLock();
    if (preventClose) writer.releaseLock();
    else await writer.close();
  }

  #claimFace(face: "iterator" | "readable"): void {
    if (this.#faceInUse !== null && this.#faceInUse !== face) {
      throw new TypeError(
        `Cannot read with the ${face}: the ${this.#faceInUse} is already reading this connection`,
      );
    }
    this.#faceInUse = face;
  }

  /** The next message as an iterator result. */
  #next(): Promise<IteratorResult<In>> {
    let r: In | typeof END | NeedMore;
    try {
      r = this.#reader.poll();
    } catch (err) {
      this.#flushSoon();
      return Promise.reject(err);
    }
    if (r === NEED_MORE) {
      return this.#reader.wait(this.#iteratorStep) as Promise<
        IteratorResult<In>
      >;
    }
    if (r === END) {
      // Replies to the last messages go out now.
      this.#flushSoon();
      return DONE;
    }
    return Promise.resolve({ done: false, value: r });
  }

  /** The step of a reader waiting for the next message. */
  readonly #iteratorStep = (): IteratorResult<In> | NeedMore => {
    const r = this.#reader.poll();
    if (r === NEED_MORE) return NEED_MORE;
    if (r === END) {
      this.#flushSoon();
      return END_RESULT;
    }
    return { done: false, value: r };
  };

  // -------------------------------------------------------------------------
  // Procedural reads

  /**
   * Reads with a one-off decode step over the connection's read buffer:
   * the step returns a value after consuming its bytes, or
   * `input.needMore(n)`. It shares the buffer with the codec, so procedural
   * reads and messages can follow each other at message boundaries
   * without losing a byte. The `read*` methods are built on it.
   *
   * @example Read a RESP-style header line, then a bulk of its length
   * ```ts
   * import { Connection } from "@netkit/net";
   * import { connectionPair } from "@netkit/net/testing";
   * import { assertEquals } from "@std/assert";
   *
   * const [a, b] = connectionPair();
   * await a.send(new TextEncoder().encode("$5\r\nhello\r\n"));
   * const header = await b.readLine();
   * const body = await b.readExactly(Number(header!.slice(1)) + 2);
   * assertEquals(new TextDecoder().decode(body.subarray(0, 5)), "hello");
   * await a.close();
   * await b.close();
   * ```
   *
   * @typeParam T What the step yields.
   * @param decode The step.
   * @returns What the step yields.
   * @throws {UnexpectedEofError} The stream ended before the step was done
   * (`remaining` says how many bytes were left).
   */
  readWith<T>(decode: (input: DecodeInput) => T | NeedMore): Promise<T> {
    return this.#reader.read(decode);
  }

  /**
   * Reads exactly `n` bytes.
   *
   * @param n How many bytes.
   * @returns A new array of `n` bytes.
   * @throws {UnexpectedEofError} The stream ended first.
   * @throws {RangeError} `n` is not a non-negative integer, or is over the
   * read buffer's bound.
   */
  readExactly(n: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(n) || n < 0) {
      return Promise.reject(
        new RangeError(
          `Cannot read: the byte count must be a non-negative integer, received ${n}`,
        ),
      );
    }
    return this.#reader.read((input) =>
      input.length >= n ? input.copy(n) : input.needMore(n)
    );
  }

  /**
   * Reads up to and including a delimiter, returning the bytes before it.
   *
   * @param delimiter The delimiter (a string is UTF-8).
   * @param options The most bytes before the delimiter.
   * @returns A new array of the bytes before the delimiter.
   * @throws {FrameTooLargeError} No delimiter within `maxLength` bytes (the
   * bytes stay buffered).
   * @throws {UnexpectedEofError} The stream ended first.
   */
  readUntil(
    delimiter: Uint8Array | string,
    options: ReadUntilOptions = {},
  ): Promise<Uint8Array> {
    const delim = typeof delimiter === "string"
      ? new TextEncoder().encode(delimiter)
      : delimiter;
    const max = options.maxLength ?? 65536;
    if (delim.length === 0) {
      return Promise.reject(
        new TypeError("Cannot read: the delimiter is empty"),
      );
    }
    let from = 0;
    return this.#reader.read((input) => {
      const at = input.indexOf(delim, from);
      if (at === -1) {
        if (input.length - delim.length + 1 > max) {
          throw new FrameTooLargeError(input.length, max, {
            message:
              `Cannot read: no delimiter within maxLength ${max} bytes (${input.length} buffered)`,
          });
        }
        from = Math.max(0, input.length - delim.length + 1);
        return input.needMore();
      }
      if (at > max) {
        throw new FrameTooLargeError(at, max, { limitName: "maxLength" });
      }
      const bytes = input.copy(at);
      input.skip(delim.length);
      return bytes;
    });
  }

  /**
   * Reads a line ending in LF or CR LF, as UTF-8 text without its ending;
   * `undefined` at the end of the stream.
   *
   * @param options The most bytes in the line.
   * @returns The line, or `undefined` after the peer's EOF.
   * @throws {FrameTooLargeError} The line is longer than `maxLength`.
   * @throws {UnexpectedEofError} The stream ended inside a line.
   * @throws {DecodeError} The line is not valid UTF-8.
   */
  async readLine(
    options: ReadUntilOptions = {},
  ): Promise<string | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.readUntil(LF, options);
    } catch (err) {
      if (err instanceof UnexpectedEofError && err.remaining === 0) {
        return undefined;
      }
      throw err;
    }
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 13
      ? bytes.length - 1
      : bytes.length;
    try {
      return UTF8.decode(bytes.subarray(0, end));
    } catch (err) {
      throw new DecodeError(
        `Cannot read line: invalid UTF-8 in ${end} bytes`,
        { cause: err },
      );
    }
  }

  /**
   * Reads an unsigned integer of `width` bytes.
   *
   * @param width 1 to 6 bytes (8 when the value stays under 2⁵³).
   * @param littleEndian Low byte first.
   * @returns The value.
   * @throws {UnexpectedEofError} The stream ended first.
   */
  readUint(
    width: 1 | 2 | 3 | 4 | 6 | 8,
    littleEndian = false,
  ): Promise<number> {
    return this.#reader.read((input) => {
      if (input.length < width) return input.needMore(width);
      const v = input.readUint(0, width, littleEndian);
      input.skip(width);
      return v;
    });
  }

  /**
   * Switches to another codec at a message boundary: the bytes already
   * buffered are decoded by the new codec, none is lost. For protocols
   * that change framing (a line handshake, then binary frames).
   *
   * @example Lines, then length-prefixed frames
   * ```ts
   * import { lengthPrefixed, lines, text } from "@netkit/net";
   * import { connectionPair } from "@netkit/net/testing";
   * import { assertEquals } from "@std/assert";
   *
   * const [a, b] = connectionPair({ codec: text(lines()) });
   * await a.send("HELLO");
   * const bin = a.setCodec(lengthPrefixed());
   * await bin.send(new Uint8Array([1, 2, 3]));
   * assertEquals(await b.receive(), "HELLO");
   * const frames = b.setCodec(lengthPrefixed());
   * assertEquals(await frames.receive(), new Uint8Array([1, 2, 3]));
   * await a.close();
   * await b.close();
   * ```
   *
   * @typeParam I What the new codec decodes.
   * @typeParam O What the new codec encodes.
   * @param codec The new codec.
   * @returns This connection, typed for the new codec.
   */
  setCodec<I, O = I>(codec: Codec<I, O>): Connection<I, O> {
    const self = this as unknown as Connection<I, O>;
    self.#reader.setDecoder(codec.decoder());
    self.#encoderImpl = codec.encoder();
    return self;
  }

  /**
   * Upgrades a plain TCP client connection to TLS (STARTTLS): after the
   * plaintext exchange that asks for it, what was sent is flushed and the
   * socket is handed to `Deno.startTls`. No bytes may be buffered unread
   * and no read may be under way (the peer's TLS bytes must reach TLS).
   *
   * @param options As `Deno.startTls` takes them.
   * @returns A promise that resolves once the handshake is done.
   * @throws {TypeError} The transport is not a plain TCP connection, bytes
   * are buffered, or a read is under way.
   * @throws {TlsError} The handshake failed.
   */
  async startTls(options: Deno.StartTlsOptions = {}): Promise<void> {
    const t = this.#t;
    if ("handshake" in t || !("setNoDelay" in t)) {
      throw new TypeError(
        "Cannot start TLS: the connection is not a plain TCP connection",
      );
    }
    if (this.#reader.reading || this.#reader.buffer.length > 0) {
      throw new TypeError(
        `Cannot start TLS: ${this.#reader.buffer.length} bytes are buffered or a read is under way; upgrade right after the reply that agrees to it`,
      );
    }
    await this.flush();
    let tls: Deno.TlsConn;
    try {
      tls = await Deno.startTls(t as Deno.TcpConn, options);
      await tls.handshake();
    } catch (err) {
      const error = err instanceof TlsError ? err : new TlsError(
        `Cannot start TLS: ${err instanceof Error ? err.message : err}`,
        { cause: err },
      );
      this.#fail(error);
      throw error;
    }
    this.#t = tls;
  }

  // -------------------------------------------------------------------------
  // Writing

  /**
   * Queues a message for writing and returns whether the queue is still
   * under the high-water mark (like Node's `socket.write`). Messages queued
   * together go out in one socket write.
   *
   * @param message The message.
   * @returns `false` when the caller should wait for {@linkcode Connection.drain}.
   * @throws {ConnectionClosedError} The write side is closed.
   * @throws {FrameTooLargeError | TypeError} The codec cannot encode the message.
   */
  write(message: Out): boolean {
    if (this.#closedSettled || this.#error !== null) throw this.#closedError();
    if (this.#writeClosed || this.#closeWriteRequested || this.#closing) {
      throw new ConnectionClosedError(
        "Cannot write: the write side of the connection is closed",
      );
    }
    let out = this.#out;
    if (out === null) {
      out = this.#out = this.#spare ?? takeBuffer();
      this.#spare = null;
    }
    const before = out.length;
    try {
      this.#encoderImpl.encodeInto(message, out);
    } catch (err) {
      // A message the codec refuses leaves nothing behind.
      out.truncate(before);
      throw err;
    }
    const added = out.length - before;
    this.#stats.messagesWritten++;
    this.#marks.add(added);
    if (!this.#writing) {
      if (!this.#reader.inBatch) {
        // Messages queued in this tick go out together, in one write.
        if (!this.#flushQueued) {
          this.#flushQueued = true;
          queueMicroFlush(this);
        }
      } else if (!this.#deferred) {
        // Messages of the last read are still being handled: their
        // replies go out together when the last one is taken; the shared
        // sweep covers an application that stops taking them.
        this.#deferred = true;
        deferFlush(this);
      }
    }
    return this.#marks.writable;
  }

  /**
   * Sends a message: queues it, and resolves once the write queue is under
   * the high-water mark (at once, usually).
   *
   * @param message The message.
   * @returns A promise that resolves when more may be sent.
   * @throws {ConnectionClosedError} The write side is closed.
   * @throws {FrameTooLargeError | TypeError} The codec cannot encode the message.
   */
  send(message: Out): Promise<void> {
    try {
      return this.write(message) ? RESOLVED : this.drain();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Resolves when the write queue is at or under the low-water mark (at
   * once when it is under the high-water mark).
   *
   * @returns A promise that resolves when more may be sent.
   */
  drain(): Promise<void> {
    if (this.#closedSettled || this.#lingering) {
      return Promise.reject(this.#closedError());
    }
    if (this.#marks.writable) return RESOLVED;
    this.#flushSoon();
    return this.#marks.waitWritable();
  }

  /**
   * Resolves when every queued byte has been written to the socket.
   *
   * @returns A promise that resolves when the queue is empty.
   */
  flush(): Promise<void> {
    if (this.#closedSettled || this.#lingering) {
      return Promise.reject(this.#closedError());
    }
    if (!this.#writing && this.#pendingBytes() === 0) return RESOLVED;
    this.#flushSoon();
    return new Promise<void>((resolve, reject) => {
      (this.#flushWaiters ??= []).push(() => {
        if (this.#closedSettled && this.#pendingBytes() > 0) {
          reject(this.#closedError());
        } else if (this.#error) reject(this.#error);
        else resolve();
      });
    });
  }

  #flushQueued = false;
  /** Called by the shared end-of-tick flush. */
  [microFlush](): void {
    this.#flushQueued = false;
    this.#flushSoon();
  }

  /** Whether this connection waits in the shared deferred-flush set. */
  #deferred = false;
  /** Called by the shared sweep timer. */
  [sweepFlush](): void {
    this.#deferred = false;
    this.#flushSoon();
  }

  #flushSoon(): void {
    if (this.#deferred) {
      // The sweep timer is left to fire as a no-op: cheaper than clearing
      // and re-arming one per read. It is cleared at close.
      this.#deferred = false;
      deferred.delete(this);
    }
    if (!this.#writing && this.#pendingBytes() > 0 && !this.#closedSettled) {
      void this.#writeLoop();
    }
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pendingBytes() > 0 && !this.#closedSettled) {
        const buf = this.#out!;
        this.#out = null;
        const bytes = buf.bytes();
        const total = bytes.length;
        this.#deadlines?.writeBegin();
        let off = 0;
        while (off < total) {
          let n: number;
          try {
            n = await this.#t.write(off === 0 ? bytes : bytes.subarray(off));
          } catch (err) {
            if (this.#closedSettled) return;
            throw toNetError(err, "Cannot write to connection");
          }
          off += n;
          this.#stats.writes++;
          // The peer is reading: the write timeout counts from here.
          this.#deadlines?.writeProgress();
        }
        this.#stats.bytesWritten += total;
        this.#deadlines?.writeDone();
        if (buf.capacity <= POOL_MAX_BYTES) {
          giveBuffer(buf);
        } else {
          // A connection that moves large batches keeps its large buffers.
          buf.clear(1 << 20);
          if (this.#out === null) this.#out = buf;
          else this.#spare = buf;
        }
        this.#marks.remove(total);
      }
    } catch (err) {
      this.#fail(err instanceof Error ? err : toNetError(err));
    } finally {
      this.#writing = false;
      this.#deadlines?.writeStopped();
      const waiters = this.#flushWaiters;
      if (
        waiters !== null &&
        (this.#pendingBytes() === 0 || this.#closedSettled)
      ) {
        this.#flushWaiters = null;
        for (const w of waiters) w();
      }
      if (this.#pendingBytes() > 0 && !this.#closedSettled) {
        void this.#writeLoop();
      }
    }
  }

  /**
   * Half-closes: flushes what was queued, then shuts down the write side
   * (the peer reads EOF). Reading goes on until the peer's EOF.
   *
   * @returns A promise that resolves when the write side is shut.
   */
  closeWrite(): Promise<void> {
    if (this.#closeWriteRequested) return this.#closeWriteRequested;
    this.#closeWriteRequested = (async () => {
      await this.flush();
      if (this.#error || this.#writeClosed) return;
      try {
        await this.#t.closeWrite();
      } catch (err) {
        if (!this.#error) {
          throw toNetError(err, "Cannot close the write side");
        }
      }
      this.#writeClosed = true;
      this.#maybeFinish();
    })();
    return this.#closeWriteRequested;
  }

  // -------------------------------------------------------------------------
  // Lifecycle

  /**
   * Closes gracefully: flushes what was queued, sends FIN after the last
   * byte (TLS: close_notify), and stops reading for the application
   * (readers get the messages already decoded, then the end). Then the
   * connection lingers: it reads and discards what the peer still sends
   * until the peer's EOF, `lingerTimeout` without a byte, or `lingerTime`
   * in all, and only then closes the socket, so that the peer receives
   * every reply written (closing with unread input sends RST instead of
   * FIN, and the peer's kernel drops what its application has not read).
   * Use {@linkcode Connection.abort} to close at once.
   *
   * Safe to call more than once.
   *
   * @returns A promise that resolves when the FIN is sent: nothing more is
   * left to do but linger. {@linkcode Connection.closed} settles when the
   * socket is closed.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#closeGracefully(null);
  }

  /**
   * The graceful close: of `close()` (`reason` null), or of an idle
   * timeout (`reason` is the error, already recorded). Resolves when the
   * FIN is sent; the linger goes on, then the socket is closed. Never
   * rejects.
   */
  async #closeGracefully(reason: Error | null): Promise<void> {
    if (reason === null && !this.#closedSettled) {
      try {
        await this.flush();
      } catch {
        // The error is recorded; closing goes on.
      }
    }
    if (this.#closeWriteRequested !== null) {
      await this.#closeWriteRequested.catch(noop);
    }
    if (this.#closedSettled || this.#error !== reason) {
      this.#finish(reason ?? this.#reader.error);
      return;
    }
    const pending = this.#stopForLinger();
    const bounds = {
      lingerTimeout: this.#lingerTimeout,
      lingerTime: this.#lingerTime,
    };
    const finSent = this.#writeClosed || await sendFin(this.#t, bounds);
    this.#writeClosed = true;
    // A peer that sent bytes it could not decode did not end cleanly,
    // even though the replies owed to it were flushed.
    const ending = reason ?? this.#reader.error;
    if (!finSent || this.#reader.buffer.eof || this.#closedSettled) {
      this.#finish(ending);
      return;
    }
    // The read under way, if any, is the linger's first.
    void drainInput(this.#t, pending, bounds).then(() => this.#finish(ending));
  }

  /**
   * Hands the socket's read side over to the linger: readers get the
   * messages already buffered, then the end; no deadline fires any more.
   * Returns the socket read under way, which the linger takes over.
   */
  #stopForLinger(): Promise<number | null> | null {
    this.#lingering = true;
    this.#deadlines?.stop();
    return this.#reader.linger();
  }

  /**
   * A deadline passed. An idle connection with nothing to write closes
   * gracefully (with the linger), reporting the timeout; any other
   * timeout, or an idle one while a write is stuck, aborts.
   */
  #expire(err: TimeoutError): void {
    if (
      err.kind !== "idle" || this.#closing !== null || this.#writing ||
      this.#pendingBytes() > 0 || this.#error !== null || this.#closedSettled
    ) {
      this.#fail(err);
      return;
    }
    this.#error = err;
    this.#reader.fail(err);
    this.#closing = this.#closeGracefully(err);
  }

  /**
   * Closes at once: drops what is queued, fails pending reads and writes
   * with `reason`, and rejects {@linkcode Connection.closed} with it.
   *
   * @param reason Why; a {@linkcode ConnectionClosedError} when omitted.
   */
  abort(reason?: unknown): void {
    const err = reason instanceof Error
      ? reason
      : reason === undefined
      ? new ConnectionClosedError("Connection aborted")
      : toNetError(reason, "Connection aborted");
    this.#fail(err);
  }

  /** Closes gracefully, as {@linkcode Connection.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Records the first error and tears the connection down. During the
   * graceful close of an idle timeout, the same error again (a handler
   * that rethrows it) lets the close go on; another one cuts it short.
   */
  #fail(err: Error): void {
    if (this.#closedSettled || err === this.#error) return;
    this.#error ??= err;
    this.#reader.fail(this.#error);
    this.#finish(this.#error);
  }

  /** Closes the socket once both directions are done. */
  #maybeFinish(): void {
    if (this.#reader.buffer.eof && this.#writeClosed) this.#finish(null);
  }

  #finish(err: Error | null): void {
    if (this.#closedSettled) return;
    this.#closedSettled = true;
    this.#deadlines?.stop();
    try {
      this.#t.close();
    } catch {
      // Already closed.
    }
    this.#deferred = false;
    undeferFlush(this);
    this.#marks.close(err ?? this.#closedError());
    const waiters = this.#flushWaiters;
    this.#flushWaiters = null;
    for (const w of waiters ?? []) w();
    this.#endedWith = err;
    if (err) this.#rejectClosed?.(err);
    else this.#resolveClosed?.();
  }

  /** The error for an operation on a closed connection. */
  #closedError(): Error {
    return this.#error ??
      new ConnectionClosedError("Cannot use connection: it is closed");
  }

  /**
   * Whether the connection is closed (cleanly or not) for the
   * application: true from the FIN of a graceful close on, while the
   * socket may still linger ({@linkcode Connection.closed} settles when it
   * is closed).
   */
  get isClosed(): boolean {
    return this.#closedSettled || this.#lingering;
  }
}
