import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cborToLex, cidForRecord } from '@atproto/repo';
import { BytesWrapper, CborError, CidLinkWrapper, containsFloat, decodeCbor, decodeCborFirst, encodeCbor, toBytes } from './cbor.ts';
import { cidForCbor, cidToString, parseCid } from './cid.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const CID = 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a';
const CID_BINARY = `d82a5825 00${toHex(parseCid(CID).bytes)}`;

describe('encodeCbor', () => {
  it('writes map keys shortest first, then bytewise', () => {
    assert.equal(toHex(encodeCbor({ b: 1, aa: 2, a: 3 })), 'a3' + '616103' + '616201' + '62616102');
  });

  it('orders non-ASCII keys by their UTF-8 bytes, not UTF-16 code units', () => {
    // Both keys are 4 UTF-8 bytes. UTF-8 puts EF BD A1 61 before F0 9F 98 80; UTF-16 would put the
    // surrogate pair D83D DE00 before FF61, so a JS string sort gets this wrong.
    const value = { '\u{1F600}': 1, '\uFF61a': 2, z: 3 };
    const bytes = encodeCbor(value);
    assert.deepEqual(Object.keys(decodeCbor(bytes) as object), ['z', '\uFF61a', '\u{1F600}']);
  });

  it('writes integers in their shortest form at every boundary', () => {
    const cases: Array<[number, string]> = [
      [0, '00'], [23, '17'], [24, '1818'], [255, '18ff'], [256, '190100'], [65535, '19ffff'], [65536, '1a00010000'],
      [2 ** 32 - 1, '1affffffff'], [2 ** 32, '1b0000000100000000'], [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
      [-1, '20'], [-24, '37'], [-25, '3818'], [-256, '38ff'], [-257, '390100'], [Number.MIN_SAFE_INTEGER, '3b001ffffffffffffe'],
    ];
    for (const [n, expected] of cases) assert.equal(toHex(encodeCbor(n)), expected, String(n));
  });

  it('encodes -0 as the integer 0', () => {
    assert.equal(toHex(encodeCbor(-0)), '00');
  });

  it('encodes JSON-parsed $link and $bytes objects as a CID and a byte string without conversion', () => {
    const json = JSON.parse(`{"l":{"$link":"${CID}"},"b":{"$bytes":"AQID"}}`);
    assert.equal(toHex(encodeCbor(json)), `a2 6162 43010203 616c ${CID_BINARY}`.replace(/\s+/g, ''));
  });

  it('encodes decoded wrappers identically to their JSON forms', () => {
    const json = { l: { $link: CID }, b: { $bytes: 'AQID' } };
    const wrapped = { l: new CidLinkWrapper(parseCid(CID).bytes), b: toBytes(new Uint8Array([1, 2, 3])) };
    assert.deepEqual(encodeCbor(wrapped), encodeCbor(json));
  });

  it('leaves out object properties that are undefined', () => {
    assert.equal(toHex(encodeCbor({ a: 1, b: undefined })), 'a1616101');
  });

  const unencodable: Array<[string, unknown]> = [
    ['a float', { a: 1.5 }],
    ['a float deep inside arrays', { a: [[1, [2, 0.1]]] }],
    ['NaN', [NaN]],
    ['Infinity', { x: Infinity }],
    ['-Infinity', -Infinity],
    ['2^53', 2 ** 53],
    ['-(2^53)', -(2 ** 53)],
    ['undefined in an array', [1, undefined]],
    ['undefined at the top level', undefined],
    ['a bigint', { n: 1n }],
    ['a raw Uint8Array', { b: new Uint8Array([1]) }],
    ['a Date', { d: new Date(0) }],
    ['a Map', new Map([['a', 1]])],
    ['a symbol', { s: Symbol('x') }],
    ['a function', { f: () => 1 }],
    ['a malformed $link', { $link: 'bafy-not-a-cid' }],
    ['a $link that is not a string', { $link: 1 }],
    ['malformed base64 in $bytes', { $bytes: '!!!' }],
  ];
  for (const [name, value] of unencodable) {
    it(`rejects ${name} with a CborError`, () => {
      assert.throws(() => encodeCbor(value), CborError);
    });
  }

  it('turns a stack overflow on absurd nesting into a CborError', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.throws(() => encodeCbor(deep), (err: Error) => err instanceof CborError && /nested too deeply/.test(err.message));
  });
});

describe('decodeCbor', () => {
  it('round-trips every data-model kind and re-encodes to the same bytes', () => {
    const value = {
      int: -12345678901,
      str: 'a~öñ©⽘☎𓋓😀👨‍👩‍👧‍👧',
      t: true,
      f: false,
      n: null,
      arr: [[], {}, [1, [2, [3]]]],
      bytes: { $bytes: 'nFERjvLLiw9qm45JrqH9QTzyC2Lu1Xb4ne6+sBrCzI0' },
      link: { $link: CID },
    };
    const bytes = encodeCbor(value);
    const decoded = decodeCbor(bytes) as Record<string, unknown>;
    assert.ok(decoded.link instanceof CidLinkWrapper);
    assert.equal((decoded.link as CidLinkWrapper).$link, CID);
    assert.ok(decoded.bytes instanceof BytesWrapper);
    assert.equal(JSON.stringify(decoded.bytes), '{"$bytes":"nFERjvLLiw9qm45JrqH9QTzyC2Lu1Xb4ne6+sBrCzI0"}');
    assert.deepEqual(encodeCbor(decoded), bytes);
    assert.deepEqual(JSON.parse(JSON.stringify(decoded)), value);
  });

  it('accepts the largest and smallest safe integers', () => {
    assert.equal(decodeCbor(hex('1b001fffffffffffff')), Number.MAX_SAFE_INTEGER);
    assert.equal(decodeCbor(hex('3b001ffffffffffffe')), Number.MIN_SAFE_INTEGER);
  });

  const invalid: Array<[string, string]> = [
    ['map keys out of order', 'a2 6162 01 6161 01'],
    ['map keys in lexical instead of length-first order', 'a2 626161 01 6162 01'],
    ['a duplicate map key', 'a2 6161 01 6161 01'],
    ['a non-string map key', 'a1 01 01'],
    ['an indefinite-length map', 'bf 6161 01 ff'],
    ['an indefinite-length array', '9f 01 ff'],
    ['an indefinite-length text string', '7f 6161 ff'],
    ['an indefinite-length byte string', '5f 4100 ff'],
    ['a float64 with a fraction', 'fb 3ff8000000000000'],
    ['a float64 holding an integer value', 'fb 3ff0000000000000'],
    ['a float64 nested in a map', 'a1 6161 82 01 fb 4000000000000000'],
    ['a float32', 'fa 3fc00000'],
    ['a float16', 'f9 3e00'],
    ['a NaN', 'f9 7e00'],
    ['an infinity', 'fb 7ff0000000000000'],
    ['a non-minimal one-byte integer', '18 01'],
    ['a non-minimal two-byte integer', '19 0001'],
    ['a non-minimal four-byte integer', '1a 00000001'],
    ['a non-minimal eight-byte integer', '1b 0000000000000001'],
    ['a non-minimal string length', '78 01 61'],
    ['a non-minimal map length', 'b8 01 6161 01'],
    ['an integer of 2^53', '1b 0020000000000000'],
    ['a negative integer of -(2^53)', '3b 001fffffffffffff'],
    ['undefined', 'f7'],
    ['simple value 0', 'e0'],
    ['a two-byte simple value', 'f8 20'],
    ['tag 1 (epoch time)', 'c1 01'],
    ['tag 43', 'd8 2b 41 00'],
    ['tag 42 on a text string', 'd8 2a 61 61'],
    [`tag 42 without the 0x00 prefix`, `d82a 5824 ${toHex(parseCid(CID).bytes)}`],
    ['tag 42 holding a CID with an unsupported codec', `d82a 5825 00 0170 1220 ${'ab'.repeat(32)}`],
    ['tag 42 holding a CIDv0', `d82a 5823 00 1220 ${'ab'.repeat(32)}`],
    ['invalid UTF-8 in a text string', '62 c328'],
    ['trailing bytes', '01 01'],
    ['empty input', ''],
    ['a truncated text string', '62 61'],
    ['a truncated map', 'a2 6161 01'],
    ['an array length far beyond the input', '9b 0000000100000000'],
  ];
  for (const [name, input] of invalid) {
    it(`rejects ${name} with a CborError`, () => {
      assert.throws(() => decodeCbor(hex(input)), CborError);
    });
  }

  it('returns byte strings as views of the input, not copies', () => {
    const input = hex('43 010203');
    const decoded = decodeCbor(input) as BytesWrapper;
    assert.equal(decoded.buf.buffer, input.buffer);
  });
});

describe('decodeCborFirst', () => {
  it('reads an event-stream frame as a header and a body', () => {
    const frame = Buffer.concat([encodeCbor({ op: 1, t: '#commit' }), encodeCbor({ seq: 5 })]);
    const [header, rest] = decodeCborFirst(frame);
    assert.deepEqual(header, { op: 1, t: '#commit' });
    assert.deepEqual(decodeCbor(rest), { seq: 5 });
  });

  it('rejects a float in the first value but not bytes after it', () => {
    assert.throws(() => decodeCborFirst(hex('fb 3ff8000000000000 01')), CborError);
    assert.deepEqual(decodeCborFirst(hex('01 fb'))[0], 1);
  });
});

describe('containsFloat', () => {
  it('finds no float in byte or text payloads that contain float marker bytes', () => {
    const bytes = encodeCbor({ b: toBytes(new Uint8Array([0xfb, 0xfa, 0xf9, 0xfb])), s: '\u00fb\u00fa\u00f9' });
    assert.equal(containsFloat(bytes), false);
  });

  it('finds a float after long strings and CIDs', () => {
    const prefix = encodeCbor(['x'.repeat(70_000), { $link: CID }]);
    const withFloat = Buffer.concat([hex('82'), prefix, hex('fb 3ff8000000000000')]);
    assert.equal(containsFloat(withFloat), true);
  });
});

describe('differential check against @atproto/repo', () => {
  // Random data-model values: our bytes, decoded by the reference library and re-encoded by it,
  // must hash to the same CID. This pins key order, integer widths and CID/bytes encodings.
  function randomValue(rand: () => number, depth: number): unknown {
    const pick = Math.floor(rand() * (depth > 3 ? 6 : 9));
    switch (pick) {
      case 0: return Math.floor((rand() - 0.5) * 2 ** (1 + Math.floor(rand() * 53)));
      case 1: return randomString(rand);
      case 2: return rand() < 0.5;
      case 3: return null;
      case 4: return { $bytes: Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256))).toString('base64').replace(/=+$/, '') };
      case 5: return { $link: cidToString(cidForCbor(encodeCbor(Math.floor(rand() * 1e9)))) };
      case 6: return Array.from({ length: Math.floor(rand() * 5) }, () => randomValue(rand, depth + 1));
      default: {
        const obj: Record<string, unknown> = {};
        const n = Math.floor(rand() * 6);
        for (let i = 0; i < n; i++) obj[randomString(rand)] = randomValue(rand, depth + 1);
        return obj;
      }
    }
  }
  function randomString(rand: () => number): string {
    const alphabet = ['a', 'b', 'z', 'aa', 'é', '字', '😀', '$', '~', ' ', '\u0000'];
    let s = '';
    const n = Math.floor(rand() * 6);
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  }
  function mulberry32(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('agrees on the CID of 300 random values', async () => {
    const rand = mulberry32(42);
    for (let i = 0; i < 300; i++) {
      const value = { root: randomValue(rand, 0), i };
      const bytes = encodeCbor(value);
      const theirs = await cidForRecord(cborToLex(bytes));
      assert.equal(theirs.toString(), cidToString(cidForCbor(bytes)), JSON.stringify(value));
    }
  });
});
