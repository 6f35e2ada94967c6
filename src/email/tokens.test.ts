import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractToken } from '../../test/helpers/smtp.ts';
import {
  EMAIL_TOKEN_ALPHABET,
  EMAIL_TOKEN_PATTERN,
  EMAIL_TOKEN_TTL_MS,
  generateEmailToken,
  normalizeEmailToken,
} from './tokens.ts';

test('an email token is two groups of five upper-case base32 characters', () => {
  for (let i = 0; i < 1000; i++) {
    const token = generateEmailToken();
    assert.match(token, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    assert.match(token, EMAIL_TOKEN_PATTERN);
  }
});

test('the token alphabet leaves out the digits people confuse with letters', () => {
  assert.equal(EMAIL_TOKEN_ALPHABET.length, 32);
  assert.equal(new Set(EMAIL_TOKEN_ALPHABET).size, 32);
  for (const ambiguous of ['0', '1', '8', '9']) assert.ok(!EMAIL_TOKEN_ALPHABET.includes(ambiguous));
});

test('tokens do not repeat and use every symbol about equally often', () => {
  const n = 20_000;
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const token = generateEmailToken();
    seen.add(token);
    for (const c of token.replace('-', '')) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(seen.size, n);
  assert.equal(counts.size, 32);
  // 200,000 symbols over 32 values: expected 6,250 each, standard deviation about 77.
  // Chi-square with 31 degrees of freedom exceeds 80 with probability 3e-6 when uniform.
  const expected = (n * 10) / 32;
  let chi = 0;
  for (const count of counts.values()) chi += (count - expected) ** 2 / expected;
  assert.ok(chi < 80, `chi-square ${chi.toFixed(1)} says the symbols are not uniform`);
});

test('the token lifetime is 15 minutes, as on the official PDS', () => {
  assert.equal(EMAIL_TOKEN_TTL_MS, 900_000);
});

test('a typed token is trimmed and upper-cased before comparison', () => {
  assert.equal(normalizeEmailToken('  abcde-fgh23 \n'), 'ABCDE-FGH23');
  assert.equal(normalizeEmailToken('ABCDE-FGH23'), 'ABCDE-FGH23');
});

test('input that cannot be one of our tokens normalizes to null', () => {
  for (const input of ['', 'ABCDEFGH23', 'ABCDE-FGH2', 'ABCDE-FGH234', 'ABCD0-FGH23', 'ABCDE_FGH23', 'ABCDE-FGH23 x', '🙂🙂🙂🙂🙂-AAAAA']) {
    assert.equal(normalizeEmailToken(input), null, input);
  }
});

test('extractToken finds a generated token inside surrounding text and refuses text without one', () => {
  const token = generateEmailToken();
  assert.equal(extractToken(`Your code:\n\n    ${token}\n\nIt expires soon.`), token);
  assert.equal(extractToken(`(${token}).`), token);
  assert.throws(() => extractToken('no code here, only XABCDE-FGHIJ2'), /no XXXXX-XXXXX code/);
});
