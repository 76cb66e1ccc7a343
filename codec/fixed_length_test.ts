// Copyright 2026 the netkit authors. MIT license.

import { assertEquals, assertThrows } from "@std/assert";
import { b } from "./_test_helpers.ts";
import { fixedLength } from "../codec.ts";

Deno.test("`fixedLength()` refuses to encode a message of another length", () => {
  assertThrows(() => fixedLength(3).encoder().encode(b("ab")), RangeError);
  assertThrows(() => fixedLength(3).encoder().encode(b("abcd")), RangeError);
  assertEquals(fixedLength(3).encoder().encode(b("abc")), b("abc"));
});
