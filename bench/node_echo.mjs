// Copyright 2026 the netkit authors. MIT license.

// A length-prefixed (u32 big-endian) echo written by hand over Node's `net`,
// for the echo benchmark. Whole frames go back as they are completed, in one
// write per 'data' event; a partial frame waits, as a list of chunks, until
// its last byte arrives. Backpressure: a write that returns false pauses
// reading until 'drain'.
//
//   node bench/node_echo.mjs --port 0      # prints "listening on 127.0.0.1:PORT"

import net from "node:net";
import process from "node:process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    hostname: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8888" },
    "max-frame-length": { type: "string", default: "1048576" },
  },
});
const hostname = values.hostname;
const maxFrameLength = Number(values["max-frame-length"]);

function echo(socket) {
  socket.setNoDelay(true);
  /** Chunks of a partial frame, and how many bytes they hold. */
  let parts = [];
  let held = 0;
  /** Bytes the frame at the front needs in all, once its header is known. */
  let need = 4;

  socket.on("data", (chunk) => {
    held += chunk.length;
    parts.push(chunk);
    if (held < need) return;
    const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, held);
    parts = [];
    let end = 0;
    for (;;) {
      if (buf.length - end < 4) {
        need = 4;
        break;
      }
      const len = buf.readUInt32BE(end);
      if (len > maxFrameLength) {
        socket.destroy();
        return;
      }
      if (buf.length - end - 4 < len) {
        need = 4 + len;
        break;
      }
      end += 4 + len;
    }
    if (end > 0) {
      const whole = end === buf.length ? buf : buf.subarray(0, end);
      if (!socket.write(whole)) socket.pause();
    }
    held = buf.length - end;
    if (held > 0) parts.push(buf.subarray(end));
  });
  socket.on("drain", () => socket.resume());
  socket.on("end", () => socket.end());
  socket.on("error", () => socket.destroy());
}

const server = net.createServer(echo);
server.listen(Number(values.port), hostname, () => {
  console.log(`listening on ${hostname}:${server.address().port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
