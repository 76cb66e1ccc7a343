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

import { ByteBuffer, type Codec, raw, StreamDecoder } from "./codec.ts";
import {
  ConnectionClosedError,
  type TimeoutError,
  toNetError,
} from "./errors.ts";
import type { WaterMarks } from "./flow.ts";
import { checkTimeout, makeWaterMarks, stopReading } from "./_internal.ts";
import { Deadlines } from "./_deadlines.ts";
import { drainInput, sendFin } from "./_linger.ts";

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

/** Timeouts of a connection, in milliseconds; `0` turns one off. */
export interface TimeoutOptions {
  /**
   * Ends the connection with a {@linkcode TimeoutError} (`kind: "idle"`)
   * when nothing was read or written for this long. A write the peer takes
   * no byte of counts as idle time: a peer that stops reading is idle even
   * while a write waits for it.
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * Ends the connection with a {@linkcode TimeoutError} (`kind: "read"`)
   * when a whole message takes longer than this to arrive while the
   * application waits for one; guards against peers that trickle bytes.
   *
   * @default {0}
   */
  readTimeout?: number;
  /**
   * Ends the connection with a {@linkcode TimeoutError} (`kind: "write"`)
   * when a socket write takes longer than this (the peer stopped reading).
   *
   * @default {0}
   */
  writeTimeout?: number;
  /**
   * A graceful close (`close()`, a server's shutdown, an idle timeout)
   * sends FIN after the last byte written, then reads and discards what
   * the peer still sends until its EOF, and only then closes the socket:
   * closing with unread bytes would send RST, and the peer's kernel would
   * drop the replies it has not read yet. This is the longest wait for the
   * peer's next bytes, in milliseconds (nginx's `lingering_timeout`); `0`
   * closes right after the FIN.
   *
   * @default {5000}
   */
  lingerTimeout?: number;
  /**
   * The longest a graceful close lingers in all, in milliseconds, however
   * much the peer sends (nginx's `lingering_time`); `0` closes right after
   * the FIN.
   *
   * @default {30000}
   */
  lingerTime?: number;
}

/** Options for {@linkcode Connection}. */
export interface ConnectionOptions<In, Out> extends TimeoutOptions {
  /**
   * The codec that frames messages.
   *
   * @default {raw()}
   */
  codec?: Codec<In, Out>;
  /**
   * Receives byte messages as views into the connection's read buffer
   * instead of copies: no allocation per read, but each message is valid
   * only until the next message is asked for (`receive()`, the next loop
   * of `for await`). For handlers that use or copy a message before taking
   * the next — an echo that writes it back, a parser that decodes it.
   * The `readable` face always copies. Text and JSON codecs gain nothing:
   * they borrow inside already.
   *
   * @default {false}
   */
  borrow?: boolean;
  /**
   * Bytes queued for writing at or above which {@linkcode Connection.send}
   * waits and {@linkcode Connection.write} returns `false`.
   *
   * @default {65536}
   */
  highWaterMark?: number;
  /**
   * Bytes queued at or below which waiting senders resume.
   *
   * @default {16384}
   */
  lowWaterMark?: number;
  /**
   * The largest read buffer. The buffer starts small (512 bytes) and grows
   * while reads fill it, so an idle connection holds little memory, and a
   * busy one reads a whole 64 KiB frame with its header at once.
   *
   * @default {262144}
   */
  readBufferSize?: number;
  /**
   * The peer's address to report instead of the socket's (the client's
   * real address read from a PROXY protocol header).
   *
   * @default {transport.remoteAddr}
   */
  remoteAddr?: Deno.Addr;
  /**
   * Bytes already read from the transport that belong to the stream
   * (what followed a PROXY header in the same read).
   *
   * @default {undefined}
   */
  initialBytes?: Uint8Array;
}

const RESOLVED: Promise<void> = Promise.resolve();
const MIN_READ_BUFFER = 512;

function noop(): void {}

function identity<T>(value: T): T {
  return value;
}

/** A copy of a borrowed byte message, for a consumer that may keep it. */
function ownMessage<T>(value: T): T {
  return (value instanceof Uint8Array ? value.slice() : value) as T;
}

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

/**
 * Where the decoder under way emits its messages: the queue of the
 * connection that called it. Decoding is synchronous, so one module-wide
 * function serves every connection.
 */
let emitTarget: unknown[] = [];

function emitToTarget(message: unknown): void {
  emitTarget.push(message);
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
const END: IteratorResult<never, undefined> = Object.freeze({
  done: true,
  value: undefined,
});
const DONE: Promise<IteratorResult<never, undefined>> = Promise.resolve(END);

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
  readonly #t: Transport;
  readonly #decoder: StreamDecoder<In>;
  readonly #borrow: boolean;
  readonly #encoderImpl;
  readonly #remoteAddr: Deno.Addr;
  readonly #stats: ConnectionStats;
  readonly #marks: WaterMarks;
  /** The idle, read and write deadlines; null when no timeout is set. */
  readonly #deadlines: Deadlines | null;
  readonly #lingerTimeout: number;
  readonly #lingerTime: number;
  readonly #maxRead: number;

  // Reading.
  #readBuf: Uint8Array;
  #smallReads = 0;
  #queue: In[] = [];
  #queueHead = 0;
  #readEof = false;
  /** A socket read is under way. */
  #reading = false;
  /** The socket read under way, for a lingering close to wait for. */
  #readInFlight: Promise<number | null> | null = null;
  /**
   * A lingering close owns the socket's read side: what the read under
   * way returns is discarded, and no read is started here any more.
   */
  #lingering = false;
  #initial: Uint8Array | null;
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
    this.#borrow = options.borrow ?? false;
    this.#decoder = new StreamDecoder(codec, { borrow: this.#borrow });
    this.#encoderImpl = codec.encoder();
    this.#remoteAddr = options.remoteAddr ?? transport.remoteAddr;
    this.#marks = makeWaterMarks(options);
    const idle = checkTimeout(options.idleTimeout, "idleTimeout");
    const read = checkTimeout(options.readTimeout, "readTimeout");
    const write = checkTimeout(options.writeTimeout, "writeTimeout");
    this.#maxRead = Math.max(
      MIN_READ_BUFFER,
      options.readBufferSize ?? 262144,
    );
    this.#readBuf = new Uint8Array(MIN_READ_BUFFER);
    this.#initial = options.initialBytes?.length ? options.initialBytes : null;
    this.#stats = {
      bytesRead: 0,
      bytesWritten: 0,
      messagesRead: 0,
      messagesWritten: 0,
      writes: 0,
      openedAt: Date.now(),
    };
    this.#lingerTimeout = options.lingerTimeout === undefined
      ? 5000
      : checkTimeout(options.lingerTimeout, "lingerTimeout");
    this.#lingerTime = options.lingerTime === undefined
      ? 30_000
      : checkTimeout(options.lingerTime, "lingerTime");
    this.#deadlines = idle > 0 || read > 0 || write > 0
      ? new Deadlines(idle, read, write, (err) => this.#expire(err))
      : null;
  }

  /** Reads no more from the socket (a server's graceful shutdown). */
  [stopReading](): void {
    this.#readStopped = true;
    this.#serveWaiters();
  }

  /** Set by a server's graceful shutdown: read no more from the socket. */
  #readStopped = false;

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
    return this.#error;
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
   * Receives the next message, or `null` at the end of the stream.
   *
   * @returns The message, or `null` after the peer's EOF.
   * @throws {UnexpectedEofError} The stream ended inside a frame.
   * @throws {FrameTooLargeError | DecodeError} The peer sent bad bytes;
   * the connection is aborted.
   * @throws {TimeoutError} A read or idle timeout ended the connection.
   */
  async receive(): Promise<In | null> {
    const r = await this.#next();
    return r.done ? null : r.value;
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
   * iterator, not both.
   */
  get readable(): ReadableStream<In> {
    if (this.#readable) return this.#readable;
    this.#claimFace("readable");
    this.#readable = new MessageReadable<In>(this, {
      start: (controller) => {
        this.#readableController = controller;
      },
      pull: async (controller) => {
        // The consumer took every message handed out: replies go now.
        this.#handedOut = false;
        this.#pulling = true;
        let r: IteratorResult<In>;
        try {
          r = await this.#next();
        } finally {
          this.#pulling = false;
        }
        if (r.done) {
          controller.close();
          return;
        }
        const own = this.#borrow ? ownMessage : identity;
        controller.enqueue(own(r.value));
        // Hand over the rest of this read's messages in the same pull.
        while (this.#queueHead < this.#queue.length) {
          controller.enqueue(own(this.#shift()));
        }
        // Until the next pull, replies to them are coalesced as if they
        // were still queued here.
        this.#handedOut = true;
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
    this.#handedOut = false;
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
      while (!ended && destError === null) {
        let r: IteratorResult<In>;
        try {
          r = await this.#next();
        } catch (err) {
          sourceError = err;
          break;
        }
        if (r.done) {
          ended = true;
          break;
        }
        // Every message of this read, each written as it is taken.
        let m = r.value;
        for (;;) {
          if (!to.write(m)) await to.drain();
          if (this.#queueHead === this.#queue.length) break;
          m = this.#shift();
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
      if (preventAbort) writer.releaseLock();
      else await writer.abort(sourceError).catch(noop);
      throw sourceError;
    }
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

  #shift(): In {
    const value = this.#queue[this.#queueHead]!;
    this.#queue[this.#queueHead++] = undefined as In;
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    }
    return value;
  }

  #next(): Promise<IteratorResult<In>> {
    if (this.#queueHead < this.#queue.length) {
      return Promise.resolve({ done: false, value: this.#shift() });
    }
    // Every message of the last read has been taken: the replies to them
    // go out now, in one write.
    this.#flushSoon();
    let r: IteratorResult<In> | null;
    try {
      r = this.#poll();
    } catch (err) {
      return Promise.reject(err);
    }
    if (r !== null) return Promise.resolve(r);
    // Only the resolving function is kept: a failure resolves the reader
    // with a rejected promise, and an idle connection holds one function
    // less.
    return new Promise<IteratorResult<In>>((resolve) => {
      if (this.#waitResolve === null) this.#waitResolve = resolve;
      else (this.#moreWaiters ??= []).push(resolve);
      if (!this.#reading) this.#startRead();
    });
  }

  /**
   * The next message or the end of the stream if either is known without
   * reading; `null` when a socket read must come first.
   *
   * @throws The error that ended the connection.
   */
  #poll(): IteratorResult<In> | null {
    for (;;) {
      if (this.#queueHead < this.#queue.length) {
        return { done: false, value: this.#shift() };
      }
      if (this.#error) throw this.#error;
      if (this.#readEof || this.#closedSettled) return END;
      if (this.#initial !== null) {
        // Bytes read before the connection was made.
        this.#decodeInitial();
        continue;
      }
      if (this.#readStopped) return END;
      return null;
    }
  }

  /** Hands what is known now to the readers waiting; reads for the rest. */
  #serveWaiters(): void {
    while (this.#waitResolve !== null) {
      let r: IteratorResult<In> | null;
      try {
        r = this.#poll();
      } catch (err) {
        const waiters = [this.#waitResolve, ...this.#moreWaiters ?? []];
        this.#waitResolve = null;
        this.#moreWaiters = null;
        for (const resolve of waiters) resolve(Promise.reject(err));
        return;
      }
      if (r === null) {
        if (!this.#reading) this.#startRead();
        return;
      }
      const resolve = this.#waitResolve;
      this.#waitResolve = this.#moreWaiters?.shift() ?? null;
      resolve(r);
    }
  }

  /** The first reader waiting for a message, if any. */
  #waitResolve: Settle<In> | null = null;
  /** Readers waiting behind the first (concurrent `receive()` calls). */
  #moreWaiters: Array<Settle<In>> | null = null;

  #decodeInitial(): void {
    const initial = this.#initial!;
    this.#initial = null;
    const before = this.#queue.length;
    try {
      emitTarget = this.#queue;
      this.#decoder.decode(initial, emitToTarget);
    } catch (err) {
      // Messages decoded before a bad frame are still delivered first.
      this.#fail(err instanceof Error ? err : toNetError(err));
    }
    this.#stats.messagesRead += this.#queue.length - before;
  }

  /** The readable face handed out messages its consumer has not all taken. */
  #handedOut = false;

  /**
   * Starts one socket read; when it has been decoded or has failed (the
   * error is recorded), the waiting readers are served.
   */
  #startRead(): void {
    this.#deadlines?.readWait();
    this.#reading = true;
    const read = this.#t.read(this.#readBuf);
    this.#readInFlight = read;
    read.then(this.#onReadSettled, this.#onReadSettled);
  }

  /**
   * Both outcomes of a socket read, in one callback (an idle connection
   * holds one function less): a transport's read fulfils with a count or
   * null and rejects with an error.
   */
  readonly #onReadSettled = (r: unknown): void => {
    if (this.#lingering) {
      // Handed over to the lingering close: its bytes are discarded.
      this.#reading = false;
      return;
    }
    if (typeof r === "number" || r === null) this.#onRead(r);
    else this.#onReadError(r);
  };

  #onRead(n: number | null): void {
    // A read's completion starts a task: replies deferred before it are
    // stuck behind an application that stopped taking messages.
    flushStalled();
    this.#reading = false;
    try {
      if (this.#error === null) this.#decodeRead(n);
    } catch (err) {
      // Messages decoded before a bad frame are still delivered first.
      this.#fail(err instanceof Error ? err : toNetError(err));
    }
    this.#serveWaiters();
  }

  #onReadError(err: unknown): void {
    this.#reading = false;
    if (this.#error === null) {
      if (this.#closedSettled) {
        // Closed here while the read was pending: the stream ends.
        try {
          this.#decodeRead(null);
        } catch {
          // A partial frame at a local close is not an error to report.
        }
      } else {
        this.#fail(toNetError(err, "Cannot read from connection"));
      }
    }
    this.#serveWaiters();
  }

  #decodeRead(n: number | null): void {
    const emit: (m: In) => void = emitToTarget;
    emitTarget = this.#queue;
    if (n === null) {
      this.#readEof = true;
      this.#deadlines?.readDone();
      const before = this.#queue.length;
      this.#decoder.finish(emit);
      this.#stats.messagesRead += this.#queue.length - before;
      this.#maybeFinish();
      return;
    }
    this.#stats.bytesRead += n;
    const deadlines = this.#deadlines;
    deadlines?.activity();
    const before = this.#queue.length;
    this.#decoder.decode(this.#readBuf.subarray(0, n), emit);
    const got = this.#queue.length - before;
    this.#stats.messagesRead += got;
    if (got > 0) deadlines?.readDone();
    this.#adaptReadBuffer(n);
  }

  #adaptReadBuffer(n: number): void {
    const size = this.#readBuf.length;
    if (n === size && size < this.#maxRead) {
      this.#readBuf = new Uint8Array(Math.min(size * 2, this.#maxRead));
      this.#smallReads = 0;
    } else if (n < size / 4 && size > MIN_READ_BUFFER) {
      if (++this.#smallReads >= 8) {
        this.#readBuf = new Uint8Array(size / 2);
        this.#smallReads = 0;
      }
    } else {
      this.#smallReads = 0;
    }
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
    this.#encoderImpl.encodeInto(message, out);
    const added = out.length - before;
    this.#stats.messagesWritten++;
    this.#marks.add(added);
    if (!this.#writing) {
      if (this.#queueHead === this.#queue.length && !this.#handedOut) {
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
      this.#finish(reason);
      return;
    }
    this.#stopForLinger();
    const bounds = {
      lingerTimeout: this.#lingerTimeout,
      lingerTime: this.#lingerTime,
    };
    const finSent = this.#writeClosed || await sendFin(this.#t, bounds);
    this.#writeClosed = true;
    if (!finSent || this.#readEof || this.#closedSettled) {
      this.#finish(reason);
      return;
    }
    // The read under way, if any, is the linger's first.
    const pending = this.#reading ? this.#readInFlight : null;
    void drainInput(this.#t, pending, bounds).then(() => this.#finish(reason));
  }

  /**
   * Hands the socket's read side over to the linger: readers get the
   * messages already decoded, then the end; no deadline fires any more.
   */
  #stopForLinger(): void {
    this.#lingering = true;
    this.#deadlines?.stop();
    this[stopReading]();
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
    this.#finish(this.#error);
  }

  /** Closes the socket once both directions are done. */
  #maybeFinish(): void {
    if (this.#readEof && this.#writeClosed) this.#finish(null);
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
