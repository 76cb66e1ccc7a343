// Copyright 2026 the netkit authors. MIT license.
// Private: the read-only live view that Server.connections returns over
// the server's records (server.ts). A leaf: it imports nothing.

/**
 * A live, read-only set of the connections held in a map of records: a
 * record is in the set while its `connection` is not `null`, and the map
 * is keyed by that connection from then on, so `has()` is one lookup.
 * Nothing is copied: the set changes as the map does. The owner keeps the
 * count, so `size` needs no walk.
 */
export class LiveSet<T> implements ReadonlySet<T> {
  readonly #records: ReadonlyMap<unknown, { readonly connection: T | null }>;
  readonly #size: () => number;

  constructor(
    records: ReadonlyMap<unknown, { readonly connection: T | null }>,
    size: () => number,
  ) {
    this.#records = records;
    this.#size = size;
  }

  get size(): number {
    return this.#size();
  }

  has(value: T): boolean {
    return this.#records.get(value)?.connection === value;
  }

  *values(): SetIterator<T> {
    for (const record of this.#records.values()) {
      if (record.connection !== null) yield record.connection;
    }
  }

  keys(): SetIterator<T> {
    return this.values();
  }

  *entries(): SetIterator<[T, T]> {
    for (const connection of this.values()) yield [connection, connection];
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.values();
  }

  forEach(
    callback: (
      value: T,
      key: T,
      set: ReadonlySet<T>,
    ) => void,
    thisArg?: unknown,
  ): void {
    for (const c of this.values()) callback.call(thisArg, c, c, this);
  }

  union<U>(other: ReadonlySetLike<U>): Set<T | U> {
    return new Set(this.values()).union(other);
  }

  intersection<U>(other: ReadonlySetLike<U>): Set<T & U> {
    return new Set(this.values()).intersection(other);
  }

  difference<U>(other: ReadonlySetLike<U>): Set<T> {
    return new Set(this.values()).difference(other);
  }

  symmetricDifference<U>(
    other: ReadonlySetLike<U>,
  ): Set<T | U> {
    return new Set(this.values()).symmetricDifference(other);
  }

  isSubsetOf(other: ReadonlySetLike<unknown>): boolean {
    return new Set(this.values()).isSubsetOf(other);
  }

  isSupersetOf(other: ReadonlySetLike<unknown>): boolean {
    return new Set(this.values()).isSupersetOf(other);
  }

  isDisjointFrom(other: ReadonlySetLike<unknown>): boolean {
    return new Set(this.values()).isDisjointFrom(other);
  }
}
