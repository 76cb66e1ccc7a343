// Tests for the ProgressBar stand-in. They import the bare specifiers, so the
// same file runs against the stand-in (offline/import_map.json) and against
// the real @std/cli/unstable-progress-bar. Timers are real; the sanitizers
// check that stop() leaves none behind.

import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertMatch,
} from "@std/assert";
import {
  ProgressBar,
  type ProgressBarFormatter,
  type ProgressBarOptions,
} from "@std/cli/unstable-progress-bar";

const CLEAR = "\r\u001b[K";

/** A writable that records each chunk as text, and a way to read them. */
function capture(): {
  writable: WritableStream<Uint8Array>;
  chunks: Promise<string[]>;
  close: () => Promise<void>;
} {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const decoder = new TextDecoder();
  const chunks = (async () => {
    const out: string[] = [];
    for await (const chunk of readable) out.push(decoder.decode(chunk));
    return out;
  })();
  return { writable, chunks, close: () => writable.close() };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("ProgressBar() draws the default format at once and again on stop()", async () => {
  const out = capture();
  const bar = new ProgressBar({ writable: out.writable, max: 10 * 1000 });
  bar.value = 4000;
  await bar.stop();
  await out.close();
  const chunks = await out.chunks;
  assertEquals(chunks, [
    `${CLEAR}[00:00] [${"-".repeat(50)}] [0.00/9.77 KiB]`,
    `${CLEAR}[00:00] [${"#".repeat(20)}${"-".repeat(30)}] [3.91/9.77 KiB]`,
    "\n",
  ]);
});

Deno.test("ProgressBar() redraws every interval until stop()", async () => {
  const out = capture();
  const bar = new ProgressBar({
    writable: out.writable,
    max: 100,
    interval: 10,
  });
  await delay(80);
  await bar.stop();
  await out.close();
  const chunks = await out.chunks;
  // The first draw, at least two timed redraws, the final draw and "\n".
  assertGreaterOrEqual(chunks.length, 5);
  for (const chunk of chunks.slice(0, -1)) {
    assertEquals(chunk.slice(0, CLEAR.length), CLEAR);
    assertMatch(
      chunk.slice(CLEAR.length),
      /^\[\d\d:\d\d\] \[-{50}\] \[0\.00\/0\.10 KiB\]$/,
    );
  }
  assertEquals(chunks.at(-1), "\n");
});

Deno.test("ProgressBar() passes values to a custom formatter", async () => {
  const out = capture();
  const seen: ProgressBarFormatter[] = [];
  const options: ProgressBarOptions = {
    writable: out.writable,
    max: 10,
    value: 2,
    barLength: 4,
    fillChar: "=",
    emptyChar: ".",
    formatter: (f) => {
      seen.push({ ...f, styledTime: f.styledTime, styledData: f.styledData });
      return `${f.progressBar} ${f.value}/${f.max}`;
    },
  };
  const bar = new ProgressBar(options);
  bar.value = 5;
  await bar.stop();
  await out.close();
  assertEquals(await out.chunks, [
    `${CLEAR}.... 2/10`,
    `${CLEAR}==.. 5/10`,
    "\n",
  ]);
  assertEquals(seen.length, 2);
  const [first, last] = [seen[0]!, seen[1]!];
  assertEquals(first.value, 2);
  assertEquals(first.previousValue, 2);
  assertEquals(last.value, 5);
  assertEquals(last.previousValue, 2);
  assertEquals(last.max, 10);
  assertEquals(last.styledTime, "00:00");
  assertEquals(last.styledData, "0.00/0.01 KiB");
  assert(last.time >= first.time);
});

Deno.test("ProgressBar() clamps the bar and picks the unit from max", async () => {
  const out = capture();
  const bar = new ProgressBar({
    writable: out.writable,
    max: 3 * 2 ** 20,
    value: 4 * 2 ** 20,
    barLength: 10,
  });
  bar.value = -5;
  await bar.stop();
  await out.close();
  assertEquals(await out.chunks, [
    `${CLEAR}[00:00] [##########] [4.00/3.00 MiB]`,
    `${CLEAR}[00:00] [----------] [-0.00/3.00 MiB]`,
    "\n",
  ]);
});

Deno.test("ProgressBar() erases itself on stop() with clear", async () => {
  const out = capture();
  const bar = new ProgressBar({
    writable: out.writable,
    max: 1,
    barLength: 2,
    clear: true,
  });
  await bar.stop();
  await out.close();
  assertEquals(await out.chunks, [
    `${CLEAR}[00:00] [--] [0.00/0.00 KiB]`,
    CLEAR,
  ]);
});

Deno.test("ProgressBar() closes the writable on stop() unless keepOpen", async () => {
  const out = capture();
  const bar = new ProgressBar({
    writable: out.writable,
    max: 1,
    barLength: 1,
    keepOpen: false,
  });
  await bar.stop();
  // No close() here: the reader only finishes if stop() closed the stream.
  assertEquals(await out.chunks, [
    `${CLEAR}[00:00] [-] [0.00/0.00 KiB]`,
    `${CLEAR}[00:00] [-] [0.00/0.00 KiB]`,
    "\n",
  ]);
});

Deno.test("ProgressBar() releases the writable on stop() when kept open", async () => {
  const out = capture();
  const bar = new ProgressBar({ writable: out.writable, max: 1 });
  await bar.stop();
  assertEquals(out.writable.locked, false);
  const writer = out.writable.getWriter();
  const extra = writer.write(new TextEncoder().encode("after"));
  writer.releaseLock();
  await out.close();
  await extra;
  assertEquals((await out.chunks).at(-1), "after");
});
