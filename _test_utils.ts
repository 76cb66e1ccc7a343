// Copyright 2026 the netkit authors. MIT license.
// Helpers shared by the test files (not part of the package).

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

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Bytes from hex pairs separated by spaces: `"00 0a ff"`. */
export function hexBytes(s: string): Uint8Array {
  const parts = s.trim().split(/\s+/).filter((p) => p.length > 0);
  return Uint8Array.from(parts, (p) => {
    if (!/^[0-9a-f]{2}$/i.test(p)) throw new Error(`Bad hex byte ${p}`);
    return parseInt(p, 16);
  });
}

/** Hex pairs separated by spaces, for readable failure messages. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** Cuts `bytes` at the given points (sorted; repeats give empty chunks). */
export function cutAt(
  bytes: Uint8Array,
  points: readonly number[],
): Uint8Array[] {
  const sorted = [...points].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of sorted) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  out.push(bytes.slice(prev));
  return out;
}
