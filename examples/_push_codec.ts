// Copyright 2026 the netkit authors. MIT license.

/**
 * TEMPORARY GLUE, to delete with its call sites (`pushCodec(` in
 * `redis.ts` and `redis_client.ts`) once connections read through a
 * `ReadBuffer` and take the codecs of `codec/decoder.ts` as they are.
 *
 * Today's connections push each chunk they read into their decoder; this
 * runs a codec written on the pull contract behind a `StreamDecoder`, the
 * push face of the same contract. What it cannot give: a decode error still
 * ends the connection before the handler can answer it.
 *
 * @module
 */

import { type Codec as PushCodec, createCodec } from "../mod.ts";
import { type Codec, StreamDecoder } from "../codec/decoder.ts";

/**
 * A pull-contract codec as today's connections take one.
 *
 * @param codec The codec.
 * @returns The same codec, pushed into.
 */
export function pushCodec<In, Out>(
  codec: Codec<In, Out>,
): PushCodec<In, Out> {
  return createCodec<In, Out>({
    name: codec.name,
    decoder: () => new StreamDecoder(codec),
    encoder: () => {
      const encoder = codec.encoder();
      return {
        encodeInto: (message, out) => out.append(encoder.encode(message)),
        encode: (message) => encoder.encode(message),
      };
    },
  });
}
