// Offline stand-in for @std/cli 1.0.32.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.

/**
 * Command-line helpers: the subset of `@std/cli` that netkit uses.
 *
 * @module
 */

export * from "./parse_args.ts";
