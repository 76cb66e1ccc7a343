// Copyright 2026 the netkit authors. MIT license.

/**
 * {@linkcode throttle}: a `TransformStream` that shapes bytes or messages
 * to a rate with a {@linkcode TokenBucket}.
 *
 * @module
 */

import type { Clock } from "../_clock.ts";
import { TokenBucket } from "./token_bucket.ts";

/** Options for {@linkcode throttle}. Give exactly one of the two rates. */
export interface ThrottleOptions {
  /**
   * Shape by bytes: each chunk costs its byte length (a string its UTF-8
   * length). A `Uint8Array` larger than the burst is passed on in
   * burst-sized pieces so the output stays smooth; other chunks are held
   * whole until their cost is paid.
   *
   * @default {undefined}
   */
  bytesPerSecond?: number;
  /**
   * Shape by messages: each chunk costs 1.
   *
   * @default {undefined}
   */
  messagesPerSecond?: number;
  /**
   * The size of the bucket: how many bytes or messages may pass at once
   * after a quiet spell.
   *
   * @default {one second's worth: Math.floor(rate), at least 1}
   */
  burst?: number;
  /**
   * The clock; tests pass a {@linkcode ManualClock}.
   *
   * @default {REAL_CLOCK}
   */
  clock?: Clock;
  /**
   * Errors the stream with `signal.reason` when it aborts, also in the
   * middle of a wait.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

function byteCost(chunk: unknown): number {
  if (typeof chunk === "string") return utf8Length(chunk);
  if (typeof chunk === "object" && chunk !== null) {
    const length = (chunk as { byteLength?: unknown }).byteLength;
    if (typeof length === "number" && Number.isSafeInteger(length)) {
      return length;
    }
  }
  throw new TypeError(
    `Cannot throttle chunk: expected a Uint8Array, a string or an object with a byteLength, received ${
      chunk === null ? "null" : typeof chunk
    }`,
  );
}

/**
 * Makes a `TransformStream` that passes chunks through unchanged, no faster
 * than the given rate: a {@linkcode TokenBucket} sits between its sides,
 * and each chunk waits for its cost. Backpressure does the rest: while a
 * chunk waits, writes to the stream wait too.
 *
 * @example Shape a byte stream
 * ```ts
 * import { ManualClock, throttle } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new ManualClock();
 * const stream = ReadableStream.from([new Uint8Array(250)])
 *   .pipeThrough(throttle({ bytesPerSecond: 100, clock }));
 * const reader = stream.getReader();
 * assertEquals((await reader.read()).value?.length, 100); // the first burst
 * const next = reader.read();
 * clock.advance(1000);
 * assertEquals((await next).value?.length, 100);
 * const last = reader.read();
 * clock.advance(500);
 * assertEquals((await last).value?.length, 50);
 * assertEquals((await reader.read()).done, true);
 * ```
 *
 * @example Shape a stream of messages
 * ```ts
 * import { ManualClock, throttle } from "@netkit/net/flow";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new ManualClock();
 * const stream = ReadableStream.from(["a", "b"])
 *   .pipeThrough(throttle<string>({ messagesPerSecond: 10, burst: 1, clock }));
 * const reader = stream.getReader();
 * assertEquals((await reader.read()).value, "a");
 * const next = reader.read();
 * clock.advance(100);
 * assertEquals((await next).value, "b");
 * ```
 *
 * @typeParam T The chunk type.
 * @param options The rate (exactly one of `bytesPerSecond` and
 * `messagesPerSecond`), the burst, the clock and the signal.
 * @returns The shaping stream.
 * @throws {TypeError} If neither or both of the rates are given, or a rate
 * or the burst is not a number.
 * @throws {RangeError} If the rate is not positive or the burst is not a
 * positive integer.
 */
export function throttle<T = Uint8Array>(
  options: ThrottleOptions,
): TransformStream<T, T> {
  const { bytesPerSecond, messagesPerSecond, burst, clock, signal } = options;
  if ((bytesPerSecond === undefined) === (messagesPerSecond === undefined)) {
    throw new TypeError(
      `Cannot throttle: exactly one of bytesPerSecond and messagesPerSecond must be given, received ${
        bytesPerSecond === undefined ? "neither" : "both"
      }`,
    );
  }
  const bytes = bytesPerSecond !== undefined;
  const rate = bytes ? bytesPerSecond : messagesPerSecond!;
  const bucket = new TokenBucket({
    rate,
    ...(burst !== undefined ? { burst } : {}),
    ...(clock !== undefined ? { clock } : {}),
  });
  const size = bucket.burst;
  const cancel = new AbortController();
  const waitSignal = signal
    ? AbortSignal.any([signal, cancel.signal])
    : cancel.signal;
  let onAbort: (() => void) | undefined;
  const stop = () => {
    if (onAbort) signal!.removeEventListener("abort", onAbort);
    onAbort = undefined;
  };
  return new TransformStream<T, T>({
    start(controller) {
      if (!signal) return;
      if (signal.aborted) return controller.error(signal.reason);
      onAbort = () => {
        onAbort = undefined;
        controller.error(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    },
    async transform(chunk, controller) {
      try {
        if (!bytes) {
          await bucket.take(1, { signal: waitSignal });
          controller.enqueue(chunk);
          return;
        }
        const cost = byteCost(chunk);
        if (chunk instanceof Uint8Array && cost > size) {
          for (let offset = 0; offset < cost; offset += size) {
            const end = Math.min(cost, offset + size);
            await bucket.take(end - offset, { signal: waitSignal });
            controller.enqueue(chunk.subarray(offset, end) as T);
          }
          return;
        }
        await bucket.take(cost, { signal: waitSignal });
        controller.enqueue(chunk);
      } catch (err) {
        stop();
        throw err;
      }
    },
    flush() {
      stop();
    },
    cancel(reason) {
      stop();
      cancel.abort(reason);
    },
  });
}
