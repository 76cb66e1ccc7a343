// Copyright 2026 the netkit authors. MIT license.

/**
 * netkit: TCP network programming for Deno, done right — connect, listen,
 * send, receive and close, with message framing, connection management,
 * flow control and typed errors.
 *
 * - {@linkcode connect} and {@linkcode serve} open framed
 *   {@linkcode Connection}s over TCP, TLS or unix sockets.
 * - Codecs assemble and parse packets: {@linkcode lengthPrefixed},
 *   {@linkcode delimited}, {@linkcode lines}, {@linkcode fixedLength},
 *   {@linkcode netstring}, {@linkcode raw}, with {@linkcode text} and
 *   {@linkcode json} on top.
 * - Your own protocol: a {@linkcode Decoder} that parses frames from the
 *   connection's one {@linkcode ReadBuffer}, or procedural reads
 *   ({@linkcode Connection.readExactly}, {@linkcode Connection.readUntil},
 *   {@linkcode Connection.readLine}) on the same buffer.
 * - Flow control: {@linkcode TokenBucket}, {@linkcode throttle},
 *   {@linkcode InFlightWindow}, {@linkcode Semaphore}.
 * - Typed errors ({@linkcode NetError} and its kin), {@linkcode retry} with
 *   backoff, and the PROXY protocol for servers behind load balancers.
 *
 * @example The tutorial's echo: a server and a client on one port
 * ```ts
 * import { connect, serve } from "@netkit/net";
 * import { assertEquals } from "@std/assert";
 *
 * await using server = serve({ port: 0 }, (conn) =>
 *   conn.forEach((data) => conn.write(data))
 * );
 * await using client = await connect(server.addr);
 * await client.send(new TextEncoder().encode("Hello, World!"));
 * const data = await client.readExactly(13);
 * assertEquals(new TextDecoder().decode(data), "Hello, World!");
 * ```
 *
 * @module
 */

export * from "./client.ts";
export * from "./codec.ts";
export * from "./connection.ts";
export * from "./errors.ts";
export * from "./flow.ts";
export * from "./proxy_protocol.ts";
export * from "./retry.ts";
export * from "./server.ts";
