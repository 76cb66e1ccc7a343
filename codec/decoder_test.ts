// Copyright 2026 the netkit authors. MIT license.

import { assert, assertEquals } from "@std/assert";
import { type ByteBuffer, createCodec, type DecodeInput } from "../codec.ts";

Deno.test("`createCodec()` builds a frozen codec with working streams", async () => {
  const bytesCodec = createCodec<number, number>({
    name: "bytes",
    decoder: () => ({
      decode(input: DecodeInput) {
        if (input.length === 0) return input.needMore(1);
        const x = input.at(0)!;
        input.skip(1);
        return x;
      },
    }),
    encoder: () => ({
      encodeInto(n: number, out: ByteBuffer) {
        out.append(new Uint8Array([n]));
      },
      encode(n: number) {
        return new Uint8Array([n]);
      },
    }),
  });
  assert(Object.isFrozen(bytesCodec));
  assertEquals(bytesCodec.unframed, false);
  const out = ReadableStream.from([1, 2, 3])
    .pipeThrough(bytesCodec.encodeStream())
    .pipeThrough(bytesCodec.decodeStream());
  assertEquals(await Array.fromAsync(out), [1, 2, 3]);
});
