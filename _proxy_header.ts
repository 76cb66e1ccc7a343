// Copyright 2026 the netkit authors. MIT license.

/**
 * Private: the I/O that `proxy_protocol.ts` leaves out — reading a PROXY
 * header off an accepted socket within a time limit — and the time limit
 * itself, which the server's TLS handshake uses too. A leaf under
 * `server.ts`.
 *
 * @module
 */

import { NetError, TimeoutError, toNetError } from "./errors.ts";
import {
  parseProxyHeader,
  type ProxyHeader,
  ProxyProtocolError,
  type ProxyUnixAddress,
} from "./proxy_protocol.ts";

/** What a PROXY header told of a client: its address, and the bytes after. */
export interface ProxiedPeer {
  /** The client's address, or the socket's for `LOCAL` and `UNKNOWN`. */
  remoteAddr: Deno.Addr;
  /** The bytes read after the header, which belong to the stream. */
  initialBytes?: Uint8Array;
}

/**
 * Reads a PROXY header from `conn` (whose peer the caller trusts).
 *
 * @param conn The accepted socket.
 * @param mode The versions taken.
 * @param timeout The time the whole header may take, in milliseconds.
 * @returns The client's address and the bytes after the header.
 * @throws {ProxyProtocolError} A malformed header, or EOF before its end.
 * @throws {TimeoutError} The header took longer than `timeout`.
 */
export async function readProxyHeader(
  conn: Deno.Conn,
  mode: "v1" | "v2" | "any",
  timeout: number,
): Promise<ProxiedPeer> {
  const read = async () => {
    // The v2 header is at most 16 + 65535 bytes; the parser caps it.
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(1024);
    for (;;) {
      const n = await conn.read(chunk);
      if (n === null) {
        throw new ProxyProtocolError(
          `Cannot parse PROXY header: connection ended after ${buf.length} bytes`,
        );
      }
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
      const result = parseProxyHeader(buf, { version: mode });
      if (result !== null) {
        return { header: result.header, rest: buf.subarray(result.consumed) };
      }
    }
  };
  const { header, rest } = await withTimeout(
    read(),
    timeout,
    () =>
      new TimeoutError(
        `Cannot parse PROXY header: not complete within ${timeout} ms`,
        { kind: "proxy-header", timeout },
      ),
  ).catch((err) => {
    throw err instanceof NetError ? err : toNetError(
      err,
      "Cannot read PROXY header",
    );
  });
  return {
    remoteAddr: proxiedAddr(header) ?? conn.remoteAddr,
    ...(rest.length > 0 ? { initialBytes: rest.slice() } : {}),
  };
}

function proxiedAddr(header: ProxyHeader): Deno.Addr | null {
  const src = header.source;
  if (header.command !== "PROXY" || src === undefined) return null;
  if (src.transport === "tcp" || src.transport === "udp") {
    return { transport: src.transport, hostname: src.hostname, port: src.port };
  }
  return { transport: "unix", path: (src as ProxyUnixAddress).path };
}

/**
 * Rejects with `error()` when `promise` has not settled within `ms`
 * milliseconds (`0` or less: no limit).
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  error: () => Error,
): Promise<T> {
  if (!(ms > 0)) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(error()), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
