// Offline stand-in for @std/assert 1.0.19.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.

/**
 * Assertions for tests: the subset of `@std/assert` that netkit uses.
 *
 * @module
 */

export * from "./assert.ts";
export * from "./assertion_error.ts";
export * from "./equal.ts";
