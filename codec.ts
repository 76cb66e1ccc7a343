// Copyright 2026 the netkit authors. MIT license.

/**
 * Packet assembly and parsing: a codec turns messages into bytes for the
 * wire (`D = E(M)`) and bytes from the wire back into messages
 * (`M = E⁻¹(D)`), whatever way TCP happens to cut the byte stream.
 *
 * Each codec pairs a {@linkcode Decoder} — a small state machine that parses
 * one frame at a time from the bytes buffered so far, in a
 * {@linkcode ReadBuffer} that netkit owns — and an {@linkcode Encoder}
 * that appends a message's bytes to a {@linkcode ByteBuffer}, and offers
 * them as `TransformStream`s too. {@linkcode StreamDecoder} feeds a
 * decoder chunks of bytes; {@linkcode decodeAll} and
 * {@linkcode encodeAll} do a whole sequence at once. Your own protocol's
 * decoder uses the same contract.
 *
 * Framings (bytes ↔ byte frames):
 *
 * | framing | wire | default limit |
 * | --- | --- | --- |
 * | {@linkcode lengthPrefixed} | length field, then payload | `maxFrameLength` 8 MiB |
 * | {@linkcode delimited} | payload, then delimiter | `maxLength` 64 KiB |
 * | {@linkcode lines} | payload, then LF (CR LF accepted) | `maxLength` 64 KiB |
 * | {@linkcode fixedLength} | exactly `n` bytes | `n` |
 * | {@linkcode netstring} | `len:payload,` | `maxFrameLength` 8 MiB |
 * | {@linkcode raw} | bytes as they arrive | the read size |
 *
 * Message layers over any framing: {@linkcode text} (UTF-8, fatal on
 * invalid bytes), {@linkcode json} (with a validation hook), and
 * {@linkcode mapCodec} for your own (stateless, or with state per stream
 * and several messages per frame).
 *
 * Each framing lives in its own module under `codec/`, also exported on
 * its own path (`@netkit/net/codec/length-prefixed`, `…/delimited`,
 * `…/fixed-length`, `…/netstring`, `…/raw`, `…/map`), with its wire
 * format and its decoder's states documented there.
 *
 * ## Length-prefixed, the default
 *
 * A 4-byte big-endian length, then that many bytes. `"hello"`:
 *
 * ```text
 * +---- len: u32 ----+---- payload ----+
 * | 00 00 00 05      | 68 65 6c 6c 6f  |
 * +------------------+-----------------+
 * ```
 *
 * This is byte for byte what tokio's `LengthDelimitedCodec::new()` and
 * Netty's `LengthFieldPrepender(4)` write. The field can be 1, 2, 3, 4 or
 * 8 bytes, either byte order, or an unsigned LEB128 varint (protobuf's and
 * MQTT's framing); it can sit after `lengthOffset` bytes of other header,
 * count itself (`lengthIncludesHeader`), or be off by a constant
 * (`lengthAdjustment`), and the header can stay in the frame (`strip`).
 * See {@linkcode LengthPrefixedOptions}.
 *
 * ## Decoder states
 *
 * Every framing's decoder is a small state machine over the read buffer,
 * per frame:
 *
 * ```text
 *            bytes                 header complete
 *   HEAD ────────────► HEAD ──────────────────────► BODY ──► emit ──► HEAD
 *     │                  │ length > limit             │ end of stream
 *     │                  ▼                            ▼
 *     │               DISCARD (throws FrameTooLargeError once, then skips
 *     │                  the frame's bytes and resumes at the next one)
 *     ▼ end of stream with bytes unread
 *   UnexpectedEofError { remaining }
 * ```
 *
 * A decoder consumes nothing of a frame until the frame is whole, so at
 * end of stream every byte after the last whole frame is reported as
 * `remaining`. Errors reach the caller after every frame before the bad
 * one; the bad bytes are consumed, so the decoder can go on (a connection
 * closes by default). With `oversize: "skip"` a frame over the limit is
 * dropped and counted in {@linkcode Decoder.dropped} instead. Memory stays
 * bounded: a decoder's `maxBuffered` (its limit plus one header) bounds
 * its read buffer, and a claimed length is not allocated before its bytes
 * arrive (the buffer grows at most 64 KiB, or as much again as it holds,
 * ahead of them).
 *
 * @example Encode and decode length-prefixed frames
 * ```ts
 * import { decodeAll, encodeAll, lengthPrefixed } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const codec = lengthPrefixed();
 * const wire = encodeAll(codec, [new TextEncoder().encode("hello")]);
 * assertEquals(wire, new Uint8Array([0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
 * // Any chunking of the bytes gives the same frames.
 * const frames = decodeAll(codec, [wire.subarray(0, 2), wire.subarray(2)]);
 * assertEquals(frames, [new TextEncoder().encode("hello")]);
 * ```
 *
 * @example JSON lines through web streams
 * ```ts
 * import { json, lines } from "@netkit/net/codec";
 * import { assertEquals } from "@std/assert";
 *
 * const codec = json<{ id: number }>(lines());
 * const out = ReadableStream.from([{ id: 1 }, { id: 2 }])
 *   .pipeThrough(codec.encodeStream())
 *   .pipeThrough(codec.decodeStream());
 * assertEquals(await Array.fromAsync(out), [{ id: 1 }, { id: 2 }]);
 * ```
 *
 * @module
 */

export * from "./codec/read_buffer.ts";
export * from "./codec/byte_buffer.ts";
export * from "./codec/decoder.ts";
export * from "./codec/length_prefixed.ts";
export * from "./codec/delimited.ts";
export * from "./codec/fixed_length.ts";
export * from "./codec/netstring.ts";
export * from "./codec/raw.ts";
export * from "./codec/map.ts";
