import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { captureLog, startSmtpServer, type SmtpTestServer } from '../../test/helpers/smtp.ts';
import { EmailDeliveryError, InvalidEmailConfigError } from './errors.ts';
import { SmtpMailer } from './smtp-mailer.ts';
import { renderResetPassword } from './templates.ts';
import { generateEmailToken } from './tokens.ts';

const USER = 'squall@example.com';
const PASS = 'correct horse:battery@staple';
let smtp: SmtpTestServer;

before(async () => {
  smtp = await startSmtpServer({ auth: { user: USER, pass: PASS }, rejectRecipients: ['gone@example.com'] });
});
after(() => smtp.close());

const message = { to: 'carol@example.com', subject: 'Hello', text: 'Hello Carol' };

test('logs in with the user and password from a percent-encoded smtp:// URL', async () => {
  assert.ok(smtp.url.includes(encodeURIComponent(PASS)));
  const { log, output } = captureLog();
  const mailer = new SmtpMailer({ smtpUrl: smtp.url, fromAddress: '"Squall PDS" <pds@example.com>' }, log);
  const token = generateEmailToken();
  await mailer.send({ to: 'carol@example.com', ...renderResetPassword({ token, handle: 'carol.test' }) });
  const mail = await smtp.waitForMessage('carol@example.com');
  assert.equal(mail.authUser, USER);
  assert.equal(mail.from, 'pds@example.com');
  assert.match(mail.headers.get('from') ?? '', /^"?Squall PDS"? <pds@example\.com>$/);
  assert.equal(mail.envelopeFrom, 'pds@example.com');
  assert.ok(mail.text.includes(token));
  assert.ok(mail.headers.has('message-id'));
  assert.ok(mail.headers.has('date'));
  // The success line says where mail went, and nothing secret.
  assert.match(output(), /email sent over SMTP/);
  assert.ok(output().includes(`smtp://${encodeURIComponent(USER)}@127.0.0.1:${smtp.port}`));
  assert.ok(!output().includes('battery'));
  await mailer.close();
});

test('an smtps:// URL speaks implicit TLS, with query options such as tls.rejectUnauthorized honoured', async () => {
  const tls = await startSmtpServer({ secure: true, auth: { user: 'tls-user', pass: 'tls-secret-pass' } });
  try {
    assert.match(tls.url, /^smtps:/);
    const { log, output } = captureLog();
    const mailer = new SmtpMailer({ smtpUrl: tls.url, fromAddress: 'pds@example.com' }, log);
    assert.equal(mailer.safeUrl, `smtps://tls-user@127.0.0.1:${tls.port}`);
    await mailer.send({ ...message, to: 'tls@example.com' });
    const mail = await tls.waitForMessage('tls@example.com');
    assert.equal(mail.authUser, 'tls-user');
    assert.ok(!output().includes('tls-secret-pass'));
    // Without the option, the self-signed certificate is refused: TLS is really checked.
    const strict = new SmtpMailer({ smtpUrl: tls.url.replace(/\?.*$/, ''), fromAddress: 'pds@example.com' }, captureLog().log);
    await assert.rejects(strict.send({ ...message, to: 'tls@example.com' }), (err: unknown) => {
      assert.ok(err instanceof EmailDeliveryError);
      assert.equal(err.details.permanent, false);
      assert.ok(!err.message.includes('tls-secret-pass'));
      return true;
    });
  } finally {
    await tls.close();
  }
});

test('a server that requires a login refuses a URL without one, as a permanent failure', async () => {
  const mailer = new SmtpMailer({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, fromAddress: 'pds@example.com' }, captureLog().log);
  await assert.rejects(mailer.send(message), (err: unknown) => {
    assert.ok(err instanceof EmailDeliveryError);
    assert.equal(err.details.responseCode, 530);
    assert.equal(err.details.permanent, true);
    return true;
  });
});

test('a wrong password fails with EAUTH, and neither error nor log repeats the password', async () => {
  const wrongPass = 'not-the-password-9f8e7d';
  const { log, output } = captureLog();
  const url = `smtp://${encodeURIComponent(USER)}:${wrongPass}@127.0.0.1:${smtp.port}`;
  const mailer = new SmtpMailer({ smtpUrl: url, fromAddress: 'pds@example.com' }, log);
  await assert.rejects(mailer.send(message), (err: unknown) => {
    assert.ok(err instanceof EmailDeliveryError);
    assert.equal(err.details.code, 'EAUTH');
    assert.equal(err.details.responseCode, 535);
    assert.equal(err.details.permanent, true);
    assert.equal(err.cause, undefined);
    assert.ok(!`${err.message} ${err.stack} ${JSON.stringify(err)}`.includes(wrongPass));
    return true;
  });
  assert.match(output(), /SMTP delivery failed/);
  assert.ok(!output().includes(wrongPass));
});

test('a recipient the server rejects is a permanent failure with its reply code', async () => {
  const mailer = new SmtpMailer({ smtpUrl: smtp.url, fromAddress: 'pds@example.com' }, captureLog().log);
  await assert.rejects(mailer.send({ ...message, to: 'gone@example.com' }), (err: unknown) => {
    assert.ok(err instanceof EmailDeliveryError);
    assert.equal(err.details.code, 'EENVELOPE');
    assert.equal(err.details.responseCode, 550);
    assert.equal(err.details.permanent, true);
    return true;
  });
});

test('a server that is not listening fails fast and may be retried', async () => {
  const closed = await listenThenClose();
  const mailer = new SmtpMailer({ smtpUrl: `smtp://u:pw-1234@127.0.0.1:${closed}`, fromAddress: 'pds@example.com' }, captureLog().log);
  const started = Date.now();
  await assert.rejects(mailer.send(message), (err: unknown) => {
    assert.ok(err instanceof EmailDeliveryError);
    assert.equal(err.details.code, 'ESOCKET');
    assert.equal(err.details.permanent, false);
    assert.ok(!err.message.includes('pw-1234'));
    return true;
  });
  assert.ok(Date.now() - started < 2000);
});

test('a server that accepts but never greets times out instead of hanging the request', async () => {
  const { server, port, sockets } = await startSilentServer();
  try {
    const mailer = new SmtpMailer(
      { smtpUrl: `smtp://127.0.0.1:${port}?greetingTimeout=200`, fromAddress: 'pds@example.com' },
      captureLog().log,
    );
    const started = Date.now();
    await assert.rejects(mailer.send(message), (err: unknown) => {
      assert.ok(err instanceof EmailDeliveryError);
      assert.equal(err.details.code, 'ETIMEDOUT');
      assert.equal(err.details.permanent, false);
      return true;
    });
    assert.ok(Date.now() - started < 2000);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('verify logs in without sending, and reports a bad login', async () => {
  const before = smtp.messages.length;
  await new SmtpMailer({ smtpUrl: smtp.url, fromAddress: 'pds@example.com' }, captureLog().log).verify();
  const bad = new SmtpMailer({ smtpUrl: smtp.url.replace(encodeURIComponent(PASS), 'nope-nope'), fromAddress: 'pds@example.com' }, captureLog().log);
  await assert.rejects(bad.verify(), (err: unknown) => err instanceof EmailDeliveryError && err.details.code === 'EAUTH');
  assert.equal(smtp.messages.length, before);
});

test('a pooled connection (?pool=true) delivers several messages and closes cleanly', async () => {
  const mailer = new SmtpMailer({ smtpUrl: `${smtp.url}?pool=true`, fromAddress: 'pds@example.com' }, captureLog().log);
  await Promise.all(['p1', 'p2', 'p3'].map((n) => mailer.send({ ...message, to: `${n}@example.com` })));
  for (const n of ['p1', 'p2', 'p3']) assert.equal((await smtp.waitForMessage(`${n}@example.com`)).text.trim(), 'Hello Carol');
  await mailer.close();
});

test('a from address that is not one mailbox is refused when the mailer is built', () => {
  assert.throws(() => new SmtpMailer({ smtpUrl: smtp.url, fromAddress: 'a@example.com, b@example.com' }, captureLog().log), InvalidEmailConfigError);
});

async function listenThenClose(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startSilentServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}
