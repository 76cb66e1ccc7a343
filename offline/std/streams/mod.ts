// Offline stand-in for @std/streams 1.1.2.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.

/**
 * Web stream helpers: the subset of `@std/streams` that netkit uses.
 *
 * @module
 */

export * from "./text_line_stream.ts";
export * from "./to_bytes.ts";
export * from "./to_text.ts";
