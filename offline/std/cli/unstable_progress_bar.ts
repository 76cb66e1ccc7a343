// Offline stand-in for part of @std/cli 1.0.32 (unstable-progress-bar).
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.

/** The values passed to a progress bar's `formatter` on every redraw. */
export interface ProgressBarFormatter {
  /** Elapsed time as `mm:ss`. */
  styledTime: string;
  /** Value and maximum in binary units, such as `0.40/97.66 KiB`. */
  styledData: string;
  /** The bar itself, such as `###-------`. */
  progressBar: string;
  /** Milliseconds since the bar was created. */
  time: number;
  /** `time` at the previous redraw. */
  previousTime: number;
  /** The current value. */
  value: number;
  /** `value` at the previous redraw. */
  previousValue: number;
  /** The value at which the bar is full. */
  max: number;
}

/** Options of {@linkcode ProgressBar}. */
export interface ProgressBarOptions {
  /**
   * Where the bar is written.
   *
   * @default {Deno.stderr.writable}
   */
  writable?: WritableStream<Uint8Array>;
  /**
   * The starting value, for progress that resumes part way through.
   *
   * @default {0}
   */
  value?: number;
  /** The value at which the bar is full. */
  max: number;
  /**
   * The width of the bar in characters.
   *
   * @default {50}
   */
  barLength?: number;
  /**
   * The character for the completed part of the bar.
   *
   * @default {"#"}
   */
  fillChar?: string;
  /**
   * The character for the remaining part of the bar.
   *
   * @default {"-"}
   */
  emptyChar?: string;
  /**
   * Whether `stop()` erases the bar instead of leaving the final line.
   *
   * @default {false}
   */
  clear?: boolean;
  /**
   * Renders one line from the current values.
   *
   * @default {Renders `[mm:ss] [###-------] [0.24/97.66 KiB]`}
   */
  formatter?: (formatter: ProgressBarFormatter) => string;
  /**
   * Whether `writable` is left open (and unlocked) by `stop()`.
   *
   * @default {true}
   */
  keepOpen?: boolean;
  /**
   * Milliseconds between redraws.
   *
   * @default {1000}
   */
  interval?: number;
}

/** Carriage return, then erase to the end of the line. */
const CLEAR_LINE = "\r\u001b[K";

const BINARY_UNITS: ReadonlyArray<readonly [string, number]> = [
  ["KiB", 2 ** 10],
  ["MiB", 2 ** 20],
  ["GiB", 2 ** 30],
  ["TiB", 2 ** 40],
  ["PiB", 2 ** 50],
  ["EiB", 2 ** 60],
  ["ZiB", 2 ** 70],
  ["YiB", 2 ** 80],
];

/** `value/max unit`, in the largest binary unit not above `max` (KiB at least). */
function formatData(value: number, max: number): string {
  let [unit, size] = BINARY_UNITS[0]!;
  for (const [name, bytes] of BINARY_UNITS) {
    if (bytes > max) break;
    unit = name;
    size = bytes;
  }
  return `${(value / size).toFixed(2)}/${(max / size).toFixed(2)} ${unit}`;
}

function formatElapsed(milliseconds: number): string {
  const totalSeconds = Math.trunc(milliseconds / 1000);
  const minutes = String(Math.trunc(totalSeconds / 60)).padStart(2, "0");
  const seconds = String(totalSeconds % 60).padStart(2, "0");
  return `${minutes}:${seconds}`;
}

function defaultFormatter(formatter: ProgressBarFormatter): string {
  return `[${formatter.styledTime}] [${formatter.progressBar}] [${formatter.styledData}]`;
}

/**
 * A text progress bar that redraws itself on one line of a stream: once when
 * created, then every `interval` milliseconds, and a last time on
 * {@linkcode ProgressBar.prototype.stop}. Progress is reported by assigning
 * {@linkcode ProgressBar.prototype.value}.
 *
 * Each redraw is one chunk: `"\r\u001b[K"` followed by the formatted line.
 * `stop()` then writes `"\n"` (or only `"\r\u001b[K"` with `clear`), and
 * cancels the timer.
 *
 * @experimental **UNSTABLE**: as in std.
 */
export class ProgressBar {
  /** The progress made so far. */
  value: number;
  /** The value at which the bar is full. */
  max: number;

  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #encoder = new TextEncoder();
  #pending: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval>;
  #startTime: number;
  #previousTime = 0;
  #previousValue: number;
  #barLength: number;
  #fillChar: string;
  #emptyChar: string;
  #clear: boolean;
  #formatter: (formatter: ProgressBarFormatter) => string;
  #keepOpen: boolean;

  /**
   * Creates the bar and draws it for the first time.
   *
   * @param options The maximum, the destination and the bar's appearance.
   */
  constructor(options: ProgressBarOptions) {
    this.value = options.value ?? 0;
    this.max = options.max;
    this.#barLength = options.barLength ?? 50;
    this.#fillChar = options.fillChar ?? "#";
    this.#emptyChar = options.emptyChar ?? "-";
    this.#clear = options.clear ?? false;
    this.#formatter = options.formatter ?? defaultFormatter;
    this.#keepOpen = options.keepOpen ?? true;
    this.#previousValue = this.value;
    this.#startTime = Date.now();

    const writable = options.writable ?? Deno.stderr.writable;
    this.#writer = writable.getWriter();
    // If the destination fails (for example its reader cancels), stop drawing.
    this.#writer.closed.catch(() => clearInterval(this.#timer));
    this.#timer = setInterval(() => this.#draw(), options.interval ?? 1000);
    this.#draw();
  }

  /** Queues `text`; write failures are ignored, as in std. */
  #write(text: string): Promise<void> {
    const chunk = this.#encoder.encode(text);
    this.#pending = this.#pending.then(() =>
      this.#writer.write(chunk).catch(() => {})
    );
    return this.#pending;
  }

  #draw(): Promise<void> {
    const time = Date.now() - this.#startTime;
    const value = this.value;
    const max = this.max;
    const ratio = Math.min(Math.max(value / max, 0), 1);
    const filled = Math.trunc(ratio * this.#barLength);
    const line = this.#formatter({
      get styledTime() {
        return formatElapsed(time);
      },
      get styledData() {
        return formatData(value, max);
      },
      progressBar: this.#fillChar.repeat(filled) +
        this.#emptyChar.repeat(this.#barLength - filled),
      time,
      previousTime: this.#previousTime,
      value,
      previousValue: this.#previousValue,
      max,
    });
    this.#previousTime = time;
    this.#previousValue = value;
    return this.#write(CLEAR_LINE + line);
  }

  /**
   * Stops the timer, draws the final line (or erases the bar with `clear`),
   * waits for every write, then closes `writable` unless `keepOpen` (in which
   * case it is unlocked). Errors from the destination are ignored.
   *
   * @returns A promise that settles once the output is flushed.
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#clear) {
      await this.#write(CLEAR_LINE);
    } else {
      await this.#draw();
      await this.#write("\n");
    }
    try {
      if (this.#keepOpen) {
        this.#writer.releaseLock();
      } else {
        await this.#writer.close();
      }
    } catch {
      // The destination already failed; nothing more to flush.
    }
  }
}
