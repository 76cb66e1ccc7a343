// Tests for the parseArgs stand-in. They import the bare specifiers, so the
// same file runs against the stand-in (offline/import_map.json) and against
// the real @std/cli.

import { assertEquals, assertThrows } from "@std/assert";
import { type Args, parseArgs, type ParseOptions } from "@std/cli";

/** `true` only when `A` and `B` are the same type. */
type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends
  (<T>() => T extends B ? 1 : 2) ? true : false;

Deno.test("parseArgs() types string, boolean and defaulted flags precisely", () => {
  const args = parseArgs(["--help"], {
    string: ["mode"],
    boolean: ["help"],
    default: { mode: "demo" },
  });
  const modeIsString: Exact<typeof args.mode, string> = true;
  const helpIsBoolean: Exact<typeof args.help, boolean> = true;
  const positional: Exact<typeof args._, Array<string | number>> = true;
  const mode: string = args.mode;
  const help: boolean = args.help;
  assertEquals([modeIsString, helpIsBoolean, positional], [true, true, true]);
  assertEquals(mode, "demo");
  assertEquals(help, true);
  assertEquals(args, { _: [], mode: "demo", help: true });
});

Deno.test("parseArgs() types an undefaulted string flag as optional", () => {
  const args = parseArgs([], { string: ["host"], boolean: ["verbose"] });
  const host: Exact<typeof args.host, string | undefined> = true;
  const verbose: Exact<typeof args.verbose, boolean> = true;
  assertEquals([host, verbose], [true, true]);
  assertEquals(args, { _: [], verbose: false });
});

Deno.test("parseArgs() accepts a ParseOptions value and returns Args", () => {
  const options: ParseOptions = { boolean: ["x"], string: ["y"] };
  const args: Args = parseArgs(["-x", "--y", "5"], options);
  assertEquals(args, { _: [], x: true, y: "5" });
});

Deno.test("parseArgs() puts positionals in _ and parses numeric ones as numbers", () => {
  const args = parseArgs(["serve", "8080", "1.5", " ", "0x10", "1e3", "-"]);
  assertEquals(args._, ["serve", 8080, 1.5, " ", 16, 1000, "-"]);
});

Deno.test("parseArgs() keeps positionals as strings when _ is a string option", () => {
  const args = parseArgs(["8080"], { string: ["_"] });
  assertEquals<unknown>(args._, ["8080"]);
});

Deno.test("parseArgs() reads --key=value, --key value and numeric values", () => {
  const args = parseArgs(["--port=8080", "--host", "example.com", "--n", "-1"]);
  assertEquals(args, {
    _: [],
    port: 8080,
    host: "example.com",
    n: true,
    "1": true,
  });
});

Deno.test("parseArgs() never converts string flags to numbers", () => {
  const args = parseArgs(["--port", "0080", "--name="], {
    string: ["port", "name"],
  });
  assertEquals(args, { _: [], port: "0080", name: "" });
});

Deno.test("parseArgs() does not take the next argument as a boolean flag's value", () => {
  const args = parseArgs(["--verbose", "file.txt", "--debug", "false"], {
    boolean: ["verbose", "debug"],
  });
  assertEquals(args, { _: ["file.txt"], verbose: true, debug: false });
});

Deno.test("parseArgs() treats a string flag without a value as empty", () => {
  const args = parseArgs(["--mode"], { string: ["mode"] });
  assertEquals(args, { _: [], mode: "" });
});

Deno.test("parseArgs() splits short flag groups and attached values", () => {
  assertEquals(parseArgs(["-abc"]), { _: [], a: true, b: true, c: true });
  assertEquals(parseArgs(["-n5"]), { _: [], n: 5 });
  assertEquals(parseArgs(["-xvf", "archive.tar"]), {
    _: [],
    x: true,
    v: true,
    f: "archive.tar",
  });
  assertEquals(parseArgs(["-h=localhost"]), { _: [], h: "localhost" });
  assertEquals(parseArgs(["-ab", "--c"], { boolean: ["b"] }), {
    _: [],
    a: true,
    b: true,
    c: true,
  });
});

Deno.test("parseArgs() sets negatable flags to false with --no-", () => {
  const args = parseArgs(["--no-color", "--no-other"], {
    boolean: ["color"],
    negatable: ["color"],
  });
  assertEquals(args, { _: [], color: false, "no-other": true });
});

Deno.test("parseArgs() keeps flags after -- in _, or in -- with the option", () => {
  const plain = parseArgs(["--a", "1", "--", "--b", "2"]);
  assertEquals(plain, { _: ["--b", "2"], a: 1 });
  const separated = parseArgs(["x", "--", "--b", "2"], { "--": true });
  const dashes: Exact<typeof separated["--"], string[]> = true;
  assertEquals(dashes, true);
  assertEquals(separated, { _: ["x"], "--": ["--b", "2"] });
});

Deno.test("parseArgs() stops at the first positional with stopEarly", () => {
  const args = parseArgs(["--a", "run", "--b", "3"], {
    boolean: ["a"],
    stopEarly: true,
  });
  assertEquals(args, { _: ["run", "--b", "3"], a: true });
});

Deno.test("parseArgs() sets every alias of a flag", () => {
  const args = parseArgs(["-p", "80", "-v"], {
    alias: { port: "p", verbose: ["v", "V"] },
    boolean: ["verbose"],
  });
  assertEquals(args, {
    _: [],
    p: 80,
    port: 80,
    v: true,
    V: true,
    verbose: true,
  });
});

Deno.test("parseArgs() applies defaults to flags that were not given", () => {
  const args = parseArgs(["--port", "9000"], {
    default: { port: 8080, host: "localhost" },
    alias: { host: "h" },
  });
  assertEquals(args, { _: [], port: 9000, host: "localhost", h: "localhost" });
});

Deno.test("parseArgs() collects repeated flags into arrays", () => {
  const args = parseArgs(["--tag", "a", "--tag", "b", "-v", "-v"], {
    string: ["tag", "empty"],
    boolean: ["v"],
    collect: ["tag", "v", "empty"],
  });
  const tags: Exact<typeof args.tag, string[]> = true;
  assertEquals(tags, true);
  assertEquals(args, { _: [], tag: ["a", "b"], v: [true, true], empty: [] });
});

Deno.test("parseArgs() drops what unknown() rejects", () => {
  const seen: Array<[string, string | undefined, unknown]> = [];
  const args = parseArgs(["--known", "--other=1", "pos"], {
    boolean: ["known"],
    unknown: (arg, key, value) => {
      seen.push([arg, key, value]);
      return false;
    },
  });
  assertEquals(args, { _: [], known: true });
  assertEquals(seen, [["--other=1", "other", "1"], [
    "pos",
    undefined,
    undefined,
  ]]);
});

Deno.test("parseArgs() treats every long flag as boolean with boolean: true", () => {
  const args = parseArgs(["--a", "x", "--b=1"], { boolean: true });
  assertEquals(args, { _: ["x"], a: true, b: 1 });
});

Deno.test("parseArgs() nests dotted keys", () => {
  const args = parseArgs(["--net.port", "80", "--net.host=h"]);
  assertEquals(args, { _: [], net: { port: 80, host: "h" } });
});

Deno.test("parseArgs() throws TypeError when an alias is undefined", () => {
  assertThrows(
    () =>
      parseArgs([], {
        alias: { a: undefined } as unknown as Record<string, string>,
      }),
    TypeError,
    "Alias value must be defined",
  );
});
