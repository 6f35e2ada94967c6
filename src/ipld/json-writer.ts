/**
 * JSON text written straight into one growing UTF-8 buffer, for answers assembled from parts that
 * are already encoded (stored records transcoded from DAG-CBOR, see cbor-json.ts) instead of
 * built as objects and passed through `JSON.stringify`.
 */
export class JsonWriter {
  #buf: Buffer;
  pos = 0;

  constructor(initialSize = 4096) {
    this.#buf = Buffer.allocUnsafe(initialSize);
  }

  /** The buffer, with room for at least `n` more bytes from `pos`. */
  room(n: number): Buffer {
    const need = this.pos + n;
    if (need > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#buf.length * 2));
      this.#buf.copy(grown, 0, 0, this.pos);
      this.#buf = grown;
    }
    return this.#buf;
  }

  byte(b: number): void {
    this.room(1)[this.pos++] = b;
  }

  /** Text the caller knows is JSON already and needs no escaping (punctuation, digits, `"key":`). */
  raw(text: string): void {
    // Short ASCII (most of what comes here) is copied in a loop: Buffer#write costs a call into C++.
    const n = text.length;
    if (n <= SHORT) {
      const buf = this.room(n);
      let o = this.pos;
      for (let i = 0; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) {
          this.pos += this.room(n * 3).write(text, this.pos, 'utf8');
          return;
        }
        buf[o++] = c;
      }
      this.pos = o;
      return;
    }
    this.pos += this.room(n * 3).write(text, this.pos, 'utf8');
  }

  /** Bytes that are JSON text already (a constant encoded once, see `jsonBytes`). */
  bytes(b: Uint8Array): void {
    const buf = this.room(b.length);
    buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * A string as a JSON string literal, exactly as `JSON.stringify` writes it. Printable ASCII
   * other than `"` and `\` (keys, URIs, CIDs) is checked and copied in one loop; anything else
   * goes to `JSON.stringify`.
   */
  string(s: string): void {
    const buf = this.room(s.length + 2);
    buf[this.pos] = QUOTE;
    const end = copyPlain(s, buf, this.pos + 1);
    if (end < 0) return this.value(s);
    buf[end] = QUOTE;
    this.pos = end + 1;
  }

  /** What `string` writes between the quotes: for a literal whose start was written as bytes. */
  stringContent(s: string): void {
    const end = copyPlain(s, this.room(s.length), this.pos);
    if (end < 0) return this.raw(JSON.stringify(s).slice(1, -1));
    this.pos = end;
  }

  /** Any JSON value (the general path). */
  value(v: unknown): void {
    this.raw(JSON.stringify(v));
  }

  /** What was written: a view of the buffer, valid until the next write. */
  result(): Buffer {
    return this.#buf.subarray(0, this.pos);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Up to this many characters `raw` copies itself. */
const SHORT = 48;

/**
 * Copies `s` into `buf` from `o` when every character is printable ASCII other than `"` and `\`
 * (which JSON writes as they are); returns the offset after it, or -1 at the first other one.
 */
function copyPlain(s: string, buf: Buffer, o: number): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return -1;
    buf[o++] = c;
  }
  return o;
}

/** JSON text encoded once, for `JsonWriter#bytes`. */
export function jsonBytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}
