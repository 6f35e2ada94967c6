const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Standard base64, padded or not, as `$bytes` values use it. Leftover bits in the last
 * character are ignored, not refused: the reference implementation accepts them and the interop
 * vectors' valid "full" record carries `{"$bytes": "123"}`. Re-encoding always writes canonical
 * bytes. Returns undefined for anything that is not base64.
 */
export function decodeBase64Lenient(s: string): Uint8Array | undefined {
  if (!BASE64_RE.test(s)) return undefined;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  if (pad > 0 && s.length % 4 !== 0) return undefined;
  if ((s.length - pad) % 4 === 1) return undefined;
  const buf = Buffer.from(s, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
