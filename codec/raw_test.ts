// Copyright 2026 the netkit authors. MIT license.

import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { b, EMPTY } from "./_test_helpers.ts";
import { decodeAll, raw } from "../codec.ts";

Deno.test("`raw()` emits each non-empty chunk as a copy", () => {
  const chunk = b("abc");
  const frames = decodeAll(raw(), [chunk, EMPTY, b("d")]);
  assertEquals(frames, [b("abc"), b("d")]);
  chunk.fill(0xee);
  assertEquals(frames[0], b("abc"));
  const message = b("xyz");
  const wire = raw().encoder().encode(message);
  message.fill(0);
  assertEquals(wire, b("xyz"));
  assert(raw().unframed);
  assertStrictEquals(raw(), raw());
});
