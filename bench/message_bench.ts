// Copyright 2026 the netkit authors. MIT license.

/**
 * The per-message cost of an echo without sockets: what netkit's public
 * faces add to each message, next to the hand-written loop and to the
 * language's own floor for one `for await` step and one `await`.
 *
 * Every iteration echoes 4096 messages of 64 bytes that arrive 64 to a
 * read (the `64 B × 50 × 64` cell of `deno task bench:echo`) through a
 * transport whose reads return ready bytes and whose writes complete at
 * once, so only the JavaScript work per message is left.
 *
 * ```sh
 * deno bench --import-map=offline/import_map.json bench/message_bench.ts
 * ```
 *
 * @module
 */

import { encodeAll, lengthPrefixed } from "../codec.ts";
import { forEachFrame, Replies } from "./_hand_written.ts";
import { Connection, type Transport } from "../connection.ts";

const PER_READ = 64;
const READS = 64;
const MESSAGES = PER_READ * READS;
const batch = encodeAll(
  lengthPrefixed(),
  Array.from({ length: PER_READ }, () => new Uint8Array(64).fill(7)),
);
const addr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };

/** Consumed values, so that no work can be optimised away. */
let sink = 0;

/** A transport that reads `READS` batches of frames, then EOF. */
function memoryTransport(): Transport {
  let reads = 0;
  let off = 0;
  return {
    localAddr: addr,
    remoteAddr: addr,
    read(p: Uint8Array): Promise<number | null> {
      if (off === 0 && reads++ === READS) return Promise.resolve(null);
      const n = Math.min(p.length, batch.length - off);
      p.set(batch.subarray(off, off + n));
      off = (off + n) % batch.length;
      return Promise.resolve(n);
    },
    write(p: Uint8Array): Promise<number> {
      sink += p.length;
      return Promise.resolve(p.length);
    },
    closeWrite: () => Promise.resolve(),
    close() {},
  };
}

const RESOLVED = Promise.resolve();

Deno.bench({
  name: "floor: one for-await step and one await per message",
  group: "echo 4096 messages of 64 B, 64 per read",
  async fn() {
    let i = 0;
    const iterator: AsyncIterableIterator<number> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () =>
        Promise.resolve(
          i < MESSAGES
            ? { done: false, value: i++ }
            : { done: true, value: undefined },
        ),
    };
    for await (const m of iterator) {
      sink += m;
      await RESOLVED;
    }
  },
});

Deno.bench({
  name: "hand-written: scan the frames of a read, write the read back",
  group: "echo 4096 messages of 64 B, 64 per read",
  baseline: true,
  async fn() {
    const t = memoryTransport();
    const buf = new Uint8Array(65536);
    let held = 0;
    for (;;) {
      const n = await t.read(buf.subarray(held));
      if (n === null) break;
      held += n;
      let end = 0;
      while (held - end >= 4) {
        const len = ((buf[end]! << 24) | (buf[end + 1]! << 16) |
          (buf[end + 2]! << 8) | buf[end + 3]!) >>> 0;
        if (held - end - 4 < len) break;
        end += 4 + len;
      }
      if (end > 0) await t.write(buf.subarray(0, end));
      buf.copyWithin(0, end, held);
      held -= end;
    }
  },
});

Deno.bench({
  name: "callback floor: a view per frame to a callback that copies its reply",
  group: "echo 4096 messages of 64 B, 64 per read",
  async fn() {
    // What any per-message callback API must do: the loop of
    // bench/callback_floor.ts over the same reads.
    const replies = new Replies();
    await forEachFrame(
      memoryTransport(),
      replies,
      (m) => replies.write(m),
      65536,
    );
  },
});

Deno.bench({
  name: "netkit: forEach + write",
  group: "echo 4096 messages of 64 B, 64 per read",
  async fn() {
    const conn = new Connection(memoryTransport(), {
      codec: lengthPrefixed(),
    });
    await conn.forEach((m) => conn.write(m));
    await conn.close();
  },
});

Deno.bench({
  name: "netkit: for await + send",
  group: "echo 4096 messages of 64 B, 64 per read",
  async fn() {
    const conn = new Connection(memoryTransport(), {
      codec: lengthPrefixed(),
    });
    for await (const m of conn) await conn.send(m);
    await conn.close();
  },
});

Deno.bench({
  name: "netkit: readable.pipeTo(writable)",
  group: "echo 4096 messages of 64 B, 64 per read",
  async fn() {
    const conn = new Connection(memoryTransport(), {
      codec: lengthPrefixed(),
    });
    await conn.readable.pipeTo(conn.writable);
    await conn.close();
  },
});

Deno.bench({
  name: "naive web streams: a TransformStream of frames piped to a writable",
  group: "echo 4096 messages of 64 B, 64 per read",
  async fn() {
    const t = memoryTransport();
    const source = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const buf = new Uint8Array(65536);
        const n = await t.read(buf);
        if (n === null) controller.close();
        else controller.enqueue(buf.subarray(0, n));
      },
    });
    await source.pipeThrough(lengthPrefixed().decodeStream())
      .pipeThrough(lengthPrefixed().encodeStream())
      .pipeTo(
        new WritableStream({
          async write(chunk) {
            await t.write(chunk);
          },
        }),
      );
  },
});

addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
