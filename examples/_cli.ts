// Copyright 2026 the netkit authors. MIT license.

/**
 * The command-line plumbing the examples share: flag checks that fail with
 * a one-line usage error, the exit-code convention, and waiting for
 * SIGINT/SIGTERM.
 *
 * @module
 */

/** A bad command line: the program prints the message and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses a whole number flag.
 *
 * @param value The flag's text.
 * @param flag The flag's name, for the message.
 * @param min The smallest value allowed.
 * @param max The largest value allowed.
 * @returns The number.
 * @throws {UsageError} The text is not a whole number in range.
 */
export function integer(
  value: string | undefined,
  flag: string,
  min: number,
  max?: number,
): number {
  const n = Number(value);
  if (
    value === undefined || !Number.isInteger(n) || n < min ||
    (max !== undefined && n > max)
  ) {
    throw new UsageError(
      max === undefined
        ? `--${flag} must be an integer of at least ${min}, received "${value}"`
        : `--${flag} must be an integer from ${min} to ${max}, received "${value}"`,
    );
  }
  return n;
}

/**
 * Checks that a flag is one of a few words.
 *
 * @param value The flag's text.
 * @param flag The flag's name, for the message.
 * @param allowed The words allowed.
 * @returns The word.
 * @throws {UsageError} The text is not one of them.
 */
export function oneOf<T extends string>(
  value: string,
  flag: string,
  allowed: readonly T[],
): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(
      `--${flag} must be one of ${allowed.join(", ")}, received "${value}"`,
    );
  }
  return value as T;
}

/**
 * Runs a program: parses the arguments (a usage error prints one line and
 * gives exit code 2; `null` prints the help), then runs it (an error
 * prints one line, without a stack trace, and gives exit code 1).
 *
 * @param name The program's name, prefixed to error lines.
 * @param help The help text.
 * @param argv The command-line arguments.
 * @param parse Turns the arguments into settings, or `null` for `--help`.
 * @param run Runs the program; its number is the exit code (0 if none).
 * @returns The exit code.
 */
export async function runMain<S>(
  name: string,
  help: string,
  argv: string[],
  parse: (argv: string[]) => S | null,
  run: (settings: S) => Promise<number | void>,
): Promise<number> {
  let settings: S | null;
  try {
    settings = parse(argv);
  } catch (err) {
    console.error(`${name}: ${(err as Error).message}`);
    return 2;
  }
  if (settings === null) {
    console.log(help);
    return 0;
  }
  try {
    return (await run(settings)) ?? 0;
  } catch (err) {
    console.error(`${name}: ${(err as Error).message}`);
    return 1;
  }
}

/**
 * Calls `onSignal` on SIGINT or SIGTERM until `finished` settles.
 *
 * @param onSignal What a signal does, usually a graceful shutdown.
 * @param finished When to stop listening, usually `server.finished`.
 */
export async function untilSignal(
  onSignal: () => void,
  finished: Promise<unknown>,
): Promise<void> {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const sig of signals) Deno.addSignalListener(sig, onSignal);
  try {
    await finished;
  } finally {
    for (const sig of signals) Deno.removeSignalListener(sig, onSignal);
  }
}

/** What {@linkcode serveUntilSignal} needs of a server. */
export interface Stoppable {
  /** Shuts down gracefully. */
  shutdown(options?: { timeout?: number }): Promise<void>;
  /** Settles when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Serves until SIGINT or SIGTERM, then shuts the server down gracefully.
 *
 * @param server The server.
 * @param timeout How long handlers get to finish, in milliseconds.
 */
export function serveUntilSignal(
  server: Stoppable,
  timeout?: number,
): Promise<void> {
  const options = timeout === undefined ? {} : { timeout };
  return untilSignal(() => void server.shutdown(options), server.finished);
}
