// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode serve}: accept connections over TCP, TLS or a unix socket and
 * run a handler for each, with a live connection set, a connection cap,
 * failure isolation, the PROXY protocol and graceful shutdown.
 *
 * ## States
 *
 * ```text
 *   LISTENING ── shutdown() / signal ──► DRAINING ── no record left ──► CLOSED
 *       │ accept: C = C ∪ {c}             │ no accepts; readers get EOF
 *       │ close:  C = C − {c}             │ after the messages already read;
 *       │ over maxConnections: closed,    │ replies are flushed
 *       │   counted in stats.rejected     └─ timeout: stragglers aborted
 * ```
 *
 * The server keeps one record for each socket it accepted, from accept
 * until it is done with it, in one map; the server is finished when it has
 * stopped accepting and the map is empty (one "all done" signal, as
 * mini-redis's shutdown channel). A record's states:
 *
 * ```text
 *   state      event                                 next
 *   VETTING    TLS handshake and PROXY header done   HANDLING (a plain socket starts here)
 *   VETTING    either fails, or shutdown closes it   gone (counted in stats.rejected)
 *   HANDLING   the handler returns or throws         CLOSING (flushes, then closes)
 *   HANDLING   the shutdown timeout                  ABANDONED: aborted, closed, gone
 *   CLOSING    the connection has closed             gone
 * ```
 *
 * A connection is in {@linkcode Server.connections} from HANDLING until it
 * has closed; an abandoned handler's own end is still reported. Records in
 * every state count against `maxConnections`.
 *
 * (Near 900 lines: the options, hooks and counters of a server, each
 * documented, and the record bookkeeping above, which reads best in one
 * place. Connection options are documented once in `_options.ts`; the
 * PROXY header is read by `_proxy_header.ts`.)
 *
 * @example The tutorial's echo server
 * ```ts
 * import { connect, serve } from "@netkit/net";
 * import { assertEquals } from "@std/assert";
 *
 * await using server = serve({ port: 0 }, async (conn) => {
 *   for await (const chunk of conn) await conn.send(chunk);
 * });
 * await using client = await connect(server.addr);
 * await client.send(new TextEncoder().encode("Hello, World!"));
 * assertEquals(new TextDecoder().decode((await client.receive())!), "Hello, World!");
 * ```
 *
 * @module
 */

import { Connection } from "./connection.ts";
import {
  NetError,
  ServerClosedError,
  TimeoutError,
  TlsError,
  toNetError,
} from "./errors.ts";
import { CidrList, ProxyProtocolError } from "./proxy_protocol.ts";
import {
  type ProxiedPeer,
  readProxyHeader,
  withTimeout,
} from "./_proxy_header.ts";
import {
  checkConnectionOptions,
  type CommonConnectionOptions,
  type ConnectionOptions,
  connectionOptions,
} from "./_options.ts";
import { stopReading } from "./_frame_reader.ts";
import { LiveSet } from "./_live_set.ts";

/** The default of {@linkcode ServeOptions.maxConnections}, written once. */
const DEFAULT_MAX_CONNECTIONS = 10_000;

/** TLS settings for {@linkcode serve}. */
export interface ServerTlsOptions {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
  /**
   * ALPN protocols to announce.
   *
   * @default {undefined}
   */
  alpnProtocols?: string[];
  /**
   * The time a client has to finish the TLS handshake, in milliseconds.
   *
   * @default {10000}
   */
  handshakeTimeout?: number;
}

/** Which PROXY protocol header connections must start with. */
export type ProxyProtocolMode = "off" | "v1" | "v2" | "any";

/** Options for {@linkcode serve}. */
export interface ServeOptions<In, Out>
  extends CommonConnectionOptions<In, Out> {
  /**
   * The TCP port; `0` picks a free one (see {@linkcode Server.addr}).
   *
   * @default {0}
   */
  port?: number;
  /**
   * The address to bind; `"0.0.0.0"` or `"::"` to accept from other hosts.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * A unix socket path to listen on instead of TCP. The socket file is
   * removed at shutdown.
   *
   * @default {undefined}
   */
  path?: string;
  /**
   * TLS certificate and key; without it the server speaks plain TCP.
   *
   * @default {undefined}
   */
  tls?: ServerTlsOptions;
  /**
   * The most connections open at once; one more is closed at once and
   * counted in {@linkcode ServerStats.rejected}.
   *
   * @default {10000}
   */
  maxConnections?: number;
  /**
   * Shuts the server down (gracefully, with `shutdownTimeout`) when
   * aborted.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Sets `SO_REUSEPORT`, so several processes can listen on one port and
   * the kernel spreads connections between them (Linux). Needs
   * `--unstable-net`.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * Requires a PROXY protocol header (HAProxy's spec) at the start of each
   * connection; `"any"` takes v1 or v2. With it on, a connection from an
   * address outside `trustedProxies`, or with a malformed or late header,
   * is closed and counted. Not with `tls`.
   *
   * @default {"off"}
   */
  proxyProtocol?: ProxyProtocolMode;
  /**
   * The addresses (CIDR) allowed to send a PROXY header: your load
   * balancers.
   *
   * @default {["127.0.0.1/32", "::1/128"]}
   */
  trustedProxies?: string[];
  /**
   * The time a proxy has to send the whole PROXY header, in milliseconds.
   *
   * @default {3000}
   */
  proxyHeaderTimeout?: number;
  /**
   * Receives each error: a handler that threw, a connection that failed,
   * a rejected connection. The server keeps serving.
   *
   * @default {one line on stderr: `netkit: <name> (<peer>): <message>`}
   */
  onError?: (error: Error, conn: Connection<In, Out> | null) => void;
  /**
   * Called when a connection is added to the live set.
   *
   * @default {undefined}
   */
  onOpen?: (conn: Connection<In, Out>) => void;
  /**
   * Called when a connection has closed and left the live set, with the
   * error that ended it, if any.
   *
   * @default {undefined}
   */
  onClose?: (conn: Connection<In, Out>, error: Error | null) => void;
  /**
   * How long {@linkcode Server.shutdown} waits by default (also for
   * `await using` and `signal`), in milliseconds.
   *
   * @default {10000}
   */
  shutdownTimeout?: number;
  /**
   * Disables Nagle's algorithm on accepted TCP sockets.
   *
   * @default {true}
   */
  noDelay?: boolean;
  /**
   * Enables TCP keep-alive on accepted sockets.
   *
   * @default {false}
   */
  keepAlive?: boolean;
}

/** Counters of a server, as {@linkcode Server.stats}. */
export interface ServerStats {
  /** Connections accepted from the listener. */
  accepted: number;
  /** Connections closed at once: over the cap, untrusted or bad PROXY header, failed TLS handshake. */
  rejected: number;
  /** Connections open now (the size of {@linkcode Server.connections}). */
  active: number;
  /** Connections that were open and have closed. */
  closed: number;
  /** Errors reported to `onError`. */
  errors: number;
}

/** Options for {@linkcode Server.shutdown}. */
export interface ShutdownOptions {
  /**
   * How long handlers get to finish before their connections are aborted,
   * in milliseconds.
   *
   * @default {the server's shutdownTimeout}
   */
  timeout?: number;
}

/** A connection handler: runs once per connection; the connection closes when it returns. */
export type Handler<In, Out> = (
  conn: Connection<In, Out>,
) => void | Promise<void>;

const STDERR_ENCODER = new TextEncoder();

/**
 * The `onError` a server has unless given one: writes one line to stderr.
 * It writes to the file itself, not through the application's `console`,
 * which a library leaves to the application; and not with `reportError`,
 * which in Deno ends the process. A failing write is dropped: reporting
 * must not stop the server.
 */
function defaultOnError(
  error: Error,
  conn: { readonly remoteAddr: Deno.Addr } | null,
): void {
  const peer = conn ? ` (${formatAddr(conn.remoteAddr)})` : "";
  const line = STDERR_ENCODER.encode(
    `netkit: ${error.name}${peer}: ${error.message}\n`,
  );
  try {
    for (let off = 0; off < line.length;) {
      off += Deno.stderr.writeSync(line.subarray(off));
    }
  } catch {
    // stderr is closed.
  }
}

/**
 * Formats an address for logs: `host:port`, `[v6]:port` or the unix path.
 *
 * @example Usage
 * ```ts
 * import { formatAddr } from "@netkit/net/server";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(formatAddr({ transport: "tcp", hostname: "::1", port: 80 }), "[::1]:80");
 * ```
 *
 * @param addr The address.
 * @returns Its text.
 */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return addr.hostname.includes(":")
      ? `[${addr.hostname}]:${addr.port}`
      : `${addr.hostname}:${addr.port}`;
  }
  return (addr as Deno.UnixAddr).path ?? "";
}

/** Where an accepted socket is in its life (see the module doc). */
type SocketState = "vetting" | "handling" | "closing" | "abandoned";

/** What the server keeps for one accepted socket until it is done with it. */
interface SocketRecord<In, Out> {
  /** What happens to the socket now. */
  state: SocketState;
  /** The accepted socket: the record's key while it is vetted. */
  readonly socket: Deno.Conn;
  /** Its connection once vetted and wrapped: the record's key from then on. */
  connection: Connection<In, Out> | null;
}

/**
 * A running server, as returned by {@linkcode serve}.
 *
 * @typeParam In What its connections receive.
 * @typeParam Out What its connections send.
 */
export class Server<In = Uint8Array, Out = In> implements AsyncDisposable {
  readonly #listener: Deno.Listener;
  readonly #handler: Handler<In, Out>;
  readonly #options: ServeOptions<In, Out>;
  /**
   * One record per accepted socket the server is not done with, keyed by
   * the socket while it is vetted and by its connection from then on (so
   * the live set answers `has()` at once). Its size is what
   * `maxConnections` caps; its emptiness after the accept loop ends is
   * "all done".
   */
  readonly #records = new Map<
    Deno.Conn | Connection<In, Out>,
    SocketRecord<In, Out>
  >();
  /** The public view of the records that have a connection. */
  readonly #live: LiveSet<Connection<In, Out>>;
  /** Settles when the last record is gone; made by the first who waits. */
  #allDone: PromiseWithResolvers<void> | null = null;
  readonly #stats: ServerStats = {
    accepted: 0,
    rejected: 0,
    active: 0,
    closed: 0,
    errors: 0,
  };
  readonly #maxConnections: number;
  /** What each connection is made with, taken once from the options. */
  readonly #connectionOptions: ConnectionOptions<In, Out>;
  readonly #trusted: CidrList | null;
  readonly #onError: (error: Error, conn: Connection<In, Out> | null) => void;
  readonly #finished: Promise<void>;
  #acceptLoop: Promise<void>;
  #shutdown: Promise<void> | null = null;

  /**
   * Starts accepting on a listener. Use {@linkcode serve}, which opens the
   * listener from options.
   *
   * @param listener The listener.
   * @param options The server options.
   * @param handler The connection handler.
   */
  constructor(
    listener: Deno.Listener,
    options: ServeOptions<In, Out>,
    handler: Handler<In, Out>,
  ) {
    this.#listener = listener;
    this.#options = options;
    this.#handler = handler;
    this.#maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.#connectionOptions = connectionOptions(options);
    const mode = options.proxyProtocol ?? "off";
    this.#trusted = mode === "off"
      ? null
      : new CidrList(options.trustedProxies ?? ["127.0.0.1/32", "::1/128"]);
    this.#onError = options.onError ?? defaultOnError;
    this.#live = new LiveSet(this.#records, () => this.#stats.active);

    this.#acceptLoop = this.#accept();
    this.#finished = this.#acceptLoop.then(() => this.#whenAllDone());
    this.#finished.catch(() => {});
    const signal = options.signal;
    if (signal) {
      const onAbort = () => void this.shutdown();
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        this.#finished.finally(() =>
          signal.removeEventListener("abort", onAbort)
        );
      }
    }
  }

  /** The address the server listens on (with the real port when `port: 0`). */
  get addr(): Deno.Addr {
    return this.#listener.addr;
  }

  /** The live connections: added on accept, deleted on close. */
  get connections(): ReadonlySet<Connection<In, Out>> {
    return this.#live;
  }

  /** Live counters: accepted, rejected, active, closed, errors. */
  get stats(): Readonly<ServerStats> {
    return this.#stats;
  }

  /**
   * Resolves when the server has stopped accepting and every connection
   * has closed: each handler returned (or shutdown gave up on it), its
   * replies were flushed, and its socket closed after the lingering close
   * (at most `lingerTime` after the FIN; the shutdown timeout aborts what
   * still lingers).
   */
  get finished(): Promise<void> {
    return this.#finished;
  }

  #report(error: Error, conn: Connection<In, Out> | null): void {
    this.#stats.errors++;
    try {
      this.#onError(error, conn);
    } catch {
      // A failing error hook must not stop the server.
    }
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#shutdown !== null || err instanceof Deno.errors.BadResource) {
          return;
        }
        if (
          err instanceof Deno.errors.NotConnected ||
          err instanceof Deno.errors.ConnectionAborted ||
          err instanceof Deno.errors.ConnectionReset
        ) {
          // A peer that reset before it was accepted (a load balancer's
          // health check): nothing to serve, nothing wrong, no pause.
          continue;
        }
        this.#report(toNetError(err, "Cannot accept a connection"), null);
        // Out of file descriptors and the like: breathe, then go on.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      this.#stats.accepted++;
      if (this.#shutdown !== null) {
        this.#reject(conn, new ServerClosedError("Server is shutting down"));
        continue;
      }
      if (this.#records.size >= this.#maxConnections) {
        this.#reject(
          conn,
          new NetError(
            `Cannot accept connection: ${this.#maxConnections} connections already open (maxConnections)`,
            { code: "ECONNLIMIT" },
          ),
        );
        continue;
      }
      const record: SocketRecord<In, Out> = {
        state: "vetting",
        socket: conn,
        connection: null,
      };
      this.#records.set(conn, record);
      this.#handle(record);
    }
  }

  #reject(conn: Deno.Conn, error: Error): void {
    this.#stats.rejected++;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    this.#report(error, null);
  }

  /**
   * Serves one accepted socket to the end; never throws. Its record stays
   * until its connection is finished, or until shutdown gives up on its
   * handler. A plain socket is wrapped at once; one that needs a TLS
   * handshake or a PROXY header is vetted first.
   */
  #handle(record: SocketRecord<In, Out>): void {
    this.#setSocketOptions(record.socket);
    if (this.#options.tls === undefined && this.#trusted === null) {
      this.#serve(record, this.#wrap(record, null));
      return;
    }
    this.#open(record).then(
      (connection) => this.#serve(record, connection),
      (err) => {
        this.#report(err instanceof Error ? err : toNetError(err), null);
        this.#release(record);
      },
    );
  }

  /** Runs the handler on a wrapped connection (none: the socket was refused). */
  #serve(
    record: SocketRecord<In, Out>,
    connection: Connection<In, Out> | null,
  ): void {
    if (connection === null) {
      this.#release(record);
      return;
    }
    let running: void | Promise<void>;
    try {
      running = this.#handler(connection);
    } catch (err) {
      running = Promise.reject(err);
    }
    // A callback pair rather than an async function waiting on the
    // handler: less to hold for each of many long-lived connections.
    Promise.resolve(running).then(
      () => this.#served(record, connection, null),
      (err) =>
        this.#served(
          record,
          connection,
          err instanceof Error ? err : toNetError(err),
        ),
    );
  }

  /** Finishes a connection whose handler returned or threw; never throws. */
  async #served(
    record: SocketRecord<In, Out>,
    connection: Connection<In, Out>,
    failure: Error | null,
  ): Promise<void> {
    try {
      if (record.state === "abandoned") {
        // Shutdown gave up on this handler and finished the connection.
        // What the handler threw since is reported, unless it is the abort.
        if (failure !== null && failure !== connection.error) {
          this.#report(failure, null);
        }
        return;
      }
      record.state = "closing";
      if (failure !== null) {
        this.#report(failure, connection);
        connection.abort(failure);
      }
      await this.#finish(record, connection, failure);
    } catch (err) {
      this.#report(err instanceof Error ? err : toNetError(err), connection);
    } finally {
      this.#release(record);
    }
  }

  #setSocketOptions(conn: Deno.Conn): void {
    if (conn.remoteAddr.transport !== "tcp") return;
    try {
      (conn as Deno.TcpConn).setNoDelay(this.#options.noDelay ?? true);
      if (this.#options.keepAlive) (conn as Deno.TcpConn).setKeepAlive(true);
    } catch {
      // Not a plain TCP socket.
    }
  }

  /** Vets an accepted socket (TLS, PROXY header) and wraps it, or rejects it. */
  async #open(
    record: SocketRecord<In, Out>,
  ): Promise<Connection<In, Out> | null> {
    const conn = record.socket;
    let proxied: ProxiedPeer | null = null;
    try {
      if (this.#options.tls) await this.#handshake(conn as Deno.TlsConn);
      if (this.#trusted !== null) proxied = await this.#readProxyHeader(conn);
    } catch (err) {
      this.#reject(conn, err instanceof Error ? err : toNetError(err));
      return null;
    }
    return this.#wrap(record, proxied);
  }

  /** Wraps a vetted socket in a connection and counts it, or rejects it. */
  #wrap(
    record: SocketRecord<In, Out>,
    proxied: ProxiedPeer | null,
  ): Connection<In, Out> | null {
    const conn = record.socket;
    if (this.#shutdown !== null) {
      this.#reject(conn, new ServerClosedError("Server is shutting down"));
      return null;
    }
    // The options are made once; a socket behind a PROXY header adds the
    // client's address and the bytes read after the header.
    const options = proxied === null
      ? this.#connectionOptions
      : { ...this.#connectionOptions, ...proxied };
    let connection: Connection<In, Out>;
    try {
      connection = new Connection<In, Out>(conn, options);
    } catch (err) {
      // A codec that cannot make its decoder, and the like: this socket is
      // refused, the server goes on.
      this.#reject(conn, err instanceof Error ? err : toNetError(err));
      return null;
    }
    // From here the record is found by its connection: it joins the live
    // set, and its handler is about to run.
    this.#records.delete(conn);
    record.connection = connection;
    record.state = "handling";
    this.#records.set(connection, record);
    this.#stats.active++;
    try {
      this.#options.onOpen?.(connection);
    } catch (err) {
      this.#report(err instanceof Error ? err : toNetError(err), connection);
    }
    return connection;
  }

  /**
   * Closes a served connection (flushing it, then lingering until the
   * client has read every reply), takes its record out of the map (and so
   * the connection out of the live set) once its socket is closed, then
   * calls `onClose`.
   */
  async #finish(
    record: SocketRecord<In, Out>,
    connection: Connection<In, Out>,
    failure: Error | null,
  ): Promise<void> {
    try {
      await connection.close();
      await connection.closed;
    } catch {
      // Recorded on the connection.
    }
    if (failure === null && connection.error !== null) {
      // The connection failed on its own (a timeout, a reset) and the
      // handler ended quietly: still report it.
      failure = connection.error;
      this.#report(failure, connection);
    }
    this.#stats.active--;
    this.#stats.closed++;
    this.#release(record);
    try {
      this.#options.onClose?.(connection, failure ?? connection.error);
    } catch (err) {
      this.#report(err instanceof Error ? err : toNetError(err), null);
    }
  }

  /**
   * Forgets a record (later calls do nothing) and, when it was the last,
   * settles the "all done" signal.
   */
  #release(record: SocketRecord<In, Out>): void {
    if (!this.#records.delete(record.connection ?? record.socket)) return;
    if (this.#records.size === 0 && this.#allDone !== null) {
      this.#allDone.resolve();
      this.#allDone = null;
    }
  }

  /** Resolves when no record is left: every accepted socket is done. */
  #whenAllDone(): Promise<void> {
    if (this.#records.size === 0) return Promise.resolve();
    return (this.#allDone ??= Promise.withResolvers<void>()).promise;
  }

  async #handshake(conn: Deno.TlsConn): Promise<void> {
    const timeout = this.#options.tls?.handshakeTimeout ?? 10_000;
    await withTimeout(
      conn.handshake(),
      timeout,
      () =>
        new TimeoutError(
          `Cannot accept connection: TLS handshake took longer than ${timeout} ms`,
          { kind: "handshake", timeout },
        ),
    ).catch((err) => {
      const context = "Cannot accept connection: TLS handshake failed";
      const mapped = toNetError(err, context);
      // Whatever else fails a handshake (bytes that are not TLS) is a TLS
      // error too.
      throw mapped instanceof NetError
        ? mapped
        : new TlsError(`${context}: ${mapped.message}`, { cause: err });
    });
  }

  async #readProxyHeader(
    conn: Deno.Conn,
  ): Promise<ProxiedPeer> {
    const peer = conn.remoteAddr;
    const host = peer.transport === "tcp" ? peer.hostname : null;
    // Unix sockets are local: the proxy is on this machine.
    if (host !== null && !this.#trusted!.contains(host)) {
      throw new ProxyProtocolError(
        `Cannot accept connection: ${formatAddr(peer)} is not a trusted proxy`,
      );
    }
    return await readProxyHeader(
      conn,
      this.#options.proxyProtocol as "v1" | "v2" | "any",
      this.#options.proxyHeaderTimeout ?? 3000,
    );
  }

  /**
   * Stops accepting, lets handlers finish (readers get EOF once the
   * messages already read are taken, replies are flushed), closes each
   * connection gracefully (FIN after the last reply, then a lingering close
   * that discards the client's unread requests until it closes, so no RST
   * destroys replies in flight), then aborts what is left after `timeout`
   * with a {@linkcode ServerClosedError} — lingering closes included — and
   * stops waiting for handlers that still have not returned. Safe to call
   * more than once.
   *
   * @param options The time handlers get.
   * @returns A promise that resolves when every connection has closed.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.#shutdown) return this.#shutdown;
    const timeout = options.timeout ?? this.#options.shutdownTimeout ??
      10_000;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const record of this.#records.values()) {
      if (record.connection !== null) {
        record.connection[stopReading]();
        continue;
      }
      try {
        record.socket.close(); // Still vetting: its handshake fails now.
      } catch {
        // Already closed.
      }
    }
    this.#shutdown = (async () => {
      await this.#acceptLoop;
      const all = this.#whenAllDone();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeout);
      });
      const result = await Promise.race([all, expired]);
      clearTimeout(timer);
      if (result === "timeout") {
        for (const connection of this.#live) {
          connection.abort(
            new ServerClosedError(
              `Server shut down: connection aborted after ${timeout} ms`,
            ),
          );
        }
        // A handler that ignores its connection would hold shutdown
        // forever: stop waiting for it, and finish its connection here.
        for (const record of [...this.#records.values()]) {
          if (record.state !== "handling") continue;
          record.state = "abandoned";
          void this.#finish(record, record.connection!, null).finally(() =>
            this.#release(record)
          );
        }
        await all;
      }
      if (this.#options.path) {
        await Deno.remove(this.#options.path).catch(() => {
          // Gone already.
        });
      }
    })();
    return this.#shutdown;
  }

  /** Shuts down gracefully, as {@linkcode Server.shutdown}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
    await this.#finished;
  }
}

/**
 * Listens on a TCP port (optionally with TLS) or a unix socket and runs
 * `handler` for each connection. The connection closes (after flushing)
 * when the handler returns; a handler that throws ends its own connection
 * only, and the error goes to `onError`.
 *
 * @example A line-based echo with a connection cap and an idle timeout
 * ```ts
 * import { connect, lines, serve, text } from "@netkit/net";
 * import { assertEquals } from "@std/assert";
 *
 * await using server = serve({
 *   port: 0,
 *   codec: text(lines()),
 *   maxConnections: 100,
 *   idleTimeout: 30_000,
 * }, async (conn) => {
 *   for await (const line of conn) await conn.send(line);
 * });
 * await using conn = await connect(server.addr, { codec: text(lines()) });
 * await conn.send("ping");
 * assertEquals(await conn.receive(), "ping");
 * assertEquals(server.connections.size, 1);
 * ```
 *
 * @typeParam In What connections receive.
 * @typeParam Out What connections send.
 * @param options Where to listen, the codec, limits, timeouts and hooks.
 * @param handler Runs once per connection.
 * @returns The running server.
 * @throws {NetError} The address is in use or cannot be bound (`EADDRINUSE`, `EADDRNOTAVAIL`).
 * @throws {TypeError} Options that do not go together.
 */
export function serve<In = Uint8Array, Out = In>(
  options: ServeOptions<In, Out>,
  handler: Handler<In, Out>,
): Server<In, Out> {
  const {
    port = 0,
    hostname = "127.0.0.1",
    path,
    tls,
    reusePort = false,
    proxyProtocol = "off",
    maxConnections,
  } = options;
  if (typeof handler !== "function") {
    throw new TypeError("Cannot serve: handler must be a function");
  }
  if (!["off", "v1", "v2", "any"].includes(proxyProtocol)) {
    throw new TypeError(
      `Cannot serve: proxyProtocol must be "off", "v1", "v2" or "any", received ${
        JSON.stringify(proxyProtocol)
      }`,
    );
  }
  if (proxyProtocol !== "off" && tls) {
    throw new TypeError(
      "Cannot serve: proxyProtocol with tls is not supported (terminate TLS at the proxy, or run netkit behind a TCP proxy without TLS)",
    );
  }
  if (
    maxConnections !== undefined &&
    (!Number.isInteger(maxConnections) || maxConnections < 1)
  ) {
    throw new RangeError(
      `Cannot serve: maxConnections must be a positive integer, received ${maxConnections}`,
    );
  }
  checkConnectionOptions(options);
  let listener: Deno.Listener;
  try {
    if (path !== undefined) {
      if (tls) {
        throw new TypeError(
          "Cannot serve: tls over a unix socket is not supported",
        );
      }
      listener = Deno.listen({ transport: "unix", path });
    } else if (tls) {
      listener = Deno.listenTls({
        hostname,
        port,
        cert: tls.cert,
        key: tls.key,
        ...(tls.alpnProtocols ? { alpnProtocols: tls.alpnProtocols } : {}),
      });
    } else {
      listener = Deno.listen({
        hostname,
        port,
        ...(reusePort ? { reusePort: true } : {}),
      });
    }
  } catch (err) {
    if (err instanceof TypeError) throw err;
    throw toNetError(
      err,
      `Cannot listen on ${path ?? `${hostname}:${port}`}`,
    );
  }
  return new Server(listener, options, handler);
}
