// Offline stand-in for part of @std/assert 1.0.19.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.
//
// Every failure throws `AssertionError`; when a `msg` argument is given, the
// message ends with `: ${msg}`, otherwise with a period, as in std.

import { AssertionError } from "./assertion_error.ts";
import { equal } from "./equal.ts";
import { buildDiff, format } from "./_format.ts";

/** Constructor of an error class, as accepted by `assertThrows`. */
type ErrorConstructorOf<E extends Error> = abstract new (
  ...args: never[]
) => E;

/** Values that are falsy, as narrowed by {@linkcode assertFalse}. */
export type Falsy = false | 0 | 0n | "" | null | undefined;

/** An array-like object, as accepted by {@linkcode assertArrayIncludes}. */
export type ArrayLikeArg<T> = ArrayLike<T> & object;

function suffix(msg: string | undefined): string {
  return msg ? `: ${msg}` : ".";
}

// deno-lint-ignore no-control-regex -- matches ANSI escape sequences on purpose
const ANSI_PATTERN = /[\u001b\u009b]\[[0-9;?]*[ -\/]*[@-~]/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, "");
}

/**
 * Asserts that `expr` is truthy.
 *
 * @param expr The value to check.
 * @param msg The message of the error thrown on failure.
 * @throws {AssertionError} If `expr` is falsy.
 */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) throw new AssertionError(msg);
}

/**
 * Asserts that `expr` is falsy.
 *
 * @param expr The value to check.
 * @param msg The message of the error thrown on failure.
 * @throws {AssertionError} If `expr` is truthy.
 */
export function assertFalse(expr: unknown, msg = ""): asserts expr is Falsy {
  if (expr) throw new AssertionError(msg);
}

/**
 * Asserts that `actual` and `expected` are deeply equal, using
 * {@linkcode equal}.
 *
 * @param actual The actual value.
 * @param expected The expected value.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} With a line diff if the values differ.
 */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (equal(actual, expected)) return;
  throw new AssertionError(
    `Values are not equal${suffix(msg)}\n${buildDiff(actual, expected)}`,
  );
}

/**
 * Asserts that `actual` and `expected` are not deeply equal.
 *
 * @param actual The actual value.
 * @param expected The value `actual` must differ from.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} If the values are deeply equal.
 */
export function assertNotEquals<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (!equal(actual, expected)) return;
  throw new AssertionError(
    `Expected actual: ${format(actual)} not to be: ${format(expected)}${
      suffix(msg)
    }`,
  );
}

/**
 * Asserts that `actual` and `expected` are the same value (`Object.is`).
 *
 * @param actual The actual value.
 * @param expected The expected value.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} If the values are not the same.
 */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  if (Object.is(actual, expected)) return;
  const actualText = format(actual);
  if (actualText === format(expected)) {
    const indented = actualText.split("\n").map((line) => `    ${line}`)
      .join("\n");
    throw new AssertionError(
      `Values have the same structure but are not reference-equal${
        suffix(msg)
      }\n\n${indented}\n`,
    );
  }
  throw new AssertionError(
    `Values are not strictly equal${suffix(msg)}\n${
      buildDiff(actual, expected)
    }`,
  );
}

/**
 * Asserts that `actual` is neither `null` nor `undefined`.
 *
 * @param actual The value to check.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} If `actual` is `null` or `undefined`.
 */
export function assertExists<T>(
  actual: T,
  msg?: string,
): asserts actual is NonNullable<T> {
  if (actual !== null && actual !== undefined) return;
  throw new AssertionError(
    `Expected actual: "${actual}" to not be null or undefined${suffix(msg)}`,
  );
}

/**
 * Asserts that `actual` is an instance of `expectedType`.
 *
 * @param actual The value to check.
 * @param expectedType The class `actual` must be an instance of.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} If `actual` is not an instance of `expectedType`.
 */
export function assertInstanceOf<
  T extends abstract new (...args: never[]) => unknown,
>(
  actual: unknown,
  expectedType: T,
  msg = "",
): asserts actual is InstanceType<T> {
  if (actual instanceof expectedType) return;
  const expectedName = expectedType.name;
  let actualName: string;
  if (actual === null) {
    actualName = "null";
  } else if (typeof actual === "object") {
    actualName = (actual as { constructor?: { name?: string } }).constructor
      ?.name ?? "Object";
  } else {
    actualName = typeof actual;
  }
  let detail: string;
  if (actualName === expectedName) {
    detail = "";
  } else if (actualName === "function") {
    detail = " but was not an instanced object";
  } else {
    detail = ` but was "${actualName}"`;
  }
  throw new AssertionError(
    `Expected object to be an instance of "${expectedName}"${detail}${
      suffix(msg)
    }`,
  );
}

/**
 * Asserts that `actual` matches the regular expression `expected`.
 *
 * @param actual The string to test.
 * @param expected The pattern it must match.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} If `actual` does not match.
 */
export function assertMatch(
  actual: string,
  expected: RegExp,
  msg?: string,
): void {
  if (expected.test(actual)) return;
  throw new AssertionError(
    `Expected actual: "${actual}" to match: "${expected}"${suffix(msg)}`,
  );
}

/**
 * Asserts that `actual` contains the substring `expected`.
 *
 * @param actual The string to search.
 * @param expected The substring it must contain.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} If `expected` is not found.
 */
export function assertStringIncludes(
  actual: string,
  expected: string,
  msg?: string,
): void {
  if (actual.includes(expected)) return;
  throw new AssertionError(
    `Expected actual: "${actual}" to contain: "${expected}"${suffix(msg)}`,
  );
}

/**
 * Asserts that `actual > expected`.
 *
 * @param actual The actual value.
 * @param expected The bound.
 * @param msg The whole failure message, replacing the default.
 * @throws {AssertionError} If the comparison does not hold.
 */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (actual > expected) return;
  throw new AssertionError(
    msg ?? `Expect ${format(actual)} > ${format(expected)}`,
  );
}

/**
 * Asserts that `actual >= expected`.
 *
 * @param actual The actual value.
 * @param expected The bound.
 * @param msg The whole failure message, replacing the default.
 * @throws {AssertionError} If the comparison does not hold.
 */
export function assertGreaterOrEqual<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (actual >= expected) return;
  throw new AssertionError(
    msg ?? `Expect ${format(actual)} >= ${format(expected)}`,
  );
}

/**
 * Asserts that `actual < expected`.
 *
 * @param actual The actual value.
 * @param expected The bound.
 * @param msg The whole failure message, replacing the default.
 * @throws {AssertionError} If the comparison does not hold.
 */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (actual < expected) return;
  throw new AssertionError(
    msg ?? `Expect ${format(actual)} < ${format(expected)}`,
  );
}

/**
 * Asserts that `actual <= expected`.
 *
 * @param actual The actual value.
 * @param expected The bound.
 * @param msg The whole failure message, replacing the default.
 * @throws {AssertionError} If the comparison does not hold.
 */
export function assertLessOrEqual<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (actual <= expected) return;
  throw new AssertionError(
    msg ?? `Expect ${format(actual)} <= ${format(expected)}`,
  );
}

/**
 * Asserts that every item of `expected` occurs in `actual`. Primitives are
 * looked up with `Array.prototype.includes`, objects with {@linkcode equal}.
 *
 * @param actual The array-like to search.
 * @param expected The items that must all be present.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} Listing the missing items.
 */
export function assertArrayIncludes<T>(
  actual: ArrayLikeArg<T>,
  expected: ArrayLikeArg<T>,
  msg?: string,
): void {
  const missing: unknown[] = [];
  for (let i = 0; i < expected.length; i++) {
    const item = expected[i];
    const isObject = item !== null &&
      (typeof item === "object" || typeof item === "function");
    let found = false;
    if (isObject) {
      for (let j = 0; j < actual.length && !found; j++) {
        found = equal(item, actual[j]);
      }
    } else {
      found = Array.prototype.includes.call(actual, item);
    }
    if (!found) missing.push(item);
  }
  if (missing.length === 0) return;
  throw new AssertionError(
    `Expected actual: "${format(actual)}" to include: "${format(expected)}"${
      suffix(msg)
    }\nmissing: ${format(missing)}`,
  );
}

type Loose = Record<PropertyKey, unknown>;

function isObjectLike(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function defineEnumerable(
  target: object,
  key: PropertyKey,
  value: unknown,
): void {
  Object.defineProperty(target, key, {
    value,
    configurable: true,
    enumerable: true,
    writable: true,
  });
}

/**
 * Copies the parts of `actual` whose keys also appear in `shape`, recursing
 * into nested objects, arrays (up to the shorter length), maps (common keys)
 * and sets (common members).
 */
function projectOnto(actual: Loose, shape: Loose): Loose {
  const visited = new WeakMap<object, unknown>();

  const projectValue = (value: unknown, subset: unknown): unknown => {
    if (value instanceof RegExp || value instanceof Date) return value;
    if (Array.isArray(value) && Array.isArray(subset)) {
      return projectArray(value, subset);
    }
    if (!isObjectLike(value) || !isObjectLike(subset)) return value;
    if (value instanceof Map && subset instanceof Map) {
      const entries: Array<[unknown, unknown]> = [];
      for (const [key, item] of value) {
        if (!subset.has(key)) continue;
        const other: unknown = subset.get(key);
        entries.push([
          key,
          isObjectLike(item) && isObjectLike(other)
            ? projectObject(item as Loose, other as Loose)
            : item,
        ]);
      }
      return new Map(entries);
    }
    if (value instanceof Set && subset instanceof Set) {
      return new Set([...value].filter((item) => subset.has(item)));
    }
    return projectObject(value as Loose, subset as Loose);
  };

  const projectArray = (value: unknown[], subset: unknown[]): unknown[] => {
    if (visited.get(value) === subset) return value;
    visited.set(value, subset);
    const count = Math.min(value.length, subset.length);
    const out: unknown[] = [];
    for (let i = 0; i < count; i++) out.push(projectValue(value[i], subset[i]));
    return out;
  };

  const projectObject = (value: Loose, subset: Loose): Loose => {
    if (visited.get(value) === subset) return value;
    try {
      visited.set(value, subset);
    } catch (error) {
      if (error instanceof TypeError) {
        throw new TypeError(
          `Cannot assertObjectMatch ${
            value === null ? null : `type ${typeof value}`
          }`,
        );
      }
    }
    const out: Loose = {};
    const ownKeys = Reflect.ownKeys(value);
    const shapeKeys = Reflect.ownKeys(subset);
    const common = ownKeys.filter((key) => shapeKeys.includes(key));
    if (ownKeys.length > 0 && shapeKeys.length > 0 && common.length === 0) {
      // Nothing in common: keep everything so the diff shows what is there.
      for (const key of ownKeys) defineEnumerable(out, key, value[key]);
      return out;
    }
    for (const key of common) {
      defineEnumerable(out, key, projectValue(value[key], subset[key]));
    }
    return out;
  };

  return projectObject(actual, shape);
}

/**
 * Asserts that `actual` contains `expected` as a subset: every key of
 * `expected` is present in `actual` with a deeply equal value, recursively;
 * extra keys in `actual` are ignored.
 *
 * @param actual The object to check.
 * @param expected The subset it must contain.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} With a diff of the projected values on mismatch.
 */
export function assertObjectMatch(
  // deno-lint-ignore no-explicit-any -- same parameter type as std, so interfaces without an index signature are accepted
  actual: Record<PropertyKey, any>,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void {
  assertEquals(
    projectOnto(actual, expected),
    projectOnto(expected, expected),
    msg,
  );
}

/**
 * Asserts that `error` is an `Error`, optionally of class `ErrorClass` and
 * with a message that includes (string) or matches (RegExp) `msgMatches`.
 * ANSI colour codes are ignored when comparing messages.
 *
 * @param error The value to check.
 * @param ErrorClass The class `error` must be an instance of.
 * @param msgMatches Text the message must include, or a pattern it must match.
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} If any check fails.
 */
export function assertIsError<E extends Error = Error>(
  error: unknown,
  ErrorClass?: ErrorConstructorOf<E>,
  msgMatches?: string | RegExp,
  msg?: string,
): asserts error is E {
  if (!(error instanceof Error)) {
    throw new AssertionError(
      `Expected "error" to be an Error object${suffix(msg)}`,
    );
  }
  if (ErrorClass !== undefined && !(error instanceof ErrorClass)) {
    throw new AssertionError(
      `Expected error to be instance of "${ErrorClass.name}", but was "${error.constructor?.name}"${
        suffix(msg)
      }`,
    );
  }
  if (!msgMatches) return;
  const message = stripAnsi(error.message);
  const matches = typeof msgMatches === "string"
    ? message.includes(stripAnsi(msgMatches))
    : msgMatches.test(message);
  if (matches) return;
  const wanted = typeof msgMatches === "string"
    ? JSON.stringify(msgMatches)
    : String(msgMatches);
  throw new AssertionError(
    `Expected error message to include ${wanted}, but got ${
      JSON.stringify(error.message)
    }${suffix(msg)}`,
  );
}

function isErrorClass(value: unknown): boolean {
  if (typeof value !== "function") return false;
  const proto: unknown = value.prototype;
  return proto === Error.prototype || proto instanceof Error;
}

/**
 * Asserts that `fn` throws, and returns what it threw.
 *
 * @param fn The function expected to throw.
 * @param msg Text appended to the failure message.
 * @returns The thrown value.
 * @throws {AssertionError} If `fn` returns normally.
 */
export function assertThrows(fn: () => unknown, msg?: string): unknown;
/**
 * Asserts that `fn` throws an instance of `ErrorClass` whose message
 * includes `msgIncludes`, and returns the error.
 *
 * @param fn The function expected to throw.
 * @param ErrorClass The class the thrown error must be an instance of.
 * @param msgIncludes Text the error message must include.
 * @param msg Text appended to the failure message.
 * @returns The thrown error.
 * @throws {AssertionError} If `fn` returns normally or throws something else.
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass: ErrorConstructorOf<E>,
  msgIncludes?: string,
  msg?: string,
): E;
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClassOrMsg?: ErrorConstructorOf<E> | string,
  msgIncludesOrMsg?: string,
  msg?: string,
): unknown {
  let ErrorClass: ErrorConstructorOf<E> | undefined;
  let msgIncludes: string | undefined;
  if (typeof errorClassOrMsg === "string") {
    msg = errorClassOrMsg;
  } else if (errorClassOrMsg === undefined || isErrorClass(errorClassOrMsg)) {
    ErrorClass = errorClassOrMsg;
    msgIncludes = msgIncludesOrMsg;
  } else {
    msg = msgIncludesOrMsg;
  }
  try {
    fn();
  } catch (error) {
    if (ErrorClass !== undefined) {
      if (!(error instanceof Error)) {
        throw new AssertionError(`A non-Error object was thrown${suffix(msg)}`);
      }
      assertIsError(error, ErrorClass, msgIncludes, msg);
    }
    return error;
  }
  throw new AssertionError(`Expected function to throw${suffix(msg)}`);
}

/**
 * Asserts that the promise returned by `fn` rejects, and resolves to the
 * rejection reason.
 *
 * @param fn The function whose returned promise is expected to reject.
 * @param msg Text appended to the failure message.
 * @returns The rejection reason.
 * @throws {AssertionError} If `fn` throws synchronously, returns no promise,
 * or its promise fulfils.
 */
export function assertRejects(
  fn: () => PromiseLike<unknown>,
  msg?: string,
): Promise<unknown>;
/**
 * Asserts that the promise returned by `fn` rejects with an instance of
 * `ErrorClass` whose message includes `msgIncludes`, and resolves to the
 * error.
 *
 * @param fn The function whose returned promise is expected to reject.
 * @param ErrorClass The class the rejection reason must be an instance of.
 * @param msgIncludes Text the error message must include.
 * @param msg Text appended to the failure message.
 * @returns The rejection reason.
 * @throws {AssertionError} If `fn` throws synchronously, returns no promise,
 * its promise fulfils, or it rejects with something else.
 */
export function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass: ErrorConstructorOf<E>,
  msgIncludes?: string,
  msg?: string,
): Promise<E>;
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  errorClassOrMsg?: ErrorConstructorOf<E> | string,
  msgIncludesOrMsg?: string,
  msg?: string,
): Promise<unknown> {
  let ErrorClass: ErrorConstructorOf<E> | undefined;
  let msgIncludes: string | undefined;
  if (typeof errorClassOrMsg === "string") {
    msg = errorClassOrMsg;
  } else if (errorClassOrMsg === undefined || isErrorClass(errorClassOrMsg)) {
    ErrorClass = errorClassOrMsg;
    msgIncludes = msgIncludesOrMsg;
  }
  let returned: unknown;
  try {
    returned = fn();
  } catch {
    returned = undefined;
  }
  if (
    !isObjectLike(returned) ||
    typeof (returned as { then?: unknown }).then !== "function"
  ) {
    throw new AssertionError(
      `Function throws when expected to reject${suffix(msg)}`,
    );
  }
  try {
    await returned;
  } catch (error) {
    if (ErrorClass !== undefined) {
      if (!(error instanceof Error)) {
        throw new AssertionError(
          `A non-Error object was rejected${suffix(msg)}`,
        );
      }
      assertIsError(error, ErrorClass, msgIncludes, msg);
    }
    return error;
  }
  throw new AssertionError(`Expected function to reject${suffix(msg)}`);
}

/**
 * Throws an `AssertionError` unconditionally.
 *
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} Always.
 */
export function fail(msg?: string): never {
  throw new AssertionError(`Failed assertion${suffix(msg)}`);
}

/**
 * Marks code that must never run; throws an `AssertionError` if it does.
 *
 * @param msg Text appended to the failure message.
 * @throws {AssertionError} Always.
 */
export function unreachable(msg?: string): never {
  throw new AssertionError(`Unreachable${suffix(msg)}`);
}
