import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidEmailConfigError, InvalidEmailMessageError } from './errors.ts';
import { assertSendable, assertValidFromAddress, toMailOptions, type EmailMessage } from './message.ts';

const good: EmailMessage = { to: 'alice@example.com', subject: 'Email Confirmation', text: 'code: ABCDE-FGH23' };

test('an ordinary message passes', () => {
  assertSendable(good);
  assertSendable({ ...good, html: '<p>hi</p>', to: 'a.b+tag@sub.example.co.uk' });
});

const badMessages: Array<[string, Partial<EmailMessage>]> = [
  ['two recipients separated by a comma', { to: 'alice@example.com, mallory@example.com' }],
  ['two recipients separated by a semicolon', { to: 'alice@example.com;mallory@example.com' }],
  ['a display name', { to: 'Alice <alice@example.com>' }],
  ['a recipient with a line break', { to: 'alice@example.com\r\nBcc: mallory@example.com' }],
  ['a recipient without a domain', { to: 'alice' }],
  ['an empty recipient', { to: '' }],
  ['a subject with a line break', { subject: 'Hi\r\nBcc: mallory@example.com' }],
  ['a subject with a bare newline', { subject: 'Hi\nthere' }],
  ['an empty subject', { subject: '  ' }],
  ['a subject longer than a header line may be', { subject: 'x'.repeat(999) }],
  ['an empty text body', { text: '' }],
];

for (const [what, change] of badMessages) {
  test(`a message with ${what} is refused`, () => {
    assert.throws(() => assertSendable({ ...good, ...change }), InvalidEmailMessageError);
  });
}

test('a from address may be bare or carry a display name', () => {
  assertValidFromAddress('pds@example.com');
  assertValidFromAddress('"My PDS" <pds@example.com>');
  assertValidFromAddress('My PDS <pds@example.com>');
});

for (const bad of ['', 'pds', 'a@example.com, b@example.com', 'pds@example.com\r\nBcc: x@example.com', '"Name only"']) {
  test(`the from address ${JSON.stringify(bad)} is refused at boot`, () => {
    assert.throws(() => assertValidFromAddress(bad), InvalidEmailConfigError);
  });
}

test('mail options mark the message as automatic and forbid reading files or URLs', () => {
  const options = toMailOptions({ ...good, html: '<p>x</p>' }, 'pds@example.com');
  assert.equal(options.from, 'pds@example.com');
  assert.equal(options.to, 'alice@example.com');
  assert.equal(options.html, '<p>x</p>');
  assert.deepEqual(options.headers, { 'Auto-Submitted': 'auto-generated' });
  assert.equal(options.disableFileAccess, true);
  assert.equal(options.disableUrlAccess, true);
});
