// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode connect}: open a framed {@linkcode Connection} over TCP, TLS or
 * a unix socket, with a connect timeout, cancellation, and retry with
 * exponential backoff for what is worth retrying.
 *
 * @example The tutorial's client
 * ```ts ignore
 * import { connect } from "@netkit/net";
 *
 * await using conn = await connect({ hostname: "localhost", port: 8888 });
 * await conn.send(new TextEncoder().encode("Hello, World!"));
 * const data = await conn.receive();
 * console.log(new TextDecoder().decode(data!));
 * ```
 *
 * @module
 */

import { Connection } from "./connection.ts";
import {
  checkConnectionOptions,
  type CommonConnectionOptions,
  connectionOptions,
} from "./_options.ts";
import { NetError, TimeoutError, TlsError, toNetError } from "./errors.ts";
import { retry as retryWith, type RetryOptions } from "./retry.ts";
import { encodeProxyHeader, type ProxyHeaderInit } from "./proxy_protocol.ts";

/** A TCP address to connect to. */
export interface TcpAddress {
  /**
   * The host name or IP address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port. */
  port: number;
}

/** A unix socket to connect to. */
export interface UnixAddress {
  /** The path of the socket. */
  path: string;
}

/** TLS settings for {@linkcode connect}. */
export interface ClientTlsOptions {
  /**
   * Root certificates (PEM) to trust besides the system's.
   *
   * @default {undefined}
   */
  caCerts?: string[];
  /**
   * The name to verify the server's certificate against and send as SNI.
   *
   * @default {the address's hostname}
   */
  serverName?: string;
  /**
   * ALPN protocols to offer.
   *
   * @default {undefined}
   */
  alpnProtocols?: string[];
}

/** Options for {@linkcode connect}. */
export interface ConnectOptions<In, Out>
  extends CommonConnectionOptions<In, Out> {
  /**
   * TLS: `true` for the system's roots, or the settings. Not for unix
   * sockets.
   *
   * @default {false}
   */
  tls?: boolean | ClientTlsOptions;
  /**
   * Cancels connecting (and the waits between attempts); the promise
   * rejects with `signal.reason`. It does not close the connection once
   * made.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * The time one attempt may take, TCP and TLS handshakes included, in
   * milliseconds; `0` for none. Past it the attempt fails with a
   * {@linkcode TimeoutError} (`kind: "connect"`), which is retryable.
   *
   * @default {10000}
   */
  connectTimeout?: number;
  /**
   * Retries a failed attempt: `true` for the default policy, a number for
   * that many attempts, or the policy. Refused, reset, unreachable and
   * timed-out attempts are retried; a certificate failure never is.
   *
   * @default {false}
   */
  retry?: boolean | number | RetryOptions;
  /**
   * Disables Nagle's algorithm on TCP.
   *
   * @default {true}
   */
  noDelay?: boolean;
  /**
   * Enables TCP keep-alive.
   *
   * @default {false}
   */
  keepAlive?: boolean;
  /**
   * A PROXY protocol header to write first (a client that is itself a
   * proxy, or a test of a server behind one).
   *
   * @default {undefined}
   */
  proxyHeader?: ProxyHeaderInit;
}

function describe(address: TcpAddress | UnixAddress): string {
  return "path" in address
    ? address.path
    : `${address.hostname ?? "127.0.0.1"}:${address.port}`;
}

async function connectOnce(
  address: TcpAddress | UnixAddress,
  options: ConnectOptions<unknown, unknown>,
): Promise<Deno.Conn> {
  const { tls = false, connectTimeout = 10_000, signal } = options;
  const target = describe(address);
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = connectTimeout > 0
    ? setTimeout(() => {
      controller.abort(
        new TimeoutError(
          `Cannot connect to ${target}: timed out after ${connectTimeout} ms`,
          { kind: "connect", timeout: connectTimeout },
        ),
      );
    }, connectTimeout)
    : undefined;
  let conn: Deno.Conn | undefined;
  let handshaking = false;
  try {
    if ("path" in address) {
      if (tls) {
        throw new TypeError(
          "Cannot connect: TLS over a unix socket is not supported",
        );
      }
      conn = await raceAbort(
        Deno.connect({ transport: "unix", path: address.path }),
        controller.signal,
      );
    } else {
      const hostname = address.hostname ?? "127.0.0.1";
      const tcp = await Deno.connect({
        hostname,
        port: address.port,
        signal: controller.signal,
      });
      conn = tcp;
      // Set on the TCP socket: a TLS connection has no setNoDelay.
      tcp.setNoDelay(options.noDelay ?? true);
      if (options.keepAlive) tcp.setKeepAlive(true);
      if (tls) {
        handshaking = true;
        const t = tls === true ? {} : tls;
        const tlsConn = await Deno.startTls(tcp, {
          hostname: t.serverName ?? hostname,
          ...(t.caCerts ? { caCerts: t.caCerts } : {}),
          ...(t.alpnProtocols ? { alpnProtocols: t.alpnProtocols } : {}),
        });
        conn = tlsConn;
        await raceAbort(tlsConn.handshake(), controller.signal);
      }
    }
    return conn;
  } catch (err) {
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
    if (controller.signal.aborted) {
      throw controller.signal.reason;
    }
    const context = handshaking
      ? `Cannot connect to ${target}: TLS handshake failed`
      : `Cannot connect to ${target}`;
    const mapped = toNetError(err, context);
    if (handshaking && !(mapped instanceof NetError)) {
      // Whatever else fails a handshake (a peer that does not speak TLS)
      // is a TLS error too, and not worth retrying.
      throw new TlsError(`${context}: ${mapped.message}`, { cause: err });
    }
    throw mapped;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.then((v) => closeQuietly(v), () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.then((v) => closeQuietly(v), () => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) return;
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

function closeQuietly(v: unknown): void {
  if (v && typeof (v as Deno.Conn).close === "function") {
    try {
      (v as Deno.Conn).close();
    } catch {
      // Already closed.
    }
  }
}

function retryPolicy(
  retry: ConnectOptions<unknown, unknown>["retry"],
): RetryOptions | null {
  if (retry === undefined || retry === false) return null;
  if (retry === true) return {};
  if (typeof retry === "number") return { maxAttempts: retry };
  return retry;
}

/**
 * Opens a connection to a TCP address (optionally over TLS) or a unix
 * socket, and wraps it in a framed {@linkcode Connection}.
 *
 * An attempt fails with a typed error: {@linkcode ConnectionRefusedError}
 * when nothing listens, {@linkcode TimeoutError} after `connectTimeout`,
 * `TlsError` for a bad certificate, `signal.reason` when cancelled. With
 * `retry`, attempts are repeated with exponential backoff and full jitter
 * while the error is retryable; the last error is thrown.
 *
 * @example Connect, send, receive, close
 * ```ts
 * import { connect, lines, serve, text } from "@netkit/net";
 * import { assertEquals } from "@std/assert";
 *
 * await using server = serve({ port: 0, codec: text(lines()) }, async (conn) => {
 *   for await (const line of conn) await conn.send(`echo: ${line}`);
 * });
 * await using conn = await connect(server.addr, { codec: text(lines()) });
 * await conn.send("Hello, World!");
 * assertEquals(await conn.receive(), "echo: Hello, World!");
 * ```
 *
 * @typeParam In What the connection receives.
 * @typeParam Out What the connection sends.
 * @param address Where to connect: `{ hostname, port }` or `{ path }`.
 * @param options The codec, TLS, timeouts, retry and socket options.
 * @returns The open connection.
 * @throws {ConnectionRefusedError | TimeoutError | NetError} The connection could not be made.
 */
export async function connect<In = Uint8Array, Out = In>(
  address: TcpAddress | UnixAddress | Deno.NetAddr | Deno.UnixAddr,
  options: ConnectOptions<In, Out> = {},
): Promise<Connection<In, Out>> {
  const addr = normalize(address);
  const { signal } = options;
  if (signal?.aborted) throw signal.reason;
  checkConnectionOptions(options);
  const policy = retryPolicy(options.retry);
  const opts = options as ConnectOptions<unknown, unknown>;
  const conn = policy === null
    ? await connectOnce(addr, opts)
    : await retryWith(() => connectOnce(addr, opts), {
      ...policy,
      ...(signal ? { signal } : {}),
    });
  const connection = new Connection<In, Out>(conn, connectionOptions(options));
  if (options.proxyHeader) {
    try {
      const header = encodeProxyHeader(options.proxyHeader);
      await writeAll(conn, header);
    } catch (err) {
      connection.abort(err);
      throw err instanceof NetError || err instanceof TypeError ||
          err instanceof RangeError
        ? err
        : toNetError(err, "Cannot write the PROXY header");
    }
  }
  return connection;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

function normalize(
  address: TcpAddress | UnixAddress | Deno.NetAddr | Deno.UnixAddr,
): TcpAddress | UnixAddress {
  if ("path" in address) return { path: address.path };
  const { hostname, port } = address as TcpAddress;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot connect: port must be an integer from 0 to 65535, received ${port}`,
    );
  }
  // A server bound to every address is reached on loopback.
  const host = hostname === "0.0.0.0"
    ? "127.0.0.1"
    : hostname === "::"
    ? "::1"
    : hostname;
  return host === undefined ? { port } : { hostname: host, port };
}
