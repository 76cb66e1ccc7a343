// Copyright 2026 the netkit authors. MIT license.

/**
 * The test's side of `rss_child.ts`: start the netkit server in a child
 * process, read its events, ask for its RSS, stop it. Used by
 * hostile_test.ts and fault_test.ts.
 *
 * @module
 */

import { assert } from "@std/assert";
import { TextLineStream } from "@std/streams";

const te = new TextEncoder();

/** A queue of events that tests take from, each one at most once. */
export class Events<T> {
  #items: T[] = [];
  #waiters: Array<{ match: (v: T) => boolean; resolve: (v: T) => void }> = [];

  push(item: T): void {
    const i = this.#waiters.findIndex((w) => w.match(item));
    if (i >= 0) {
      const [waiter] = this.#waiters.splice(i, 1);
      waiter!.resolve(item);
    } else {
      this.#items.push(item);
    }
  }

  get size(): number {
    return this.#items.length;
  }

  /** The first event that matches, waiting up to `timeout` ms for it. */
  take(
    match: (v: T) => boolean = () => true,
    timeout = 10_000,
    what = "an event",
  ): Promise<T> {
    const i = this.#items.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#items.splice(i, 1)[0]!);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (v: T) => {
          clearTimeout(timer);
          resolve(v);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`Timed out after ${timeout} ms waiting for ${what}`));
      }, timeout);
      this.#waiters.push(waiter);
    });
  }
}

export interface ChildError {
  name: string;
  message: string;
  code: string | null;
  length: number | null;
  limit: number | null;
}

/** The server's counters, as `Server.stats`. */
export interface ChildStats {
  accepted: number;
  rejected: number;
  active: number;
  closed: number;
  errors: number;
}

/** The server's memory (`Deno.memoryUsage()`) and counters. */
export interface ChildMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  stats: ChildStats;
}

/** What `rss_child.ts` writes. */
export type ChildEvent =
  | { event: "listening"; port: number }
  | { event: "close"; error: ChildError | null }
  | ({ event: "rss" } & ChildMemory)
  | { event: "stopped" };

/**
 * The netkit server of `testdata/rss_child.ts` in a child process: the
 * test attacks it and reads its RSS.
 */
export class ServerChild implements AsyncDisposable {
  readonly events = new Events<ChildEvent>();
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pump: Promise<void>;
  port = 0;

  constructor(
    codec: "length" | "lines" | "lines-skip",
    env: Record<string, string> = {},
  ) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-N",
        "--v8-flags=--expose-gc",
        new URL("./rss_child.ts", import.meta.url).href,
        codec,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...env },
    }).spawn();
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#pump = (async () => {
      const lines = child.stdout
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(new TextLineStream());
      for await (const line of lines) {
        if (line.trim()) this.events.push(JSON.parse(line));
      }
    })();
  }

  static async start(
    codec: "length" | "lines" | "lines-skip",
    env: Record<string, string> = {},
  ): Promise<ServerChild> {
    const child = new ServerChild(codec, env);
    try {
      const ev = await child.events.take(
        (e) => e.event === "listening",
        20_000,
        "the child server to listen",
      );
      child.port = (ev as { port: number }).port;
      return child;
    } catch (err) {
      await child[Symbol.asyncDispose]();
      throw err;
    }
  }

  get addr(): Deno.NetAddr {
    return { transport: "tcp", hostname: "127.0.0.1", port: this.port };
  }

  /** The server's RSS and heap after a garbage collection, and its stats. */
  async rss(): Promise<ChildMemory> {
    await this.#stdin.write(te.encode("rss\n"));
    const ev = await this.events.take((e) => e.event === "rss");
    return ev as ChildMemory;
  }

  /** The next connection that closed with an error. */
  async failedClose(): Promise<ChildError> {
    const ev = await this.events.take(
      (e) => e.event === "close" && e.error !== null,
      10_000,
      "a connection to fail",
    );
    return (ev as { error: ChildError }).error;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.#stdin.write(te.encode("quit\n"));
      await this.#stdin.close();
    } catch {
      // The child is gone already.
    }
    const status = await this.#child.status;
    await this.#pump;
    assert(status.success, `Child server exited with ${status.code}`);
  }
}
