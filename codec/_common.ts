// Copyright 2026 the netkit authors. MIT license.
// Private helpers of the built-in framings: option checks, message checks.

import type { OversizePolicy } from "./decoder.ts";

/** The default `maxFrameLength` of the length-announcing framings: 8 MiB. */
export const DEFAULT_MAX_FRAME_LENGTH = 8 * 1024 * 1024;

/** The default `maxLength` of the delimiter framings: 64 KiB. */
export const DEFAULT_MAX_LENGTH = 65536;

/** Whether `n` is a safe integer ≥ 0. */
export function isNonNegInt(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/** Checks an `oversize` option. */
export function checkOversize(
  oversize: unknown,
  what: string,
): asserts oversize is OversizePolicy {
  if (oversize !== "error" && oversize !== "skip") {
    throw new TypeError(
      `Cannot build ${what} codec: oversize must be "error" or "skip", received ${
        JSON.stringify(oversize)
      }`,
    );
  }
}

/** What a value is, for an error message: `number`, `ArrayBuffer`, `null`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor
    ?.name;
  return typeof name === "string" && name.length > 0 ? name : "object";
}

/**
 * Checks that an encoder of byte frames was given bytes, before it appends
 * anything.
 *
 * @throws {TypeError} The message is not a `Uint8Array`.
 */
export function checkBytes(
  message: unknown,
  codec: string,
): asserts message is Uint8Array {
  if (!(message instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot encode message: ${codec} takes a Uint8Array, received ${
        describe(message)
      }`,
    );
  }
}

/** A byte as two hex digits. */
export function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
