// Offline stand-in helper for @std/assert 1.0.19.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.
//
// Failure messages here are plain text: a line diff without colours.

const INSPECT_OPTIONS: Deno.InspectOptions = {
  depth: Infinity,
  sorted: true,
  trailingComma: true,
  compact: false,
  iterableLimit: Infinity,
  getters: true,
  strAbbreviateSize: Infinity,
};

/** Lines of unchanged context kept around each change in a diff. */
const CONTEXT_LINES = 5;

/** Above this many cells the line diff falls back to remove-all/add-all. */
const MAX_DIFF_CELLS = 4_000_000;

/**
 * Formats a value for a failure message, one property per line.
 *
 * @param value The value to format.
 * @returns The formatted text.
 */
export function format(value: unknown): string {
  return Deno.inspect(value, INSPECT_OPTIONS);
}

type Line = { sign: " " | "-" | "+"; text: string };

/** Longest-common-subsequence line diff of `actual` against `expected`. */
function diffLines(actual: string[], expected: string[]): Line[] {
  let head = 0;
  while (
    head < actual.length && head < expected.length &&
    actual[head] === expected[head]
  ) {
    head++;
  }
  let tail = 0;
  while (
    tail < actual.length - head && tail < expected.length - head &&
    actual[actual.length - 1 - tail] === expected[expected.length - 1 - tail]
  ) {
    tail++;
  }
  const a = actual.slice(head, actual.length - tail);
  const e = expected.slice(head, expected.length - tail);
  const middle: Line[] = [];

  if (a.length * e.length > MAX_DIFF_CELLS) {
    for (const text of a) middle.push({ sign: "-", text });
    for (const text of e) middle.push({ sign: "+", text });
  } else {
    // lengths[i][j] = LCS length of a[i..] and e[j..], stored row-major.
    const width = e.length + 1;
    const lengths = new Uint32Array((a.length + 1) * width);
    for (let i = a.length - 1; i >= 0; i--) {
      for (let j = e.length - 1; j >= 0; j--) {
        lengths[i * width + j] = a[i] === e[j]
          ? lengths[(i + 1) * width + j + 1]! + 1
          : Math.max(
            lengths[(i + 1) * width + j]!,
            lengths[i * width + j + 1]!,
          );
      }
    }
    let i = 0;
    let j = 0;
    while (i < a.length || j < e.length) {
      if (i < a.length && j < e.length && a[i] === e[j]) {
        middle.push({ sign: " ", text: a[i]! });
        i++;
        j++;
      } else if (
        j >= e.length ||
        (i < a.length &&
          lengths[(i + 1) * width + j]! >= lengths[i * width + j + 1]!)
      ) {
        middle.push({ sign: "-", text: a[i]! });
        i++;
      } else {
        middle.push({ sign: "+", text: e[j]! });
        j++;
      }
    }
  }

  // Within each changed block std lists the actual lines first, unless the
  // expected side is the longer one; follow the same order.
  const first = expected.length > actual.length ? "+" : "-";
  const ordered: Line[] = [];
  let block: Line[] = [];
  const flush = () => {
    ordered.push(...block.filter((line) => line.sign === first));
    ordered.push(...block.filter((line) => line.sign !== first));
    block = [];
  };
  for (const line of middle) {
    if (line.sign === " ") {
      flush();
      ordered.push(line);
    } else {
      block.push(line);
    }
  }
  flush();

  return [
    ...actual.slice(0, head).map((text): Line => ({ sign: " ", text })),
    ...ordered,
    ...actual.slice(actual.length - tail).map((text): Line => ({
      sign: " ",
      text,
    })),
  ];
}

/** Replaces long runs of unchanged lines with a one-line marker. */
function collapseContext(lines: Line[]): string[] {
  const keep = new Uint8Array(lines.length);
  lines.forEach((line, index) => {
    if (line.sign === " ") return;
    const from = Math.max(0, index - CONTEXT_LINES);
    const to = Math.min(lines.length, index + CONTEXT_LINES + 1);
    keep.fill(1, from, to);
  });
  const out: string[] = [];
  let skipped = 0;
  lines.forEach((line, index) => {
    if (keep[index] === 0) {
      skipped++;
      return;
    }
    if (skipped > 0) {
      out.push(`    ... ${skipped} unchanged lines ...`);
      skipped = 0;
    }
    out.push(`${line.sign}   ${line.text}`);
  });
  if (skipped > 0) out.push(`    ... ${skipped} unchanged lines ...`);
  return out;
}

/**
 * Builds the diff section of an equality failure message.
 *
 * Strings are diffed line by line as raw text; other values are diffed on
 * their {@linkcode format}ted form. Lines only in the actual value start with
 * `-`, lines only in the expected value with `+`.
 *
 * @param actual The actual value.
 * @param expected The expected value.
 * @returns The diff text, starting with a `[Diff] Actual / Expected` banner.
 */
export function buildDiff(actual: unknown, expected: unknown): string {
  const bothStrings = typeof actual === "string" &&
    typeof expected === "string";
  const actualText = bothStrings ? actual : format(actual);
  const expectedText = bothStrings ? expected : format(expected);
  const lines = diffLines(actualText.split("\n"), expectedText.split("\n"));
  return [
    "",
    "",
    "    [Diff] Actual / Expected",
    "",
    "",
    ...collapseContext(lines),
    "",
  ].join("\n");
}
