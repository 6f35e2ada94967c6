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
    this.pos += this.room(text.length * 3).write(text, this.pos, 'utf8');
  }

  /**
   * A string as a JSON string literal, exactly as `JSON.stringify` writes it. Printable ASCII
   * other than `"` and `\` (keys, URIs, CIDs) is checked and copied in one loop; anything else
   * goes to `JSON.stringify`.
   */
  string(s: string): void {
    const buf = this.room(s.length + 2);
    let o = this.pos;
    buf[o++] = QUOTE;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return this.value(s);
      buf[o++] = c;
    }
    buf[o++] = QUOTE;
    this.pos = o;
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
