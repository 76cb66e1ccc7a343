// Offline stand-in for part of @std/streams 1.1.2.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.

/** Options of {@linkcode TextLineStream}. */
export interface TextLineStreamOptions {
  /**
   * Also treat a lone `\r` as a line break.
   *
   * @default {false}
   */
  allowCR?: boolean;
}

/**
 * Splits a stream of text into lines. Lines end at `\n` or `\r\n` (and at a
 * lone `\r` with `allowCR`); the break is not part of the line. Text after
 * the last break is emitted as a final line when the input ends, but an
 * input that ends with a break yields no trailing empty line.
 */
export class TextLineStream extends TransformStream<string, string> {
  /** Text received since the last break, kept as parts to avoid rescans. */
  #parts: string[] = [];
  /** Whether the held text ends in `\r` that may start a `\r\n`. */
  #heldCR = false;

  /**
   * Constructs a new instance.
   *
   * @param options Whether a lone `\r` also ends a line.
   */
  constructor(options: TextLineStreamOptions = { allowCR: false }) {
    const allowCR = options.allowCR ?? false;
    super({
      transform: (chunk, controller) => {
        if (chunk.length === 0) return;
        this.#parts.push(chunk);
        const mayBreak = chunk.includes("\n") ||
          (allowCR && (this.#heldCR || chunk.includes("\r")));
        if (!mayBreak) return;

        const text = this.#parts.join("");
        this.#parts = [];
        let start = 0;
        // Next `\n` and `\r` at or after `start`; each is searched again only
        // once passed, so a chunk is scanned in linear time.
        let lf = text.indexOf("\n");
        let cr = allowCR ? text.indexOf("\r") : -1;
        while (start < text.length) {
          if (lf !== -1 && lf < start) lf = text.indexOf("\n", start);
          if (cr !== -1 && cr < start) cr = text.indexOf("\r", start);
          if (cr !== -1 && (lf === -1 || cr < lf - 1)) {
            // A lone `\r` ends the line, unless it is the last character:
            // the next chunk may start with the `\n` of a `\r\n`.
            if (cr === text.length - 1) break;
            controller.enqueue(text.slice(start, cr));
            start = cr + 1;
            continue;
          }
          if (lf === -1) break;
          const end = lf > start && text[lf - 1] === "\r" ? lf - 1 : lf;
          controller.enqueue(text.slice(start, end));
          start = lf + 1;
        }
        const rest = text.slice(start);
        if (rest.length > 0) this.#parts.push(rest);
        this.#heldCR = allowCR && rest.endsWith("\r");
      },
      flush: (controller) => {
        if (this.#parts.length === 0) return;
        let line = this.#parts.join("");
        if (allowCR && line.endsWith("\r")) line = line.slice(0, -1);
        controller.enqueue(line);
      },
    });
  }
}
