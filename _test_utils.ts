// Copyright 2026 the netkit authors. MIT license.
// Helpers shared by the test files (not part of the package).

import v8 from "node:v8";
import vm from "node:vm";

const PENDING = Symbol("pending");

/** Whether `p` is still pending after `ms` milliseconds. */
export async function stillPending(
  p: Promise<unknown>,
  ms = 50,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<typeof PENDING>((resolve) => {
    timer = setTimeout(() => resolve(PENDING), ms);
  });
  const result = await Promise.race([
    p.then(() => "settled", () => "settled"),
    expired,
  ]);
  clearTimeout(timer);
  return result === PENDING;
}

let certPromise: Promise<{ cert: string; key: string }> | undefined;

/**
 * A self-signed certificate for localhost and 127.0.0.1 made with openssl
 * (CA:FALSE, as rustls wants of a server certificate), made once per test
 * file.
 */
export function testCert(): Promise<{ cert: string; key: string }> {
  certPromise ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "netkit_cert_" });
    try {
      const { success, stderr } = await new Deno.Command("openssl", {
        args: [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-keyout",
          `${dir}/key.pem`,
          "-out",
          `${dir}/cert.pem`,
          "-days",
          "2",
          "-subj",
          "/CN=localhost",
          "-addext",
          "basicConstraints=critical,CA:FALSE",
          "-addext",
          "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!success) {
        throw new Error(
          `Cannot make a test certificate: ${new TextDecoder().decode(stderr)}`,
        );
      }
      return {
        cert: await Deno.readTextFile(`${dir}/cert.pem`),
        key: await Deno.readTextFile(`${dir}/key.pem`),
      };
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  return certPromise;
}

/** Two ends of a real TCP connection on loopback. */
export async function tcpPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  return [client, server as Deno.TcpConn];
}

/** Writes every byte of `bytes` to a transport. */
export async function writeAll(
  t: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await t.write(bytes.subarray(off));
}

/**
 * mulberry32: a small seeded generator of numbers in [0, 1), so a run of a
 * randomized test or load can be repeated.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * V8's full garbage collection, for tests that check what memory is kept:
 * `--expose-gc` set at run time, and `gc` taken from a new context.
 */
export function fullGc(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

/**
 * Whether what `ref` points to was collected: the reference is kept alive
 * until the end of the task that made it, so this waits a task first.
 */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  const gc = fullGc();
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
  }
  return ref.deref() === undefined;
}
