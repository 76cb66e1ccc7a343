// Copyright 2026 the netkit authors. MIT license.
// Private: the lingering close of a byte transport (a leaf).

/** What a lingering close needs of a transport: `Deno.Conn` has it. */
export interface LingerTransport {
  /** Reads into `p`; resolves with the count, or `null` at EOF. */
  read(p: Uint8Array): Promise<number | null>;
  /** Shuts down the write side (sends FIN; TLS sends close_notify first). */
  closeWrite(): Promise<void>;
}

/** The bounds of a lingering close, in milliseconds. */
export interface LingerBounds {
  /**
   * The longest wait for the peer's next bytes; `0` turns lingering off
   * (the socket closes right after the FIN).
   */
  lingerTimeout: number;
  /** The longest linger in all; `0` turns lingering off. */
  lingerTime: number;
}

/** How a lingering close ended. */
export interface LingerOutcome {
  /**
   * `"eof"`: the peer closed its side; `"timeout"`: no bytes for
   * `lingerTimeout`; `"time"`: `lingerTime` ran out; `"error"`: a read
   * failed (a reset, or the socket was closed under it); `"off"`:
   * lingering is off.
   */
  end: "eof" | "timeout" | "time" | "error" | "off";
  /** Bytes read and discarded. */
  discarded: number;
}

/**
 * Where lingering closes read the bytes they discard: one buffer for every
 * connection, since nothing read into it is ever looked at.
 */
const DISCARD = new Uint8Array(65536);

/** The bound on the FIN (TLS writes close_notify) when lingering is off. */
const CLOSE_WRITE_MS = 1000;

/** Whether the bounds turn lingering off. */
export function lingerOff(bounds: LingerBounds): boolean {
  return !(bounds.lingerTimeout > 0 && bounds.lingerTime > 0);
}

/**
 * The first step of a lingering close: sends FIN after the last byte
 * written (TLS sends close_notify first, which waits for the peer to take
 * it: bounded by `lingerTimeout`, or one second when lingering is off).
 *
 * @param t The transport.
 * @param bounds The linger bounds.
 * @returns `false` when the write side could not be shut (the peer reset
 * the connection): then there is nothing to linger for.
 */
export async function sendFin(
  t: Pick<LingerTransport, "closeWrite">,
  bounds: LingerBounds,
): Promise<boolean> {
  let fin: Promise<unknown>;
  try {
    fin = t.closeWrite();
  } catch (err) {
    fin = Promise.reject(err);
  }
  const ms = lingerOff(bounds)
    ? CLOSE_WRITE_MS
    : Math.min(bounds.lingerTimeout, bounds.lingerTime);
  return await settleWithin(fin, ms) !== "rejected";
}

/**
 * The second step of a lingering close, after the FIN, as nginx's
 * `lingering_close` does: reads and discards what the peer still sends
 * until its EOF, a read error, `lingerTimeout` without a byte, or
 * `lingerTime` in all. The caller closes the socket after it.
 *
 * Closing a socket whose receive queue holds unread bytes makes the kernel
 * send RST instead of FIN, and the peer's kernel then drops the replies it
 * has not yet handed to its application: the drain keeps the queue empty
 * until the peer has read everything up to our FIN and closed its side.
 *
 * ```text
 *   FIN sent ──► [the read already pending] ──► read, discard ──► … ──► EOF
 *                each wait ≤ lingerTimeout; all of it ≤ lingerTime
 * ```
 *
 * Never rejects. One timer serves both bounds; it re-arms only at a
 * deadline in the future.
 *
 * @param t The transport.
 * @param pendingRead A read already started on `t` and not settled: the
 * drain waits for it rather than read alongside it (its EOF or error ends
 * the drain; its bytes are the starter's to discard).
 * @param bounds The linger bounds.
 * @returns How the linger ended.
 */
export async function drainInput(
  t: Pick<LingerTransport, "read">,
  pendingRead: Promise<number | null> | null,
  bounds: LingerBounds,
): Promise<LingerOutcome> {
  if (lingerOff(bounds)) return { end: "off", discarded: 0 };
  const { lingerTimeout, lingerTime } = bounds;
  const start = performance.now();
  let last = start;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout" | "time">((resolve) => {
    const arm = () => {
      const due = Math.min(last + lingerTimeout, start + lingerTime);
      timer = setTimeout(() => {
        const now = performance.now();
        if (now >= start + lingerTime) resolve("time");
        else if (now >= last + lingerTimeout) resolve("timeout");
        else arm();
      }, Math.max(0, Math.ceil(due - performance.now())));
    };
    arm();
  });
  let discarded = 0;
  let read = pendingRead;
  try {
    for (;;) {
      if (read === null) {
        try {
          read = t.read(DISCARD);
        } catch (err) {
          read = Promise.reject(err);
        }
      }
      const r = await Promise.race([read.then(identity, toError), expired]);
      read = null;
      if (r === null) return { end: "eof", discarded };
      if (typeof r === "number") {
        discarded += r;
        last = performance.now();
        continue;
      }
      if (r instanceof Error) return { end: "error", discarded };
      // The read left pending fails when the caller closes the socket.
      return { end: r, discarded };
    }
  } finally {
    clearTimeout(timer);
  }
}

function identity<T>(value: T): T {
  return value;
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Waits for `promise` to settle, at most `ms` milliseconds; never rejects.
 *
 * @returns How it went: `"fulfilled"`, `"rejected"`, or `"timeout"`.
 */
export function settleWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<"fulfilled" | "rejected" | "timeout"> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve("fulfilled");
      },
      () => {
        clearTimeout(timer);
        resolve("rejected");
      },
    );
  });
}
