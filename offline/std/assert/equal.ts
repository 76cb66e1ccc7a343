// Offline stand-in for part of @std/assert 1.0.19.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.

type Keyed = Map<unknown, unknown> | Set<unknown>;
type Indexable = Record<PropertyKey, unknown>;

/** Prototypes whose instances are equal when their string forms are equal. */
const STRING_COMPARED: ReadonlySet<unknown> = collectStringCompared();

function collectStringCompared(): Set<unknown> {
  const constructors: unknown[] = [RegExp, URL, URLSearchParams, Intl.Locale];
  // Temporal may be absent (or unstable) in the running Deno.
  const temporal: unknown = Reflect.get(globalThis, "Temporal");
  if (typeof temporal === "object" && temporal !== null) {
    for (
      const name of [
        "Duration",
        "Instant",
        "PlainDate",
        "PlainDateTime",
        "PlainTime",
        "PlainYearMonth",
        "PlainMonthDay",
        "ZonedDateTime",
      ]
    ) {
      constructors.push(Reflect.get(temporal, name));
    }
  }
  const result = new Set<unknown>();
  for (const ctor of constructors) {
    if (typeof ctor === "function") result.add(ctor.prototype);
  }
  return result;
}

function isPrimitiveKey(value: unknown): boolean {
  return value === null ||
    (typeof value !== "object" && typeof value !== "function");
}

function isTypedArray(value: object): value is ArrayLike<unknown> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function isArrayBufferLike(value: object): value is ArrayBufferLike {
  return value instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer === "function" &&
      value instanceof SharedArrayBuffer);
}

/** Same prototype, treating a null prototype and `Object.prototype` alike. */
function haveSamePrototype(a: object, b: object): boolean {
  const protoA: unknown = Object.getPrototypeOf(a);
  const protoB: unknown = Object.getPrototypeOf(b);
  if (protoA === protoB) return true;
  const plain = (p: unknown) => p === null || p === Object.prototype;
  return plain(protoA) && plain(protoB);
}

function isPlainObjectOrArray(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype ||
    proto === Array.prototype;
}

/** Own enumerable string and symbol keys of either object. */
function enumerableKeys(a: object, b: object): Set<PropertyKey> {
  const keys = new Set<PropertyKey>();
  for (const source of [a, b]) {
    for (const key of Reflect.ownKeys(source)) {
      if (Object.prototype.propertyIsEnumerable.call(source, key)) {
        keys.add(key);
      }
    }
  }
  return keys;
}

/** Every own key along the prototype chain, stopping at the built-in roots. */
function keysAlongChain(value: object, into: Set<PropertyKey>): void {
  let current: object | null = value;
  while (
    current !== null && current !== Object.prototype &&
    current !== Array.prototype
  ) {
    for (const key of Reflect.ownKeys(current)) into.add(key);
    current = Object.getPrototypeOf(current) as object | null;
  }
}

function sameElements(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && !Object.is(x, y)) return false;
  }
  return true;
}

function compareKeyed(
  a: Keyed,
  b: Keyed,
  seen: Map<object, object>,
): boolean {
  if (a.size !== b.size) return false;
  const keysOfA = [...a.keys()];
  if (keysOfA.every(isPrimitiveKey)) {
    if (a instanceof Set) {
      for (const key of keysOfA) if (!b.has(key)) return false;
      return true;
    }
    const mapB = b as Map<unknown, unknown>;
    for (const key of keysOfA) {
      if (!mapB.has(key)) return false;
      if (!compare(a.get(key), mapB.get(key), seen)) return false;
    }
    return true;
  }
  // Keys may be objects: every entry of `a` needs a structurally equal entry
  // in `b`. A set entry's value is its key, so it matches once the key does.
  for (const [keyA, valueA] of a.entries()) {
    let matched = false;
    for (const [keyB, valueB] of b.entries()) {
      if (!compare(keyA, keyB, seen)) continue;
      const bothSets = keyA === valueA && keyB === valueB;
      if (bothSets || compare(valueA, valueB, seen)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

function compare(a: unknown, b: unknown, seen: Map<object, object>): boolean {
  if (a === b || Object.is(a, b)) return true;
  if (
    typeof a !== "object" || typeof b !== "object" || a === null || b === null
  ) {
    return false;
  }
  if (a instanceof Date && b instanceof Date) {
    return Object.is(a.getTime(), b.getTime());
  }
  if (!haveSamePrototype(a, b)) return false;
  if (isTypedArray(a)) return sameElements(a, b as ArrayLike<unknown>);
  if (isArrayBufferLike(a)) {
    return sameElements(
      new Uint8Array(a),
      new Uint8Array(b as ArrayBufferLike),
    );
  }
  if (a instanceof WeakMap) {
    throw new TypeError("Cannot compare WeakMap instances");
  }
  if (a instanceof WeakSet) {
    throw new TypeError("Cannot compare WeakSet instances");
  }
  if (a instanceof WeakRef) {
    return compare(a.deref(), (b as WeakRef<WeakKey>).deref(), seen);
  }
  if (seen.get(a) === b) return true;
  if (Object.keys(a).length !== Object.keys(b).length) return false;
  seen.set(a, b);

  if (
    (a instanceof Map || a instanceof Set) &&
    (b instanceof Map || b instanceof Set)
  ) {
    return compareKeyed(a, b, seen);
  }

  let keys: Set<PropertyKey>;
  if (isPlainObjectOrArray(a)) {
    keys = enumerableKeys(a, b);
  } else if (STRING_COMPARED.has(Object.getPrototypeOf(a))) {
    return String(a) === String(b);
  } else {
    keys = new Set();
    keysAlongChain(a, keys);
    keysAlongChain(b, keys);
  }

  const objA = a as Indexable;
  const objB = b as Indexable;
  for (const key of keys) {
    if (!compare(objA[key], objB[key], seen)) return false;
    if ((key in objA) !== (key in objB)) return false;
  }
  return true;
}

/**
 * Deep structural equality, as used by `assertEquals`.
 *
 * Primitives are equal when they are `===` or `Object.is` (so `NaN` equals
 * `NaN` and `0` equals `-0`). Objects must share a prototype (a null
 * prototype counts as `Object.prototype`). Typed arrays and array buffers are
 * compared element by element, `Date`s by time value, `Map`s and `Set`s by
 * their entries, `RegExp`, `URL`, `URLSearchParams`, `Intl.Locale` and
 * Temporal values by their string form, plain objects and arrays by their own
 * enumerable keys, and class instances by every key on their prototype chain.
 * Cycles are supported.
 *
 * @param a The actual value.
 * @param b The expected value.
 * @returns `true` when the values are deeply equal.
 * @throws {TypeError} If a `WeakMap` or `WeakSet` is compared.
 */
export function equal(a: unknown, b: unknown): boolean {
  return compare(a, b, new Map());
}
