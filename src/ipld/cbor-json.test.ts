import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CborError, decodeCbor, encodeCbor } from './cbor.ts';
import { transcodeCbor, writeCborAsJson } from './cbor-json.ts';
import { cidToString, parseCid } from './cid.ts';
import { dataToJson } from './data-model.ts';
import { JsonWriter } from './json-writer.ts';

const fixtures: Array<{ json: unknown; cbor_base64: string }> = JSON.parse(
  readFileSync(new URL('../../../shared/interop/data-model/data-model-fixtures.json', import.meta.url), 'utf8'),
);
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const CID = 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a';
const RAW_CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';

/** The fast path's text, or undefined when it handed the value to the general path. */
function fast(bytes: Uint8Array): string | undefined {
  const out = new JsonWriter(8);
  return transcodeCbor(bytes, out) ? out.result().toString('utf8') : undefined;
}

/** What the answer used to be: decode, convert, stringify. */
function general(bytes: Uint8Array): string {
  return JSON.stringify(dataToJson(decodeCbor(bytes)));
}

function outcome(run: () => string): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: JSON.parse(run()) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A small seeded PRNG, so a failure can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] };
}

const PIECES = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\t', '\u0000', '\u001f', '\u007f', 'é', '⽘', '😀', '\u2028', '\ufeff', '\ufffd', '/', '<', '$'];
const INTS = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -24, -25, -257, -(2 ** 32), Number.MIN_SAFE_INTEGER];

function randomValue(r: ReturnType<typeof prng>, depth: number): unknown {
  const kind = r.int(depth > 3 ? 6 : 9);
  switch (kind) {
    case 0:
      return r.pick(INTS);
    case 1:
      return r.int(2) === 0 ? r.int(1000) : -r.int(1000);
    case 2:
    case 3:
      return Array.from({ length: r.int(12) }, () => r.pick(PIECES)).join('');
    case 4:
      return r.pick([true, false, null]);
    case 5:
      return r.int(2) === 0 ? { $link: r.pick([CID, RAW_CID]) } : { $bytes: Buffer.from(Array.from({ length: r.int(40) }, () => r.int(256))).toString('base64').replace(/=+$/, '') };
    case 6:
      return Array.from({ length: r.int(5) }, () => randomValue(r, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = r.int(7); i > 0; i--) obj[Array.from({ length: 1 + r.int(4) }, () => r.pick(PIECES)).join('')] = randomValue(r, depth + 1);
      return obj;
    }
  }
}

describe('transcodeCbor (DAG-CBOR to JSON text)', () => {
  it('writes every interop data-model fixture as its JSON, on the fast path', () => {
    for (const fixture of fixtures) {
      const text = fast(new Uint8Array(Buffer.from(fixture.cbor_base64, 'base64')));
      assert.ok(text !== undefined, JSON.stringify(fixture.json));
      assert.deepEqual(JSON.parse(text), fixture.json);
    }
  });

  it('agrees with decode + dataToJson + JSON.stringify on 3,000 random values, all on the fast path', () => {
    const r = prng(18);
    for (let i = 0; i < 3000; i++) {
      const bytes = encodeCbor(randomValue(r, 0));
      const text = fast(bytes);
      assert.ok(text !== undefined, `value ${i} left the fast path`);
      assert.deepEqual(JSON.parse(text), JSON.parse(general(bytes)), `value ${i}`);
    }
  });

  it('on damaged bytes, accepts only what the decoder accepts, and then writes the same value', () => {
    const r = prng(1804);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      const bytes = encodeCbor(randomValue(r, 0));
      const damaged = Uint8Array.from(bytes);
      const at = r.int(damaged.length);
      switch (r.int(3)) {
        case 0:
          damaged[at] = r.int(256);
          break;
        case 1:
          damaged[at] ^= 1 << r.int(8);
          break;
        default: {
          const cut = damaged.subarray(0, at);
          const before = outcome(() => general(cut));
          const after = fast(cut);
          if (after !== undefined) assert.ok(before.ok && (assert.deepEqual(JSON.parse(after), before.value), true));
          continue;
        }
      }
      const before = outcome(() => general(damaged));
      const after = fast(damaged);
      if (after === undefined) refused++;
      else {
        accepted++;
        assert.ok(before.ok, `the fast path accepted bytes the decoder refuses: ${Buffer.from(damaged).toString('hex')}`);
        assert.deepEqual(JSON.parse(after), before.value);
      }
      // Through the public entry point, errors included, nothing changes.
      const viaWriter = outcome(() => {
        const out = new JsonWriter(16);
        writeCborAsJson(damaged, out);
        return out.result().toString('utf8');
      });
      assert.equal(viaWriter.ok, before.ok);
      if (viaWriter.ok && before.ok) assert.deepEqual(viaWriter.value, before.value);
      else if (!viaWriter.ok) assert.ok(viaWriter.error instanceof CborError);
    }
    assert.ok(accepted > 100 && refused > 100, `accepted ${accepted}, refused ${refused}`);
  });

  it('escapes strings exactly as JSON.stringify does and copies UTF-8 as it is', () => {
    for (const s of ['', 'plain', 'quote " here', 'back\\slash', 'line\nbreak', '\u0000\u0001\u001f', 'del \u007f', 'é😀⽘', '\ufeffbom', '\u2028\u2029', 'a"é\n']) {
      assert.equal(fast(encodeCbor({ s })), JSON.stringify({ s }), s);
    }
  });

  it('writes links, raw-codec links and bytes in their JSON forms', () => {
    assert.equal(fast(encodeCbor({ a: { $link: CID }, b: { $link: RAW_CID } })), `{"a":{"$link":"${CID}"},"b":{"$link":"${RAW_CID}"}}`);
    assert.equal(fast(encodeCbor({ b: { $bytes: 'AAEC/w' } })), '{"b":{"$bytes":"AAEC/w"}}');
    assert.equal(cidToString(parseCid(CID)), CID);
  });

  it('hands what it leaves out to the general path, which answers as the decoder does', () => {
    const cases: Array<[string, string]> = [
      ['float', 'a16161fb3ff8000000000000'],
      ['undefined', 'a16161f7'],
      ['another tag', 'a16161c100'],
      ['integer past 2^53', 'a161611b0020000000000000'],
      ['non-minimal length', 'a1616118 01'],
      ['keys out of order', 'a2616201616101'],
      ['duplicate keys', 'a2616101616101'],
      ['a non-text key', 'a10101'],
      ['invalid UTF-8', 'a1616162c328'],
      ['trailing bytes', 'a161610100'],
      ['a CID of the wrong length', 'a16161d82a5824 00' + Buffer.from(parseCid(CID).bytes).subarray(0, 35).toString('hex')],
      ['a CID without its 0x00 prefix', 'a16161d82a5825 01' + Buffer.from(parseCid(CID).bytes).toString('hex')],
      ['an indefinite-length map', 'bf616101ff'],
    ];
    for (const [name, bytesHex] of cases) {
      const bytes = hex(bytesHex);
      assert.equal(fast(bytes), undefined, name);
      assert.throws(() => writeCborAsJson(bytes, new JsonWriter()), CborError, name);
    }
  });

  it('takes the general path past 64 levels of nesting, and still writes the value', () => {
    let value: unknown = 'leaf';
    for (let i = 0; i < 80; i++) value = [value];
    const bytes = encodeCbor(value);
    assert.equal(fast(bytes), undefined);
    const out = new JsonWriter();
    writeCborAsJson(bytes, out);
    assert.equal(out.result().toString('utf8'), JSON.stringify(value));
  });
});

describe('JsonWriter', () => {
  it('writes strings as JSON.stringify does, growing as it goes', () => {
    const out = new JsonWriter(1);
    const strings = ['', 'abc', '"', '\\', '\n', 'é', '😀', '\ud800', 'x'.repeat(10_000), `${'y'.repeat(200)}"é\n`];
    out.byte(0x5b);
    strings.forEach((s, i) => {
      if (i > 0) out.byte(0x2c);
      out.string(s);
    });
    out.byte(0x5d);
    assert.equal(out.result().toString('utf8'), JSON.stringify(strings));
  });
});
