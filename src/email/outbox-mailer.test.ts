import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { captureLog, extractToken } from '../../test/helpers/smtp.ts';
import { EmailDeliveryError } from './errors.ts';
import { OutboxMailer } from './outbox-mailer.ts';
import { renderConfirmEmail } from './templates.ts';
import { generateEmailToken } from './tokens.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'squall-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const FILE_NAME = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{12}\.eml$/;

test('each message becomes one readable .eml file with the usual headers', async () => {
  const outboxDir = join(dir, 'one', 'outbox');
  const { log, output } = captureLog();
  const mailer = new OutboxMailer({ outboxDir, fromAddress: 'pds@example.com' }, log);
  const token = generateEmailToken();
  const before = Date.now();
  await mailer.send({ to: 'dana@example.com', ...renderConfirmEmail({ token }) });

  const files = readdirSync(outboxDir);
  assert.equal(files.length, 1);
  assert.match(files[0], FILE_NAME);
  const path = join(outboxDir, files[0]);
  const raw = readFileSync(path, 'utf8');

  // Plain RFC 5322 text: headers, a blank line, a body, CRLF line ends throughout.
  const [head] = raw.split('\r\n\r\n');
  assert.ok(!/[^\r]\n/.test(raw), 'every line ends with CRLF');
  assert.match(head, /^From: pds@example\.com$/m);
  assert.match(head, /^To: dana@example\.com$/m);
  assert.match(head, /^Subject: Email Confirmation$/m);
  assert.match(head, /^Date: /m);
  assert.match(head, /^Message-ID: <[^>]+@example\.com>$/m);
  assert.match(head, /^MIME-Version: 1\.0$/m);
  assert.match(head, /^Auto-Submitted: auto-generated$/m);
  assert.match(head, /^Content-Type: multipart\/alternative;/m);
  // A person can read the code straight from the file.
  assert.ok(raw.includes(token));

  const parsed = await simpleParser(raw);
  assert.equal(extractToken(parsed.text ?? ''), token);
  assert.ok((parsed.date?.getTime() ?? 0) >= before - 1000);

  // The log points at the file and keeps the code out.
  assert.ok(output().includes(path));
  assert.ok(!output().includes(token));
});

test('outbox files are private to the PDS user, and so is the folder', async () => {
  const outboxDir = join(dir, 'modes', 'outbox');
  await new OutboxMailer({ outboxDir, fromAddress: 'pds@example.com' }, captureLog().log).send({ to: 'e@example.com', subject: 's', text: 't' });
  assert.equal(statSync(outboxDir).mode & 0o777, 0o700);
  for (const file of readdirSync(outboxDir)) assert.equal(statSync(join(outboxDir, file)).mode & 0o777, 0o600);
});

test('many messages at once get distinct, time-ordered files and leave no temporary files', async () => {
  const outboxDir = join(dir, 'many', 'outbox');
  const mailer = new OutboxMailer({ outboxDir, fromAddress: 'pds@example.com' }, captureLog().log);
  const tokens = Array.from({ length: 20 }, () => generateEmailToken());
  await Promise.all(tokens.map((token, i) => mailer.send({ to: `u${i}@example.com`, ...renderConfirmEmail({ token }) })));
  const files = readdirSync(outboxDir);
  assert.equal(files.length, 20);
  for (const f of files) assert.match(f, FILE_NAME);
  const found = files.map((f) => extractToken(readFileSync(join(outboxDir, f), 'utf8'))).sort();
  assert.deepEqual(found, [...tokens].sort());
});

test('an outbox that cannot be written is a delivery error', async () => {
  const blocker = join(dir, 'blocked');
  writeFileSync(blocker, 'a file where the folder should be');
  const mailer = new OutboxMailer({ outboxDir: join(blocker, 'outbox'), fromAddress: 'pds@example.com' }, captureLog().log);
  await assert.rejects(mailer.send({ to: 'f@example.com', subject: 's', text: 't' }), (err: unknown) => {
    assert.ok(err instanceof EmailDeliveryError);
    assert.equal(err.details.code, 'ENOTDIR');
    assert.equal(err.details.permanent, false);
    assert.match(err.message, /could not write the message to the outbox folder/);
    return true;
  });
});

test('a line longer than mail allows is wrapped in the file and restored when read', async () => {
  const outboxDir = join(dir, 'long', 'outbox');
  const text = `${'word '.repeat(300)}end`;
  await new OutboxMailer({ outboxDir, fromAddress: 'pds@example.com' }, captureLog().log).send({ to: 'g@example.com', subject: 's', text });
  const raw = readFileSync(join(outboxDir, readdirSync(outboxDir)[0]), 'utf8');
  for (const line of raw.split('\r\n')) assert.ok(line.length <= 998);
  assert.equal((await simpleParser(raw)).text?.trim(), text);
});
