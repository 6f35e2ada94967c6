import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidEmailConfigError } from './errors.ts';
import { SMTP_TIMEOUTS, parseSmtpUrl, scrubSecrets } from './smtp-url.ts';

test('an smtp URL means a plain connection upgraded by STARTTLS, on port 587 by default', () => {
  const { transport, safeUrl } = parseSmtpUrl('smtp://mailer:hunter22@smtp.example.com');
  assert.equal(transport.secure, false);
  assert.equal(transport.host, 'smtp.example.com');
  assert.equal(transport.port, undefined);
  assert.deepEqual(transport.auth, { user: 'mailer', pass: 'hunter22' });
  assert.equal(safeUrl, 'smtp://mailer@smtp.example.com:587');
});

test('an smtps URL means implicit TLS, on port 465 by default', () => {
  const { transport, safeUrl } = parseSmtpUrl('smtps://resend:re_abc123xyz@smtp.resend.com');
  assert.equal(transport.secure, true);
  assert.equal(safeUrl, 'smtps://resend@smtp.resend.com:465');
});

test('an explicit port is kept', () => {
  const { transport, safeUrl } = parseSmtpUrl('smtp://u:p@mail.example.com:2525');
  assert.equal(transport.port, 2525);
  assert.equal(safeUrl, 'smtp://u@mail.example.com:2525');
});

test('percent-encoded user names and passwords are decoded', () => {
  const { transport, safeUrl } = parseSmtpUrl('smtp://me%40example.com:p%40ss%3Aw%2Frd@smtp.example.com:587');
  assert.deepEqual(transport.auth, { user: 'me@example.com', pass: 'p@ss:w/rd' });
  assert.equal(safeUrl, 'smtp://me%40example.com@smtp.example.com:587');
});

test('a URL without credentials connects without logging in', () => {
  const { transport, safeUrl, secrets } = parseSmtpUrl('smtp://127.0.0.1:25');
  assert.equal(transport.auth, undefined);
  assert.equal(safeUrl, 'smtp://127.0.0.1:25');
  assert.deepEqual(secrets, []);
});

test('an IPv6 host is bracketed in the safe URL', () => {
  assert.equal(parseSmtpUrl('smtp://[::1]:2525').safeUrl, 'smtp://[::1]:2525');
});

test('our timeouts apply unless the URL sets its own', () => {
  assert.equal(parseSmtpUrl('smtp://h').transport.connectionTimeout, SMTP_TIMEOUTS.connectionTimeout);
  assert.equal(parseSmtpUrl('smtp://h').transport.socketTimeout, SMTP_TIMEOUTS.socketTimeout);
  assert.equal(parseSmtpUrl('smtp://h?connectionTimeout=1234').transport.connectionTimeout, 1234);
  assert.ok(SMTP_TIMEOUTS.connectionTimeout <= 15_000 && SMTP_TIMEOUTS.socketTimeout <= 60_000);
});

test('query options that worked with the official PDS keep working', () => {
  const { transport } = parseSmtpUrl('smtp://u:p@h:587?requireTLS=true&tls.rejectUnauthorized=false&name=pds.example.com');
  assert.equal(transport.requireTLS, true);
  assert.deepEqual(transport.tls, { rejectUnauthorized: false });
  assert.equal(transport.name, 'pds.example.com');
});

test('the password is listed in every spelling it may appear in', () => {
  const { secrets } = parseSmtpUrl('smtp://u:p%40ss%2Fword@h');
  assert.ok(secrets.includes('p@ss/word'));
  assert.ok(secrets.includes('p%40ss%2Fword'));
});

const badUrls: Array<[string, RegExp]> = [
  ['not a url', /not a valid URL/],
  ['http://user:s3cretpass@smtp.example.com', /must start with smtp:\/\/ or smtps:\/\//],
  ['direct:?s3cretpass', /must start with smtp:\/\/ or smtps:\/\//],
  ['smtp://user:s3cretpass@', /not a valid URL|no host/],
];

for (const [url, message] of badUrls) {
  test(`a bad SMTP URL (${url.replace(/s3cretpass/, '***')}) is refused without repeating its password`, () => {
    assert.throws(
      () => parseSmtpUrl(url),
      (err: unknown) => {
        assert.ok(err instanceof InvalidEmailConfigError);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('s3cretpass'));
        return true;
      },
    );
  });
}

test('scrubSecrets replaces every occurrence of each secret', () => {
  assert.equal(scrubSecrets('a hunter22 b hunter22', ['hunter22']), 'a [redacted] b [redacted]');
  assert.equal(scrubSecrets('x p%40ss y p@ss', ['p@ss', 'p%40ss']), 'x [redacted] y [redacted]');
});

test('scrubSecrets leaves text alone for passwords too short to protect anything', () => {
  assert.equal(scrubSecrets('Invalid login', ['in']), 'Invalid login');
});
