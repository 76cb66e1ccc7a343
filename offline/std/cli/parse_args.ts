// Offline stand-in for part of @std/cli 1.0.32.
//
// JSR cannot be reached from the build machines, so this module is a stand-in
// that implements exactly the @std functions netkit's tests, examples and
// benchmarks use, with the same signatures and observable behaviour. It is an
// independent implementation (no std source is copied) and is used only
// through offline/import_map.json; the library itself imports no @std.
//
// The result types follow std for flat option names (`string`, `boolean`,
// `collect`, `negatable`, `default`, `alias`); dotted names parse the same
// way at run time but are typed loosely (`unknown`).

type BooleanType = boolean | string | undefined;
type StringType = string | undefined;
type Collectable = string | undefined;
type Negatable = string | undefined;
type Aliases<TArgNames = string, TAliasNames extends string = string> = Partial<
  Record<Extract<TArgNames, string>, TAliasNames | ReadonlyArray<TAliasNames>>
>;

/** Flattens an intersection into one object type, recursively. */
type Flatten<T> = T extends Record<string, unknown>
  ? { [K in keyof T]: Flatten<T[K]> }
  : T;

/**
 * Flat names given to an option; `true`/`undefined` give none, and dotted
 * names are left to the `Record<string, unknown>` part of the result.
 */
type NamesOf<T> = Exclude<Extract<T, string>, `${string}.${string}`>;

/** The type of a flag that may also be negated to `false`. */
type MaybeNegated<K, TNegatable, TType> = K extends TNegatable ? TType | false
  : TType;

type StringValues<TStrings, TCollectable, TNegatable> =
  & {
    [K in Exclude<NamesOf<TStrings>, TCollectable>]?: MaybeNegated<
      K,
      TNegatable,
      string
    >;
  }
  & {
    [K in Extract<NamesOf<TStrings>, TCollectable>]: MaybeNegated<
      K,
      TNegatable,
      string[]
    >;
  };

type BooleanValues<TBooleans, TCollectable> =
  & { [K in Exclude<NamesOf<TBooleans>, TCollectable>]: boolean }
  & { [K in Extract<NamesOf<TBooleans>, TCollectable>]: boolean[] };

type CollectOnlyValues<TBooleans, TStrings, TCollectable, TNegatable> = {
  [
    K in Exclude<
      NamesOf<TCollectable>,
      NamesOf<TStrings> | NamesOf<TBooleans>
    >
  ]: MaybeNegated<K, TNegatable, unknown[]>;
};

/** Defaults replace `undefined`; a default for an undeclared flag is `unknown`. */
type WithDefaults<TValues, TDefaults> = TDefaults extends
  Record<string, unknown> ?
    & Omit<TValues, keyof TDefaults>
    & {
      [K in Exclude<keyof TDefaults, `${string}.${string}`>]: K extends
        keyof TValues ? TDefaults[K] | NonNullable<TValues[K]>
        : unknown;
    }
  : TValues;

type AliasNames<K, TAliases> = K extends keyof TAliases
  ? string extends TAliases[K] ? K
  : TAliases[K] extends string ? K | TAliases[K]
  : TAliases[K] extends Array<string> ? K | TAliases[K][number]
  : K
  : K;

type WithAliases<TValues, TAliases> = {
  [K in keyof TValues as AliasNames<K, TAliases>]: TValues[K];
};

/**
 * As in std, results are typed precisely unless `boolean`, `string` and
 * `collect` may all be absent (or `boolean` may be `false`).
 */
type Declared<TBooleans, TStrings, TCollectable> = undefined extends (
  & (false extends TBooleans ? undefined : TBooleans)
  & TCollectable
  & TStrings
) ? false
  : true;

type Values<
  TBooleans extends BooleanType,
  TStrings extends StringType,
  TCollectable extends Collectable,
  TNegatable extends Negatable,
  TDefaults extends Record<string, unknown> | undefined,
  TAliases extends Aliases | undefined,
> = Declared<TBooleans, TStrings, TCollectable> extends true ?
    & Record<string, unknown>
    & WithAliases<
      WithDefaults<
        & StringValues<TStrings, TCollectable, TNegatable>
        & BooleanValues<TBooleans, TCollectable>
        & CollectOnlyValues<TBooleans, TStrings, TCollectable, TNegatable>,
        TDefaults
      >,
      TAliases
    >
  // deno-lint-ignore no-explicit-any -- as in std: undeclared flags are untyped
  : Record<string, any>;

type DoubleDash = {
  /** Arguments after `--`, when the `"--"` option is set. */
  "--"?: Array<string>;
};

/**
 * The result of {@linkcode parseArgs}: the parsed flags, plus `_` for the
 * positional arguments and, with the `"--"` option, `--` for the arguments
 * after a `--`.
 */
export type Args<
  // deno-lint-ignore no-explicit-any -- same default as std
  TArgs extends Record<string, unknown> = Record<string, any>,
  TDoubleDash extends boolean | undefined = undefined,
> = Flatten<
  & TArgs
  & {
    /** Positional arguments; numeric ones are numbers. */
    _: Array<string | number>;
  }
  & (boolean extends TDoubleDash ? DoubleDash
    : true extends TDoubleDash ? Required<DoubleDash>
    : Record<never, never>)
>;

/** Options of {@linkcode parseArgs}. */
export interface ParseOptions<
  TBooleans extends BooleanType = BooleanType,
  TStrings extends StringType = StringType,
  TCollectable extends Collectable = Collectable,
  TNegatable extends Negatable = Negatable,
  TDefault extends Record<string, unknown> | undefined =
    | Record<string, unknown>
    | undefined,
  TAliases extends Aliases | undefined = Aliases | undefined,
  TDoubleDash extends boolean | undefined = boolean | undefined,
> {
  /**
   * Put the arguments after `--` in `--` instead of in `_`.
   *
   * @default {false}
   */
  "--"?: TDoubleDash;
  /**
   * Other names for a flag, e.g. `{ h: "help" }`; setting either sets both.
   *
   * @default {{}}
   */
  alias?: TAliases;
  /**
   * Flags that are booleans, or `true` to treat every `--name` flag without
   * `=value` as a boolean.
   *
   * @default {false}
   */
  boolean?: TBooleans | ReadonlyArray<Extract<TBooleans, string>>;
  /**
   * Values for flags that are not given.
   *
   * @default {{}}
   */
  default?: TDefault;
  /**
   * Stop parsing at the first positional argument; the rest go to `_` as is.
   *
   * @default {false}
   */
  stopEarly?: boolean;
  /**
   * Flags whose values stay strings (never converted to numbers).
   *
   * @default {[]}
   */
  string?: TStrings | ReadonlyArray<Extract<TStrings, string>>;
  /**
   * Flags that may repeat; their values are collected into an array.
   *
   * @default {[]}
   */
  collect?: TCollectable | ReadonlyArray<Extract<TCollectable, string>>;
  /**
   * Flags that `--no-name` sets to `false`.
   *
   * @default {[]}
   */
  negatable?: TNegatable | ReadonlyArray<Extract<TNegatable, string>>;
  /**
   * Called for each undeclared flag (with its key and value) and each
   * positional argument; returning `false` drops it.
   *
   * @default {(arg) => arg}
   */
  unknown?: (arg: string, key?: string, value?: unknown) => unknown;
}

type Nested = { [key: string]: unknown };
type Scalar = string | number | boolean;

/** `-x`, `--name`, `--no-name`, each optionally followed by `=value`. */
const FLAG_PATTERN =
  /^-(?<long>-(?<negated>no-)?)?(?<key>.+?)(?:=(?<value>.*))?$/s;
const LONG_NAME_ONLY = /^--[^=]+$/;
/** A following argument that is itself a flag (`-x`, `--x`, not `-`, `---`). */
const LOOKS_LIKE_FLAG = /^--?[^-]/;
/** Inside a short group: `=value` after a letter. */
const EQUALS_VALUE = /=(?<value>.+)/;
/** Inside a short group: a number that runs to the end, as in `-n5`. */
const TRAILING_NUMBER = /-?\d+(\.\d*)?(e-?\d+)?$/;
const ASCII_LETTER = /[A-Za-z]/;
const NON_WORD = /\W/;
const HAS_NON_SPACE = /\S/;

function isNumeric(text: string): boolean {
  return HAS_NON_SPACE.test(text) && Number.isFinite(Number(text));
}

function isUnsafeKey(target: Nested, key: string): boolean {
  return key === "__proto__" ||
    (key === "constructor" && typeof target[key] === "function");
}

function listOf(value: string | ReadonlyArray<string>): readonly string[] {
  return typeof value === "string" ? [value] : value;
}

/** Assigns `value` at the dotted `path`, appending when `collect` is set. */
function assignPath(
  root: Nested,
  path: readonly string[],
  value: unknown,
  collect = false,
): void {
  let target = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (isUnsafeKey(target, key)) return;
    target[key] ??= {};
    target = target[key] as Nested;
  }
  const last = path[path.length - 1]!;
  if (isUnsafeKey(target, last)) return;
  if (collect) {
    const current = target[last];
    if (Array.isArray(current)) {
      current.push(value);
      return;
    }
    target[last] = current ? [current, value] : [value];
    return;
  }
  target[last] = value;
}

function hasPath(root: Nested, path: readonly string[]): boolean {
  let target: unknown = root;
  for (const key of path) {
    if (!Object.hasOwn(target as object, key)) return false;
    target = (target as Nested)[key];
  }
  return true;
}

/** Parsing state for one {@linkcode parseArgs} call. */
class ArgParser {
  readonly result: Nested & { _: Array<string | number>; "--"?: string[] } = {
    _: [],
  };
  #aliases = new Map<string, Set<string>>();
  #booleans = new Set<string>();
  #strings = new Set<string>();
  #collects = new Set<string>();
  #negatables = new Set<string>();
  #allBooleans = false;
  #defaults: Record<string, unknown>;
  #unknown: (arg: string, key?: string, value?: unknown) => unknown;

  constructor(options: ParseOptions) {
    this.#defaults = options.default ?? {};
    this.#unknown = options.unknown ?? ((arg: string): unknown => arg);
    for (const [name, value] of Object.entries(options.alias ?? {})) {
      if (value === undefined) {
        throw new TypeError("Alias value must be defined");
      }
      const names = listOf(value);
      this.#aliases.set(name, new Set(names));
      for (const alias of names) {
        this.#aliases.set(
          alias,
          new Set([name, ...names.filter((other) => other !== alias)]),
        );
      }
    }
    const booleans = options.boolean ?? false;
    if (typeof booleans === "boolean") {
      this.#allBooleans = booleans;
    } else {
      this.#declare(this.#booleans, booleans);
    }
    this.#declare(this.#strings, options.string ?? []);
    this.#declare(this.#collects, options.collect ?? []);
    this.#declare(this.#negatables, options.negatable ?? []);
  }

  #declare(set: Set<string>, names: string | ReadonlyArray<string>): void {
    for (const name of listOf(names)) {
      if (!name) continue;
      set.add(name);
      for (const alias of this.#aliases.get(name) ?? []) set.add(alias);
    }
  }

  /** Whether `key` or one of its aliases is a declared boolean. */
  #isBooleanish(key: string): boolean {
    if (this.#booleans.has(key)) return true;
    for (const alias of this.#aliases.get(key) ?? []) {
      if (this.#booleans.has(alias)) return true;
    }
    return false;
  }

  #emptyValue(key: string): string | true {
    return this.#strings.has(key) ? "" : true;
  }

  /** Records a flag (and its aliases) unless `unknown` rejects it. */
  #set(key: string, value: Scalar, arg: string, collect = true): void {
    const declared = this.#booleans.has(key) || this.#strings.has(key) ||
      this.#aliases.has(key) || this.#collects.has(key) ||
      (this.#allBooleans && LONG_NAME_ONLY.test(arg));
    if (!declared && this.#unknown(arg, key, value) === false) return;
    if (
      typeof value === "string" && !this.#strings.has(key) && isNumeric(value)
    ) {
      value = Number(value);
    }
    const append = collect && this.#collects.has(key);
    assignPath(this.result, key.split("."), value, append);
    for (const alias of this.#aliases.get(key) ?? []) {
      assignPath(this.result, alias.split("."), value, append);
    }
  }

  /** Handles `--key`, `--key=value`, `--no-key`; returns arguments used. */
  #long(
    arg: string,
    key: string,
    value: string | undefined,
    negated: boolean,
    next: string | undefined,
  ): number {
    if (value !== undefined) {
      this.#set(key, this.#booleans.has(key) ? value !== "false" : value, arg);
      return 1;
    }
    if (negated) {
      if (this.#negatables.has(key)) {
        this.#set(key, false, arg, false);
        return 1;
      }
      key = `no-${key}`;
    }
    if (next) {
      if (
        !this.#allBooleans && !next.startsWith("-") &&
        !this.#isBooleanish(key)
      ) {
        this.#set(key, next, arg);
        return 2;
      }
      if (next === "true" || next === "false") {
        this.#set(key, next === "true", arg);
        return 2;
      }
    }
    this.#set(key, this.#emptyValue(key), arg);
    return 1;
  }

  /** Handles a `-abc` group; returns arguments used. */
  #short(arg: string, next: string | undefined): number {
    const body = arg.slice(1);
    for (let j = 0; j < body.length - 1; j++) {
      const letter = body[j]!;
      const rest = body.slice(j + 1);
      if (rest === "-") {
        this.#set(letter, rest, arg);
        continue;
      }
      if (rest === "=") {
        this.#set(letter, "", arg);
        return 1;
      }
      if (ASCII_LETTER.test(letter)) {
        const assigned = EQUALS_VALUE.exec(rest)?.groups?.value;
        if (assigned !== undefined) {
          this.#set(letter, assigned, arg);
          return 1;
        }
        if (TRAILING_NUMBER.test(rest)) {
          this.#set(letter, rest, arg);
          return 1;
        }
      }
      if (j + 1 < body.length - 1 && NON_WORD.test(body[j + 1]!)) {
        this.#set(letter, rest, arg);
        return 1;
      }
      this.#set(letter, this.#emptyValue(letter), arg);
    }

    const key = body.slice(-1);
    if (key === "-") return 1;
    if (next) {
      if (!LOOKS_LIKE_FLAG.test(next) && !this.#isBooleanish(key)) {
        this.#set(key, next, arg);
        return 2;
      }
      if (next === "true" || next === "false") {
        this.#set(key, next === "true", arg);
        return 2;
      }
    }
    this.#set(key, this.#emptyValue(key), arg);
    return 1;
  }

  parse(
    args: readonly string[],
    stopEarly: boolean,
    doubleDash: boolean,
  ): void {
    const separator = args.indexOf("--");
    const afterSeparator = separator === -1 ? [] : args.slice(separator + 1);
    const flags = separator === -1 ? args : args.slice(0, separator);

    for (let i = 0; i < flags.length;) {
      const arg = flags[i]!;
      const groups = FLAG_PATTERN.exec(arg)?.groups;
      if (groups !== undefined) {
        i += groups.long !== undefined
          ? this.#long(
            arg,
            groups.key!,
            groups.value,
            groups.negated !== undefined,
            flags[i + 1],
          )
          : this.#short(arg, flags[i + 1]);
        continue;
      }
      if (this.#unknown(arg) !== false) {
        this.result._.push(
          this.#strings.has("_") || !isNumeric(arg) ? arg : Number(arg),
        );
      }
      i++;
      if (stopEarly) {
        this.result._.push(...flags.slice(i));
        break;
      }
    }

    this.#fillDefaults(afterSeparator, doubleDash);
  }

  #fillDefaults(afterSeparator: string[], doubleDash: boolean): void {
    for (const [key, value] of Object.entries(this.#defaults)) {
      const path = key.split(".");
      if (hasPath(this.result, path)) continue;
      assignPath(this.result, path, value);
      for (const alias of this.#aliases.get(key) ?? []) {
        assignPath(this.result, alias.split("."), value);
      }
    }
    for (const key of this.#booleans) {
      const path = key.split(".");
      if (!hasPath(this.result, path)) {
        assignPath(this.result, path, this.#collects.has(key) ? [] : false);
      }
    }
    for (const key of this.#strings) {
      const path = key.split(".");
      if (this.#collects.has(key) && !hasPath(this.result, path)) {
        assignPath(this.result, path, []);
      }
    }
    if (doubleDash) {
      this.result["--"] = afterSeparator;
    } else {
      this.result._.push(...afterSeparator);
    }
  }
}

/**
 * Parses command-line arguments (for example `Deno.args`) into flags and
 * positional arguments.
 *
 * - `--name value`, `--name=value`, `-n value`, `-nvalue` and `-n=value` set
 *   a flag; numeric values become numbers unless the flag is in `string`.
 * - A flag without a value is `true` (or `""` for a `string` flag); a
 *   following `true`/`false` argument is taken as its value.
 * - `-abc` sets `a`, `b` and `c`; `--no-name` sets `name` to `false` when it
 *   is `negatable`, otherwise it sets the flag `no-name`.
 * - Positional arguments go to `_`, numeric ones as numbers; everything
 *   after `--` goes to `_` (or to `--` with the `"--"` option) unparsed.
 * - Undeclared `boolean` flags default to `false`, `collect` flags to `[]`.
 *
 * @param args The arguments to parse.
 * @param options Which flags are booleans, strings, collected, negatable,
 * their defaults and aliases.
 * @returns The parsed arguments.
 * @throws {TypeError} If an alias maps to `undefined`.
 */
export function parseArgs<
  TArgs extends Values<
    TBooleans,
    TStrings,
    TCollectable,
    TNegatable,
    TDefaults,
    TAliases
  >,
  TDoubleDash extends boolean | undefined = undefined,
  TBooleans extends BooleanType = undefined,
  TStrings extends StringType = undefined,
  TCollectable extends Collectable = undefined,
  TNegatable extends Negatable = undefined,
  TDefaults extends Record<string, unknown> | undefined = undefined,
  TAliases extends Aliases<TAliasArgNames, TAliasNames> | undefined = undefined,
  TAliasArgNames extends string = string,
  TAliasNames extends string = string,
>(
  args: readonly string[],
  options?: ParseOptions<
    TBooleans,
    TStrings,
    TCollectable,
    TNegatable,
    TDefaults,
    TAliases,
    TDoubleDash
  >,
): Args<TArgs, TDoubleDash> {
  const loose = (options ?? {}) as ParseOptions;
  const parser = new ArgParser(loose);
  parser.parse(args, loose.stopEarly ?? false, loose["--"] ?? false);
  return parser.result as unknown as Args<TArgs, TDoubleDash>;
}
