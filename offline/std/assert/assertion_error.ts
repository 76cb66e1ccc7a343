// Offline stand-in for part of @std/assert 1.0.19.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.

/**
 * Error thrown by every assertion in this module when its check fails.
 */
export class AssertionError extends Error {
  /**
   * Constructs a new instance.
   *
   * @param message The error message.
   * @param options Standard error options, such as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AssertionError";
  }
}
