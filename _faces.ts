// Copyright 2026 the netkit authors. MIT license.

/**
 * Private: the faces of a `Connection` — `for await` and `receive()`
 * ({@linkcode MessageIterator}), the `readable` web stream
 * ({@linkcode MessageReadable}) and the `writable` one
 * ({@linkcode MessageWritable}) — over its frame reader and writer.
 *
 * One face reads a connection: the iterator or the readable, never both
 * (`readUntil` and the other procedural reads share the reader with
 * either). Piping a connection's readable into a connection's writable
 * moves the messages of each read in one step, each encoded by the
 * destination before the next is decoded, with the outcome of a generic
 * pipe: the same backpressure, closing, aborting and cancelling.
 *
 * @module
 */

import { NEED_MORE, type NeedMore } from "./codec/read_buffer.ts";
import { ConnectionClosedError, toNetError } from "./errors.ts";
import { END, type FrameReader, type Waiter } from "./_frame_reader.ts";

function noop(): void {}

/** What a pipe needs of the connection behind a writable face. */
export interface PipeTarget<T> {
  /** Queues a message; `false` when the caller should wait for `drain()`. */
  write(message: T): boolean;
  /** Resolves when more may be queued. */
  drain(): Promise<void>;
  /** Resolves when every queued byte is written. */
  flush(): Promise<void>;
  /** Settles when the connection is closed. */
  readonly closed: Promise<void>;
}

/** What the faces need of their connection: its public operations. */
export interface FacesHost<Out> extends PipeTarget<Out> {
  /** Queues a message and waits for backpressure. */
  send(message: Out): Promise<void>;
  /** Half-closes. */
  closeWrite(): Promise<void>;
  /** Closes at once. */
  abort(reason?: unknown): void;
  /** Closes gracefully. */
  close(): Promise<void>;
}

/**
 * What the faces need of the writer: whether a handler may be fed, and a
 * flush when reading stops.
 */
export interface Flusher {
  /** Whether the write queue is under the high-water mark. */
  readonly writable: boolean;
  /** Starts writing what is queued. */
  flushSoon(): void;
}

/** The end of a stream of messages. */
const END_RESULT: IteratorResult<never, undefined> = Object.freeze({
  done: true,
  value: undefined,
});
const DONE: Promise<IteratorResult<never, undefined>> = Promise.resolve(
  END_RESULT,
);

/** The iterator of a connection's `for await`: one small object. */
export class MessageIterator<T> implements AsyncIterator<T> {
  readonly #faces: Faces<T, unknown>;

  /**
   * Constructs a new instance.
   *
   * @param faces The faces of the connection.
   */
  constructor(faces: Faces<T, unknown>) {
    this.#faces = faces;
  }

  /** The next message. */
  next(): Promise<IteratorResult<T>> {
    return this.#faces.next();
  }

  /** Ends the iteration; the connection stays open. */
  return(): Promise<IteratorResult<T, undefined>> {
    return DONE;
  }
}

/**
 * A connection's readable face: a `ReadableStream` whose `pipeTo` into a
 * connection's writable face moves whole reads at a time.
 */
export class MessageReadable<T> extends ReadableStream<T> {
  readonly #faces: Faces<T, unknown>;

  /**
   * Constructs a new instance.
   *
   * @param faces The faces of the connection.
   * @param source The source.
   * @param strategy The queuing strategy.
   */
  constructor(
    faces: Faces<T, unknown>,
    source: UnderlyingDefaultSource<T>,
    strategy: QueuingStrategy<T>,
  ) {
    super(source, strategy);
    this.#faces = faces;
  }

  /** Pipes to `dest`: the fast path into a connection's writable face. */
  override pipeTo(
    dest: WritableStream<T>,
    options?: StreamPipeOptions,
  ): Promise<void> {
    return this.#faces.pipeFast(this, dest, options) ??
      super.pipeTo(dest, options);
  }
}

/** A connection's writable face, known to {@linkcode MessageReadable}. */
export class MessageWritable<T> extends WritableStream<T> {
  /** The connection the messages go to. */
  readonly target: PipeTarget<T>;
  /** The stream's controller, for the fast pipe to error it. */
  readonly controller: WritableStreamDefaultController;

  /**
   * Constructs a new instance.
   *
   * @param target The connection.
   * @param sink The sink.
   */
  constructor(target: PipeTarget<T>, sink: UnderlyingSink<T>) {
    let controller: WritableStreamDefaultController | null = null;
    super({
      ...sink,
      start: (c) => {
        controller = c;
      },
    }, { highWaterMark: 1 });
    this.target = target;
    this.controller = controller!;
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
 * What a {@linkcode Connection.forEach} handler returns (or resolves to) to
 * end the loop after its message, as a `break` ends a `for await`.
 */
export const STOP: unique symbol = Symbol("netkit.stop");

/**
 * A running {@linkcode Connection.forEach}. It hands the messages buffered
 * to the handler one after another; when none is left it waits in the
 * reader's queue as itself, so that an idle connection's loop is this one
 * object and the promise it settles at the end, not an async function's
 * frame and a promise for each wait. It goes on as an `await` would: in a
 * microtask after the reader settles it, after a promise the handler
 * returned, or after `drain()` when the write side is full.
 */
class ForEachLoop<In> implements Waiter {
  readonly #reader: FrameReader<In>;
  readonly #writer: Flusher;
  readonly #conn: FacesHost<unknown>;
  readonly #handler: (message: In) => unknown;
  /**
   * Settles the loop's promise; a rejected promise rejects it (the
   * promise's reject function is not kept for every connection).
   */
  readonly #resolve: (value: void | Promise<never>) => void;

  constructor(
    reader: FrameReader<In>,
    writer: Flusher,
    conn: FacesHost<unknown>,
    handler: (message: In) => unknown,
    resolve: (value: void | Promise<never>) => void,
  ) {
    this.#reader = reader;
    this.#writer = writer;
    this.#conn = conn;
    this.#handler = handler;
    this.#resolve = resolve;
  }

  /** Waits for the next message (no step of its own). */
  get step(): null {
    return null;
  }

  /** Its messages are borrowed: valid until the handler is done. */
  get borrow(): boolean {
    return true;
  }

  /** Handles the messages buffered, then waits for more, or ends. */
  run(): void {
    const reader = this.#reader;
    try {
      for (;;) {
        const m = reader.poll(true);
        if (m === NEED_MORE) {
          reader.waitWith(this);
          return;
        }
        if (m === END) return this.#end(undefined, false);
        if (!this.#handle(m)) return;
      }
    } catch (err) {
      this.#end(err, true);
    }
  }

  /** Called by the reader with the next message, the end, or its error. */
  settle(value: unknown, failed: boolean): void {
    queueMicrotask(() => {
      if (failed) return this.#end(value, true);
      if (value === END) return this.#end(undefined, false);
      try {
        if (this.#handle(value as In)) this.run();
      } catch (err) {
        this.#end(err, true);
      }
    });
  }

  /**
   * Hands one message to the handler.
   *
   * @returns Whether the loop goes on at once; otherwise it goes on (or
   * ends) later by itself.
   */
  #handle(message: In): boolean {
    const r = this.#handler(message);
    if (
      typeof r === "object" && r !== null &&
      typeof (r as PromiseLike<unknown>).then === "function"
    ) {
      // Borrowed: the message stays valid until this settles.
      Promise.resolve(r).then(
        (v) => {
          if (this.#next(v)) this.run();
        },
        (err) => this.#end(err, true),
      );
      return false;
    }
    return this.#next(r);
  }

  /** After a message: whether the loop goes on at once. */
  #next(result: unknown): boolean {
    if (result === STOP) {
      this.#end(undefined, false);
      return false;
    }
    // The handler is fed no more while the write side is full.
    if (!this.#writer.writable) {
      this.#conn.drain().then(
        () => this.run(),
        (err) => this.#end(err, true),
      );
      return false;
    }
    return true;
  }

  /** Ends the loop: replies to the last messages go out now. */
  #end(error: unknown, failed: boolean): void {
    this.#writer.flushSoon();
    this.#resolve(failed ? Promise.reject(error) : undefined);
  }
}

/** The faces of one connection over its reader and writer. */
export class Faces<In, Out> {
  readonly #conn: FacesHost<Out>;
  readonly #reader: FrameReader<In>;
  readonly #writer: Flusher;
  #inUse: "iterator" | "readable" | null = null;
  #readable: MessageReadable<In> | null = null;
  #readableController: ReadableStreamDefaultController<In> | null = null;
  /** A pull of the readable face waits for a message. */
  #pulling = false;
  #writable: MessageWritable<Out> | null = null;

  /**
   * Constructs a new instance.
   *
   * @param conn The connection.
   * @param reader Its frame reader.
   * @param writer Its frame writer.
   */
  constructor(conn: FacesHost<Out>, reader: FrameReader<In>, writer: Flusher) {
    this.#conn = conn;
    this.#reader = reader;
    this.#writer = writer;
  }

  /** The next message as an iterator result (`receive()`, `for await`). */
  next(): Promise<IteratorResult<In>> {
    let r: In | typeof END | NeedMore;
    try {
      r = this.#reader.poll();
    } catch (err) {
      this.#writer.flushSoon();
      return Promise.reject(err);
    }
    if (r === NEED_MORE) {
      return this.#reader.wait(
        this.#iteratorStep ??= () => this.#stepIterator(),
      ) as Promise<IteratorResult<In>>;
    }
    if (r === END) {
      // Replies to the last messages go out now.
      this.#writer.flushSoon();
      return DONE;
    }
    return Promise.resolve({ done: false, value: r });
  }

  /**
   * The step of a reader waiting for the next message, made at its first
   * wait: a connection read another way never pays for it.
   */
  #iteratorStep: (() => IteratorResult<In> | NeedMore) | null = null;

  #stepIterator(): IteratorResult<In> | NeedMore {
    const r = this.#reader.poll();
    if (r === NEED_MORE) return NEED_MORE;
    if (r === END) {
      this.#writer.flushSoon();
      return END_RESULT;
    }
    return { done: false, value: r };
  }

  /**
   * Calls `handler` with each message until the end of the stream, without
   * a promise per message: see {@linkcode Connection.forEach}.
   */
  forEach(handler: (message: In) => unknown): Promise<void> {
    try {
      this.#claim("iterator");
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve) => {
      new ForEachLoop(this.#reader, this.#writer, this.#conn, handler, resolve)
        .run();
    });
  }

  /** The iterator of `for await`. */
  iterator(): AsyncIterator<In> {
    this.#claim("iterator");
    return new MessageIterator(this);
  }

  /** The readable face, made once. */
  get readable(): ReadableStream<In> {
    if (this.#readable) return this.#readable;
    this.#claim("readable");
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
          this.#writer.flushSoon();
          controller.close();
          return;
        }
        controller.enqueue(r);
      },
      cancel: (reason) => {
        this.#conn.abort(reason);
      },
    }, { highWaterMark: 0 });
    return this.#readable;
  }

  /** The writable face, made once. */
  get writable(): WritableStream<Out> {
    if (this.#writable) return this.#writable;
    const conn = this.#conn;
    this.#writable = new MessageWritable<Out>(conn, {
      write: (message) => conn.send(message),
      close: () => conn.closeWrite(),
      abort: (reason) => {
        conn.abort(reason);
      },
    });
    return this.#writable;
  }

  #claim(face: "iterator" | "readable"): void {
    if (this.#inUse !== null && this.#inUse !== face) {
      throw new TypeError(
        `Cannot read with the ${face}: the ${this.#inUse} is already reading this connection`,
      );
    }
    this.#inUse = face;
  }

  /**
   * Pipes the readable face into a connection's writable face without a
   * stream chunk per message; `null` when the generic pipe must run (a
   * pull is under way, or the options ask for what only it does).
   */
  pipeFast(
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
      dest.target,
      dest.controller,
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
    const conn = this.#conn;
    // Another connection ending while this one waits for bytes ends the
    // pipe then, not at the next message. (Piped into itself, the end of
    // the connection ends the reading too.)
    let destError: Error | null = null;
    let piping = true;
    if (to as unknown !== conn) {
      const destEnded = (err?: unknown) => {
        if (!piping || destError !== null) return;
        destError = err instanceof Error
          ? err
          : new ConnectionClosedError("Cannot pipe: the destination closed");
        conn.abort(destError);
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
      if (to as unknown !== conn) void conn.close();
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
    this.#writer.flushSoon();
    try {
      controller.close();
    } catch {
      // Closed already.
    }
    reader.releaseLock();
    if (preventClose) writer.releaseLock();
    else await writer.close();
  }
}
