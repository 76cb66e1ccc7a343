// Copyright 2026 the netkit authors. MIT license.

import {
  assert,
  assertEquals,
  assertFalse,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { Connection, type Transport } from "../connection.ts";
import { ConnectionClosedError } from "../errors.ts";
import { WaterMarks } from "./water_marks.ts";
import { tick, track } from "./_test_utils.ts";

Deno.test("`WaterMarks.writable` turns false at the high mark and true only at the low mark", () => {
  const marks = new WaterMarks({ high: 100, low: 40 });
  marks.add(99);
  assert(marks.writable);
  marks.add(1);
  assertFalse(marks.writable);
  marks.remove(30); // 70: between the marks, still blocked
  assertFalse(marks.writable);
  marks.add(10); // 80
  assertFalse(marks.writable);
  marks.remove(40); // 40: the low mark
  assert(marks.writable);
  marks.add(50); // 90: between the marks, but writable
  assert(marks.writable);
  assertEquals(marks.buffered, 90);
});

Deno.test("`WaterMarks` defaults to 64 KiB and 16 KiB, and low to a quarter of high, at most 16 KiB", () => {
  const marks = new WaterMarks();
  assertEquals([marks.high, marks.low], [65536, 16384]);
  assertEquals(new WaterMarks({ high: 1000 }).low, 250);
  assertEquals(new WaterMarks({ high: 10, low: 10 }).low, 10);
  assertEquals(new WaterMarks({ high: 8192 }).low, 2048);
  assertEquals(new WaterMarks({ high: 1 << 20 }).low, 16384);
  assertEquals(new WaterMarks({ high: 3 }).low, 0);
});

/**
 * A transport whose writes complete only when the test says so, and whose
 * read waits until it is closed.
 */
class GatedTransport implements Transport {
  readonly localAddr: Deno.NetAddr = {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 40001,
  };
  readonly remoteAddr: Deno.NetAddr = { ...this.localAddr, port: 40002 };
  readonly writes: Array<(n: number) => void> = [];
  #eof = Promise.withResolvers<null>();
  read(): Promise<number | null> {
    return this.#eof.promise;
  }
  write(p: Uint8Array): Promise<number> {
    return new Promise((resolve) => this.writes.push(() => resolve(p.length)));
  }
  closeWrite(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {
    this.#eof.resolve(null);
  }
}

Deno.test("`WaterMarks` and a Connection made without lowWaterMark resume writers at the same low mark", async () => {
  for (const high of [8192, 65536, 1 << 20]) {
    const { low } = new WaterMarks({ high });
    // Probe the connection just at and just above the low mark: a first
    // write goes out to the transport, a second fills the queue to the high
    // mark, then the first completes and leaves `queued` bytes buffered.
    for (const queued of [low, low + 1]) {
      const transport = new GatedTransport();
      const conn = new Connection(transport, { highWaterMark: high });
      assert(conn.write(new Uint8Array(high - queued)));
      await tick();
      assertEquals(transport.writes.length, 1);
      assertFalse(conn.write(new Uint8Array(queued)));
      assertEquals(conn.bufferedAmount, high);
      transport.writes[0]!(high - queued);
      await tick();
      assertEquals(conn.bufferedAmount, queued);
      assertEquals(
        conn.writableNow,
        queued <= low,
        `high ${high}, queued ${queued}`,
      );
      conn.abort(new Error("done"));
      await conn.closed.catch(() => {});
    }
  }
});

Deno.test("`WaterMarks.waitWritable()` resolves at once when writable, else at the low mark", async () => {
  const marks = new WaterMarks({ high: 10, low: 2 });
  await marks.waitWritable();
  marks.add(10);
  const a = track(marks.waitWritable());
  const b = track(marks.waitWritable());
  marks.remove(5);
  await tick();
  assertFalse(a.settled);
  marks.remove(3);
  await tick();
  assert(a.settled && b.settled);
  assertEquals([a.error, b.error], [undefined, undefined]);
});

Deno.test("`WaterMarks.close()` rejects the waiters and later waits with the reason", async () => {
  const marks = new WaterMarks({ high: 1, low: 0 });
  marks.add(1);
  const reason = new Error("connection reset");
  const waiting = track(marks.waitWritable());
  marks.close(reason);
  await tick();
  assertStrictEquals(waiting.error, reason);
  assert(marks.closed);
  assertFalse(marks.writable);
  const err = await assertRejects(() => marks.waitWritable());
  assertStrictEquals(err, reason);
  marks.close(new Error("again")); // ignored
  assertStrictEquals(await assertRejects(() => marks.waitWritable()), reason);
  marks.remove(1); // the count goes on
  assertEquals(marks.buffered, 0);
  assertFalse(marks.writable);
});

Deno.test("`WaterMarks.close()` rejects with a ConnectionClosedError by default", async () => {
  const marks = new WaterMarks();
  marks.close();
  await assertRejects(
    () => marks.waitWritable(),
    ConnectionClosedError,
    "Cannot write: the connection is closed",
  );
});

Deno.test("`WaterMarks.waitWritable()` rejects with signal.reason and leaves the queue when aborted", async () => {
  const marks = new WaterMarks({ high: 4, low: 0 });
  marks.add(4);
  const controller = new AbortController();
  const waiting = track(marks.waitWritable({ signal: controller.signal }));
  controller.abort("gone");
  await tick();
  assertEquals(waiting.error, "gone");
  await assertRejects(() =>
    marks.waitWritable({ signal: AbortSignal.abort(new Error("early")) })
  );
  marks.remove(4);
  assert(marks.writable);
});

Deno.test("`WaterMarks` rejects bad marks and bad counts", () => {
  assertThrows(
    () => new WaterMarks({ high: 10, low: 11 }),
    RangeError,
    "Cannot create water marks: expected 0 <= low <= high and high > 0, received low 11, high 10",
  );
  assertThrows(() => new WaterMarks({ high: 0, low: 0 }), RangeError);
  assertThrows(() => new WaterMarks({ low: -1 }), RangeError);
  assertThrows(
    () => new WaterMarks({ high: "1" as unknown as number }),
    TypeError,
  );
  const marks = new WaterMarks();
  assertThrows(() => marks.add(-1), RangeError, "Cannot add bytes");
  assertThrows(() => marks.add(1.5), RangeError, "received 1.5");
  assertThrows(
    () => marks.remove(-1),
    RangeError,
    "Cannot remove bytes: n must be a non-negative integer, received -1",
  );
  marks.add(3);
  assertThrows(
    () => marks.remove(4),
    RangeError,
    "Cannot remove bytes: n 4 exceeds the 3 bytes buffered",
  );
  assertEquals(marks.buffered, 3);
});
