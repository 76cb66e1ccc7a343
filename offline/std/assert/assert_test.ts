// Tests for the @std/assert stand-in. They import the bare specifier, so the
// same file runs against the stand-in (offline/import_map.json) and against
// the real @std/assert.

import {
  assert,
  assertArrayIncludes,
  assertEquals,
  assertExists,
  assertFalse,
  assertGreater,
  assertGreaterOrEqual,
  assertInstanceOf,
  AssertionError,
  assertIsError,
  assertLess,
  assertLessOrEqual,
  assertMatch,
  assertNotEquals,
  assertObjectMatch,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
  equal,
  fail,
  unreachable,
} from "@std/assert";

/** Runs `fn`, requires an `AssertionError`, and returns its message. */
function failureOf(fn: () => unknown): string {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  if (!(caught instanceof AssertionError)) {
    throw new Error(`Expected an AssertionError, got: ${String(caught)}`);
  }
  return caught.message;
}

class Point {
  constructor(readonly x: number, readonly y: number) {}
}

class OtherPoint {
  constructor(readonly x: number, readonly y: number) {}
}

Deno.test("AssertionError has its class name and keeps the cause", () => {
  const cause = new Error("inner");
  const error = new AssertionError("boom", { cause });
  if (error.name !== "AssertionError") throw new Error("wrong name");
  if (error.message !== "boom") throw new Error("wrong message");
  if (error.cause !== cause) throw new Error("wrong cause");
  if (!(error instanceof Error)) throw new Error("not an Error");
});

Deno.test("assert() passes on truthy values and throws the message on falsy ones", () => {
  assert(1);
  assert("x");
  assert({});
  const message = failureOf(() => assert(0, "zero is falsy"));
  if (message !== "zero is falsy") throw new Error(`got: ${message}`);
  failureOf(() => assert(""));
  failureOf(() => assert(null));
});

Deno.test("assertFalse() passes on falsy values and throws on truthy ones", () => {
  assertFalse(0);
  assertFalse("");
  assertFalse(null);
  assertFalse(undefined);
  const message = failureOf(() => assertFalse(1, "one is truthy"));
  assertEquals(message, "one is truthy");
});

Deno.test("equal() treats NaN as equal to NaN and 0 as equal to -0", () => {
  assert(equal(NaN, NaN));
  assert(equal(0, -0));
  assert(equal([NaN], [NaN]));
  assert(equal(new Float64Array([0]), new Float64Array([-0])));
  assertFalse(equal(1, "1"));
  assertFalse(equal(null, undefined));
  assertFalse(equal(0, null));
});

Deno.test("equal() compares nested objects and arrays structurally", () => {
  assert(equal({ a: [1, { b: "c" }] }, { a: [1, { b: "c" }] }));
  assertFalse(equal({ a: [1, { b: "c" }] }, { a: [1, { b: "d" }] }));
  assertFalse(equal({ a: 1 }, { a: 1, b: 2 }));
  assertFalse(equal({ a: undefined }, { b: undefined }));
  assertFalse(equal([1, 2], [1, 2, 3]));
  assertFalse(equal([1, 2], { 0: 1, 1: 2 }));
  assert(equal(Object.create(null), {}));
});

Deno.test("equal() compares typed arrays and buffers element by element", () => {
  assert(equal(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])));
  assertFalse(equal(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])));
  assertFalse(equal(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])));
  assertFalse(equal(new Uint8Array([1]), new Int8Array([1])));
  assertFalse(equal(new Uint8Array([1]), [1]));
  assert(equal(new Uint8Array([9, 8]).buffer, new Uint8Array([9, 8]).buffer));
  assertFalse(equal(new Uint8Array([9]).buffer, new Uint8Array([8]).buffer));
  const view = new Uint8Array([0, 5, 6, 0]).subarray(1, 3);
  assert(equal(view, new Uint8Array([5, 6])));
});

Deno.test("equal() compares Maps and Sets by their entries", () => {
  assert(equal(new Map([["a", 1], ["b", 2]]), new Map([["b", 2], ["a", 1]])));
  assertFalse(equal(new Map([["a", 1]]), new Map([["a", 2]])));
  assertFalse(equal(new Map([["a", 1]]), new Map([["b", 1]])));
  assert(equal(new Set([1, 2, 3]), new Set([3, 2, 1])));
  assertFalse(equal(new Set([1, 2]), new Set([1, 3])));
  assert(equal(new Set([{ a: 1 }]), new Set([{ a: 1 }])));
  assert(equal(new Map([[{ k: 1 }, "v"]]), new Map([[{ k: 1 }, "v"]])));
  assertFalse(equal(new Map([[{ k: 1 }, "v"]]), new Map([[{ k: 2 }, "v"]])));
  assertFalse(equal(new Set([1]), new Map([[1, 1]])));
});

Deno.test("equal() compares Dates by time and RegExps by source and flags", () => {
  assert(equal(new Date(1000), new Date(1000)));
  assertFalse(equal(new Date(1000), new Date(1001)));
  assert(equal(new Date("invalid"), new Date("invalid")));
  assert(equal(/a+/g, /a+/g));
  assertFalse(equal(/a+/g, /a+/i));
  assertFalse(equal(/a+/, /b+/));
  assert(equal(new URL("http://x/a"), new URL("http://x/a")));
  assertFalse(equal(new URL("http://x/a"), new URL("http://x/b")));
});

Deno.test("equal() compares class instances structurally only with the same constructor", () => {
  assert(equal(new Point(1, 2), new Point(1, 2)));
  assertFalse(equal(new Point(1, 2), new Point(1, 3)));
  assertFalse(equal(new Point(1, 2), new OtherPoint(1, 2)));
  assertFalse(equal(new Point(1, 2), { x: 1, y: 2 }));
});

Deno.test("equal() handles cyclic structures", () => {
  type Node = { name: string; self?: Node };
  const a: Node = { name: "n" };
  a.self = a;
  const b: Node = { name: "n" };
  b.self = b;
  assert(equal(a, b));
  const c: Node = { name: "m" };
  c.self = c;
  assertFalse(equal(a, c));
});

Deno.test("equal() throws TypeError for WeakMap and WeakSet", () => {
  assertThrows(() => equal(new WeakMap(), new WeakMap()), TypeError, "WeakMap");
  assertThrows(() => equal(new WeakSet(), new WeakSet()), TypeError, "WeakSet");
});

Deno.test("assertEquals() passes on deep equality and shows both values when it fails", () => {
  assertEquals({ a: new Uint8Array([1, 2]) }, { a: new Uint8Array([1, 2]) });
  assertEquals(NaN, NaN);
  const message = failureOf(() =>
    assertEquals({ port: 8080, host: "a" }, { port: 9090, host: "a" }, "ctx")
  );
  assertStringIncludes(message, "Values are not equal: ctx");
  assertStringIncludes(message, "8080");
  assertStringIncludes(message, "9090");
  assertStringIncludes(message, "[Diff]");
  assertStringIncludes(message, "Actual");
  assertStringIncludes(message, "Expected");
  const plain = failureOf(() => assertEquals(1, 2));
  assertStringIncludes(plain, "Values are not equal.");
  assertStringIncludes(plain, "-   1");
  assertStringIncludes(plain, "+   2");
});

Deno.test("assertEquals() diffs multi-line strings line by line when they differ", () => {
  const message = failureOf(() => assertEquals("one\ntwo\n", "one\nTWO\n"));
  assertStringIncludes(message, "two");
  assertStringIncludes(message, "TWO");
});

Deno.test("assertNotEquals() passes on different values and throws on equal ones", () => {
  assertNotEquals({ a: 1 }, { a: 2 });
  assertNotEquals(new Uint8Array([1]), new Uint8Array([2]));
  const message = failureOf(() => assertNotEquals([1], [1], "same"));
  assertStringIncludes(message, "not to be");
  assertStringIncludes(message, ": same");
});

Deno.test("assertStrictEquals() requires Object.is identity", () => {
  const object = { a: 1 };
  assertStrictEquals(object, object);
  assertStrictEquals(NaN, NaN);
  const structural = failureOf(() => assertStrictEquals({ a: 1 }, { a: 1 }));
  assertStringIncludes(
    structural,
    "Values have the same structure but are not reference-equal",
  );
  const different = failureOf(() => assertStrictEquals(1, 2, "numbers"));
  assertStringIncludes(different, "Values are not strictly equal: numbers");
  failureOf(() => assertStrictEquals(0, -0));
});

Deno.test("assertExists() rejects only null and undefined", () => {
  assertExists(0);
  assertExists("");
  assertExists(false);
  const message = failureOf(() => assertExists(null, "need it"));
  assertEquals(
    message,
    'Expected actual: "null" to not be null or undefined: need it',
  );
  failureOf(() => assertExists(undefined));
});

Deno.test("assertInstanceOf() checks the prototype chain and names both types", () => {
  assertInstanceOf(new TypeError("x"), Error);
  assertInstanceOf(new Point(0, 0), Point);
  const message = failureOf(() =>
    assertInstanceOf(new Point(0, 0), OtherPoint)
  );
  assertEquals(
    message,
    'Expected object to be an instance of "OtherPoint" but was "Point".',
  );
  const primitive = failureOf(() => assertInstanceOf(5, Point, "ctx"));
  assertEquals(
    primitive,
    'Expected object to be an instance of "Point" but was "number": ctx',
  );
});

Deno.test("assertMatch() and assertStringIncludes() check text", () => {
  assertMatch("port 8080", /\d{4}/);
  assertStringIncludes("hello world", "lo wo");
  assertEquals(
    failureOf(() => assertMatch("abc", /\d/)),
    'Expected actual: "abc" to match: "/\\d/".',
  );
  assertEquals(
    failureOf(() => assertStringIncludes("abc", "z", "where")),
    'Expected actual: "abc" to contain: "z": where',
  );
});

Deno.test("assertGreater() and friends compare with the operators", () => {
  assertGreater(2, 1);
  assertGreaterOrEqual(2, 2);
  assertLess(1, 2);
  assertLessOrEqual(2, 2);
  assertGreater("b", "a");
  assertEquals(failureOf(() => assertGreater(1, 1)), "Expect 1 > 1");
  assertEquals(failureOf(() => assertGreaterOrEqual(1, 2)), "Expect 1 >= 2");
  assertEquals(failureOf(() => assertLess(2, 2)), "Expect 2 < 2");
  assertEquals(failureOf(() => assertLessOrEqual(3, 2)), "Expect 3 <= 2");
  assertEquals(failureOf(() => assertLess(5, 1, "custom")), "custom");
});

Deno.test("assertArrayIncludes() finds primitives and deeply equal objects", () => {
  assertArrayIncludes([1, 2, 3], [3, 1]);
  assertArrayIncludes([{ a: 1 }, { b: 2 }], [{ b: 2 }]);
  assertArrayIncludes(new Uint8Array([5, 6, 7]), [6]);
  const message = failureOf(() => assertArrayIncludes([1, 2], [2, 9], "ctx"));
  assertStringIncludes(message, ": ctx");
  assertStringIncludes(message, "missing: [\n  9,\n]");
});

Deno.test("assertObjectMatch() ignores extra keys and fails on a mismatch", () => {
  const actual = {
    id: 7,
    peer: { host: "127.0.0.1", port: 4000, family: "v4" },
    tags: ["a", "b", "c"],
    extra: true,
  };
  assertObjectMatch(actual, { id: 7, peer: { port: 4000 } });
  assertObjectMatch(actual, { tags: ["a", "b"] });
  const message = failureOf(() =>
    assertObjectMatch(actual, { peer: { port: 5000 } }, "peer")
  );
  assertStringIncludes(message, "Values are not equal: peer");
  assertStringIncludes(message, "5000");
  failureOf(() => assertObjectMatch(actual, { missing: 1 }));
  failureOf(() => assertObjectMatch(actual, { tags: ["a", "b", "c", "d"] }));
});

Deno.test("assertIsError() checks class and message", () => {
  assertIsError(new RangeError("too long: 10"), RangeError, "too long");
  assertIsError(new RangeError("too long: 10"), Error, /long: \d+/);
  assertEquals(
    failureOf(() => assertIsError("text")),
    'Expected "error" to be an Error object.',
  );
  assertEquals(
    failureOf(() => assertIsError(new Error("x"), TypeError)),
    'Expected error to be instance of "TypeError", but was "Error".',
  );
  assertEquals(
    failureOf(() => assertIsError(new Error("abc"), Error, "xyz", "ctx")),
    'Expected error message to include "xyz", but got "abc": ctx',
  );
});

Deno.test("assertThrows() returns what the function threw", () => {
  const thrown = assertThrows(() => {
    throw "not an error";
  });
  assertEquals(thrown, "not an error");
  const error = assertThrows(
    () => {
      throw new RangeError("Frame too large: 9000");
    },
    RangeError,
    "too large",
  );
  assertInstanceOf(error, RangeError);
  assertEquals(error.message, "Frame too large: 9000");
});

Deno.test("assertThrows() throws AssertionError when the function does not throw", () => {
  assertEquals(
    failureOf(() => assertThrows(() => {})),
    "Expected function to throw.",
  );
  assertEquals(
    failureOf(() => assertThrows(() => {}, "it should")),
    "Expected function to throw: it should",
  );
  assertEquals(
    failureOf(() => assertThrows(() => {}, TypeError, "x", "ctx")),
    "Expected function to throw: ctx",
  );
});

Deno.test("assertThrows() fails on the wrong class, message or a non-Error", () => {
  failureOf(() =>
    assertThrows(() => {
      throw new Error("x");
    }, TypeError)
  );
  failureOf(() =>
    assertThrows(
      () => {
        throw new TypeError("abc");
      },
      TypeError,
      "xyz",
    )
  );
  assertEquals(
    failureOf(() =>
      assertThrows(() => {
        throw 42;
      }, Error)
    ),
    "A non-Error object was thrown.",
  );
});

Deno.test("assertRejects() resolves to the rejection reason", async () => {
  const error = await assertRejects(
    () => Promise.reject(new TypeError("bad shape")),
    TypeError,
    "shape",
  );
  assertEquals(error.message, "bad shape");
  const reason = await assertRejects(() => Promise.reject(7));
  assertEquals(reason, 7);
});

Deno.test("assertRejects() throws AssertionError when the promise fulfils or rejects wrongly", async () => {
  const fulfilled = await assertRejects(
    () => assertRejects(() => Promise.resolve(1)),
    AssertionError,
  );
  assertEquals(fulfilled.message, "Expected function to reject.");
  const synchronous = await assertRejects(
    () =>
      assertRejects(() => {
        throw new Error("sync");
      }, "ctx"),
    AssertionError,
  );
  assertEquals(
    synchronous.message,
    "Function throws when expected to reject: ctx",
  );
  await assertRejects(
    () => assertRejects(() => Promise.reject(new Error("x")), TypeError),
    AssertionError,
    'instance of "TypeError"',
  );
  await assertRejects(
    () => assertRejects(() => Promise.reject("text"), Error),
    AssertionError,
    "A non-Error object was rejected",
  );
});

Deno.test("fail() and unreachable() always throw AssertionError", () => {
  assertEquals(failureOf(() => fail()), "Failed assertion.");
  assertEquals(failureOf(() => fail("why")), "Failed assertion: why");
  assertEquals(failureOf(() => unreachable()), "Unreachable.");
  assertEquals(failureOf(() => unreachable("here")), "Unreachable: here");
});
