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
 * A connection is a thin join of three private rooms: the frame reader
 * (`_frame_reader.ts`: one read buffer, frames decoded on demand), the
 * frame writer (`_frame_writer.ts`: encoding, coalescing, water marks,
 * the FIN) and the faces (`_faces.ts`: `for await`, `readable`,
 * `writable`). What they share with every other connection (the
 * end-of-tick flush, the stalled-reply sweep, the buffer pool) is the one
 * scheduler of `_scheduler.ts`. The connection itself keeps the lifecycle.
 * (This file is over 800 lines for its public surface — some forty members,
 * each documented with its errors, and the state table — not for its
 * logic, which is the lifecycle only.)
 *
 * ## States
 *
 * One lifecycle state, and the error recorded when one ended the
 * connection:
 *
 * ```text
 *   OPEN ── peer EOF ──► READ_CLOSED          (writes go on)
 *    │                        │
 *    │ closeWrite()           │ closeWrite()
 *    ▼                        ▼
 *   WRITE_CLOSED ◄────────────┘               (no writes; FIN after the queue;
 *    │                                         reads go on)
 *    └── FIN sent and peer EOF (either first) ───────────────────► CLOSED
 *
 *   OPEN, READ_CLOSED, WRITE_CLOSED
 *    └── close() / idle timeout ──► CLOSING ── queue flushed ──► LINGERING
 *                                   (no writes)  (FIN; read and discard until
 *                                                 the peer's EOF, lingerTimeout
 *                                                 or lingerTime) ──► CLOSED
 *
 *   any but CLOSED ── abort() / read or write timeout / socket error ──► CLOSED
 * ```
 *
 * | event                                    | in                               | goes to                                   |
 * | ---------------------------------------- | -------------------------------- | ----------------------------------------- |
 * | `closeWrite()`                           | OPEN, READ_CLOSED                | WRITE_CLOSED: writes throw; FIN once flushed |
 * | peer EOF                                 | OPEN                             | READ_CLOSED: readers get the end           |
 * | peer EOF                                 | WRITE_CLOSED                     | CLOSED once the FIN is sent               |
 * | FIN of `closeWrite()` sent               | WRITE_CLOSED                     | CLOSED if the peer's EOF was read         |
 * | decode error                             | any                              | unchanged: readers get the error after every message before it; the connection can still send (an error reply); a later close ends with it |
 * | `close()`                                | OPEN, READ_CLOSED, WRITE_CLOSED  | CLOSING: writes throw; the queue flushes  |
 * | idle timeout, nothing queued             | OPEN, READ_CLOSED, WRITE_CLOSED  | CLOSING, the error recorded; readers fail with it |
 * | queue flushed                            | CLOSING                          | LINGERING: `close()` resolves, `isClosed`; FIN |
 * | peer EOF, `lingerTimeout`, `lingerTime`; or the FIN failed, the EOF was read already, lingering is off | LINGERING | CLOSED |
 * | `abort()`, read or write timeout, idle timeout while a write is stuck, socket error, failed TLS upgrade | any but CLOSED | CLOSED, the error recorded: the queue is dropped |
 *
 * `closed` settles on CLOSED: it rejects with the recorded error (or the
 * decode error), and resolves otherwise.
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

import type { Codec } from "./codec/decoder.ts";
import type { DecodeInput, NeedMore } from "./codec/read_buffer.ts";
import { raw } from "./codec/raw.ts";
import {
  ConnectionClosedError,
  DecodeError,
  FrameTooLargeError,
  type TimeoutError,
  TlsError,
  toNetError,
  UnexpectedEofError,
} from "./errors.ts";
import { FrameReader, type ReaderHost, stopReading } from "./_frame_reader.ts";
import { FrameWriter, type WriterHost } from "./_frame_writer.ts";
import { Faces } from "./_faces.ts";

export { STOP } from "./_faces.ts";
import {
  type ConnectionOptions,
  makeTimeouts,
  makeWaterMarks,
} from "./_options.ts";
import { scheduler } from "./_scheduler.ts";
import { Deadlines } from "./_deadlines.ts";
import { drainInput } from "./_linger.ts";

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

const LF = new Uint8Array([10]);
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The lifecycle states of a connection (see the module doc). */
const State = {
  /** Reading and writing. */
  OPEN: 0,
  /** The peer's EOF was read; writes go on. */
  READ_CLOSED: 1,
  /** `closeWrite()` was called: no more writes, FIN once flushed; reads go on. */
  WRITE_CLOSED: 2,
  /** `close()` or an idle timeout: no more writes; the queue flushes. */
  CLOSING: 3,
  /** Flushed: FIN, then the peer's input is discarded until the linger ends. */
  LINGERING: 4,
  /** The socket is closed. */
  CLOSED: 5,
} as const;
type State = typeof State[keyof typeof State];

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
  /** The socket; replaced by its TLS stream after `startTls()`. */
  #t: Transport;
  /** The read half: the read buffer and the decoder. */
  readonly #reader: FrameReader<In>;
  /** The write half: the write queue, coalescing, water marks, the FIN. */
  readonly #writer: FrameWriter<Out>;
  /** `for await`, `readable` and `writable`. */
  readonly #faces: Faces<In, Out>;
  readonly #remoteAddr: Deno.Addr;
  readonly #stats: ConnectionStats;
  /** The idle, read and write deadlines; null when no timeout is set. */
  readonly #deadlines: Deadlines | null;
  readonly #lingerTimeout: number;
  readonly #lingerTime: number;

  /** Where the connection is in its life (see the module doc). */
  #state: State = State.OPEN;
  /**
   * The error that ended the connection (abort, timeout, socket error),
   * recorded once; a decoder's error stays with the reader.
   */
  #error: Error | null = null;
  /** What `closeWrite()` returns, once called. */
  #closeWrite: Promise<void> | null = null;
  /** What `close()` returns, once called (or an idle timeout closes). */
  #closing: Promise<void> | null = null;
  /**
   * What `closed` returns: made when first asked for (most connections
   * are never awaited), or at CLOSED.
   */
  #closed: Promise<void> | null = null;
  #resolveClosed: (() => void) | null = null;
  #rejectClosed: ((err: Error) => void) | null = null;

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
    this.#remoteAddr = options.remoteAddr ?? transport.remoteAddr;
    const marks = makeWaterMarks(options);
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
    const host = new Connection.#Host(this);
    this.#reader = new FrameReader<In>(
      host,
      codec.decoder(),
      options.borrow ?? false,
      options.initialBytes,
    );
    this.#writer = new FrameWriter<Out>(
      host,
      this.#reader,
      codec.encoder(),
      marks,
      this.#stats,
      this.#deadlines,
    );
    this.#faces = new Faces<In, Out>(this, this.#reader, this.#writer);
  }

  /**
   * What the frame reader and writer ask of a connection: one object per
   * connection, holding only the connection, whose methods are shared on
   * its prototype. (Closures over the connection would cost every
   * connection a function object for each of the twelve.) Declared inside
   * the class to reach the connection's private state.
   */
  static readonly #Host = class ConnectionHost
    implements ReaderHost, WriterHost {
    readonly #conn: Connection<unknown, unknown>;

    constructor(conn: Connection<unknown, unknown>) {
      this.#conn = conn;
    }

    read(p: Uint8Array): Promise<number | null> {
      return this.#conn.#t.read(p);
    }

    beforeRead(): void {
      this.#conn.#writer.flushSoon();
    }

    readWait(): void {
      this.#conn.#deadlines?.readWait();
    }

    readHeld(): void {
      // The wait is this side's (a write of the read buffer, to a peer
      // that may be slow): the read timeout counts again from the read.
      this.#conn.#deadlines?.readDone();
    }

    bytesRead(n: number): void {
      // A read's completion starts a task: replies deferred before it are
      // stuck behind an application that stopped taking messages.
      scheduler.flushStalled();
      const conn = this.#conn;
      conn.#stats.bytesRead += n;
      conn.#deadlines?.activity();
    }

    messageRead(): void {
      const conn = this.#conn;
      conn.#stats.messagesRead++;
      conn.#deadlines?.readDone();
    }

    readEnded(): void {
      const conn = this.#conn;
      conn.#deadlines?.readDone();
      if (conn.#state === State.OPEN) conn.#state = State.READ_CLOSED;
      conn.#maybeFinish();
    }

    isClosed(): boolean {
      return this.#conn.#state === State.CLOSED;
    }

    readFailed(err: Error): void {
      this.#conn.#fail(err);
    }

    write(p: Uint8Array): Promise<number> {
      return this.#conn.#t.write(p);
    }

    closeWrite(): Promise<void> {
      return this.#conn.#t.closeWrite();
    }

    error(): Error | null {
      return this.#conn.#error;
    }

    writeFailed(err: Error): void {
      this.#conn.#fail(err);
    }
  };

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
    return this.#writer.buffered;
  }

  /** Whether a write would be under the high-water mark now. */
  get writableNow(): boolean {
    return this.#writer.writable && this.#error === null &&
      !this.#writer.finSent;
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
      this.#closed = new Promise<void>((resolve, reject) => {
        this.#resolveClosed = resolve;
        this.#rejectClosed = reject;
      });
      this.#closed.catch(noop);
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
    const r = await this.#faces.next();
    return r.done ? undefined : r.value;
  }

  /**
   * Calls `handler` with each message until the peer's EOF, the fast way
   * to serve a connection: the messages buffered are decoded and handed
   * over in one go, with no promise per message, and the replies the
   * handler writes go out together. The handler is fed no more while the
   * write side is above its high-water mark; a handler that returns a
   * promise is awaited before the next message. A handler that returns
   * (or resolves to) {@linkcode STOP} ends the loop after its message, as
   * a `break` would (a `QUIT` command, say).
   *
   * A byte message is a view of the read buffer, valid until the handler
   * returns (or its promise settles): write it, parse it, or copy it
   * (`message.slice()`) to keep it. Netty's `channelRead` works the same
   * way. `for await` gives messages to keep, at a promise each.
   *
   * @example An echo server
   * ```ts
   * import { connect, lengthPrefixed, serve } from "@netkit/net";
   * import { assertEquals } from "@std/assert";
   *
   * await using server = serve({ port: 0, codec: lengthPrefixed() }, (conn) =>
   *   conn.forEach((message) => conn.write(message))
   * );
   * await using client = await connect(server.addr, { codec: lengthPrefixed() });
   * await client.send(new Uint8Array([1, 2, 3]));
   * assertEquals(await client.receive(), new Uint8Array([1, 2, 3]));
   * ```
   *
   * @param handler Called with each message, in order.
   * @returns A promise that resolves at the peer's EOF.
   * @throws {FrameTooLargeError | DecodeError | UnexpectedEofError} The
   * peer sent bad bytes, after every message before them was handled; the
   * connection can still send an error reply.
   * @throws {TimeoutError} A read or idle timeout ended the connection.
   * @throws What the handler throws.
   */
  forEach(handler: (message: In) => unknown): Promise<void> {
    return this.#faces.forEach(handler);
  }

  /**
   * Iterates over received messages until the peer's EOF.
   *
   * @returns An iterator of messages.
   */
  [Symbol.asyncIterator](): AsyncIterator<In> {
    return this.#faces.iterator();
  }

  /**
   * The received messages as a web stream. Use either this or the async
   * iterator, not both. Its byte messages are always copies.
   */
  get readable(): ReadableStream<In> {
    return this.#faces.readable;
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
    return this.#faces.writable;
  }

  // -------------------------------------------------------------------------
  // Procedural reads

  /**
   * Reads with a one-off decode step over the connection's read buffer:
   * the step returns a value after consuming its bytes, or
   * `input.needMore(n)`. A byte array that is a view of the buffer (from
   * `input.take()`) is copied for the caller to keep; a value that holds
   * views inside must `copy()` them. It shares the buffer with the codec,
   * so procedural reads and messages can follow each other at message
   * boundaries without losing a byte. The `read*` methods are built on it.
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
    self.#writer.setEncoder(codec.encoder());
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
    if (this.#state > State.READ_CLOSED) throw this.#writeRefused();
    return this.#writer.write(message);
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
    if (this.#state >= State.LINGERING) {
      return Promise.reject(this.#closedError());
    }
    return this.#writer.drain();
  }

  /**
   * Resolves when every queued byte has been written to the socket.
   *
   * @returns A promise that resolves when the queue is empty.
   */
  flush(): Promise<void> {
    if (this.#state >= State.LINGERING) {
      return Promise.reject(this.#closedError());
    }
    return this.#writer.flush(() => this.#closedError());
  }

  /**
   * Half-closes: flushes what was queued, then shuts down the write side
   * (the peer reads EOF). Reading goes on until the peer's EOF.
   *
   * @returns A promise that resolves when the write side is shut.
   */
  closeWrite(): Promise<void> {
    if (this.#closeWrite !== null) return this.#closeWrite;
    if (this.#state <= State.READ_CLOSED) this.#state = State.WRITE_CLOSED;
    return this.#closeWrite = (async () => {
      await this.flush();
      await this.#writer.closeWrite();
      this.#maybeFinish();
    })();
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
   * timeout (`reason` is the error, already recorded). CLOSING, then
   * LINGERING once flushed; resolves when the FIN is sent; the linger
   * goes on, then CLOSED. Never rejects.
   */
  async #closeGracefully(reason: Error | null): Promise<void> {
    if (this.#state < State.CLOSING) this.#state = State.CLOSING;
    if (reason === null && this.#state !== State.CLOSED) {
      try {
        await this.flush();
      } catch {
        // The error is recorded; closing goes on.
      }
    }
    if (this.#closeWrite !== null) await this.#closeWrite.catch(noop);
    if (this.#state === State.CLOSED || this.#error !== reason) {
      this.#finish(reason ?? this.#reader.error);
      return;
    }
    // LINGERING: the linger owns the socket's read side now (readers get
    // the messages already buffered, then the end); no deadline fires.
    this.#state = State.LINGERING;
    this.#deadlines?.stop();
    const pending = this.#reader.linger();
    const bounds = {
      lingerTimeout: this.#lingerTimeout,
      lingerTime: this.#lingerTime,
    };
    const finSent = await this.#writer.sendFin(bounds);
    // A peer that sent bytes it could not decode did not end cleanly,
    // even though the replies owed to it were flushed.
    const ending = reason ?? this.#reader.error;
    if (
      !finSent || this.#reader.buffer.eof ||
      (this.#state as State) === State.CLOSED
    ) {
      this.#finish(ending);
      return;
    }
    // The read under way, if any, is the linger's first.
    void drainInput(this.#t, pending, bounds).then(() => this.#finish(ending));
  }

  /**
   * A deadline passed. An idle connection with nothing to write closes
   * gracefully (with the linger), reporting the timeout; any other
   * timeout, or an idle one while a write is stuck, aborts.
   */
  #expire(err: TimeoutError): void {
    if (
      err.kind !== "idle" || this.#state >= State.CLOSING || this.#writer.busy
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
    if (this.#state === State.CLOSED || err === this.#error) return;
    this.#error ??= err;
    this.#reader.fail(this.#error);
    this.#finish(this.#error);
  }

  /**
   * WRITE_CLOSED (or CLOSING after it) → CLOSED once both directions are
   * done: the FIN of `closeWrite()` is sent and the peer's EOF was read.
   */
  #maybeFinish(): void {
    if (
      this.#state < State.LINGERING && this.#error === null &&
      this.#writer.finSent && this.#reader.buffer.eof
    ) {
      this.#finish(null);
    }
  }

  /** → CLOSED: the socket is closed, the queue dropped, `closed` settles. */
  #finish(err: Error | null): void {
    if (this.#state === State.CLOSED) return;
    this.#state = State.CLOSED;
    this.#deadlines?.stop();
    try {
      this.#t.close();
    } catch {
      // Already closed.
    }
    this.#writer.close(err);
    if (this.#closed === null) {
      // Nobody waits yet: settled once, for whoever asks later.
      this.#closed = err === null ? RESOLVED : Promise.reject(err);
      this.#closed.catch(noop);
    } else if (err !== null) this.#rejectClosed!(err);
    else this.#resolveClosed!();
  }

  /** The error for a write refused in this state. */
  #writeRefused(): Error {
    if (this.#state === State.CLOSED || this.#error !== null) {
      return this.#closedError();
    }
    return new ConnectionClosedError(
      "Cannot write: the write side of the connection is closed",
    );
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
    return this.#state >= State.LINGERING;
  }
}
