import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { captureLog, extractToken, startSmtpServer, type SmtpTestServer } from '../../test/helpers/smtp.ts';
import { EmailDeliveryError, InvalidEmailConfigError, InvalidEmailMessageError } from './errors.ts';
import { createMailer, OUTBOX_DEFAULT_FROM, OutboxMailer, SmtpMailer, type Mailer } from './mailer.ts';
import {
  renderAdminEmail,
  renderConfirmEmail,
  renderDeleteAccount,
  renderPlcOperation,
  renderResetPassword,
  renderUpdateEmail,
  type EmailContent,
} from './templates.ts';
import { generateEmailToken } from './tokens.ts';

/** What a recipient ends up with, whichever way the message travelled. */
interface Delivered {
  from: string | undefined;
  to: string[];
  subject: string;
  text: string;
  html: string | undefined;
  autoSubmitted: string | undefined;
}

/** One implementation under the shared suite: a mailer and a way to read back the newest delivery. */
interface Harness {
  mailer: Mailer;
  fromAddress: string;
  lastDelivered(to: string): Promise<Delivered>;
  close(): Promise<void>;
}

const templates: Array<[string, (token: string) => EmailContent]> = [
  ['email confirmation', (token) => renderConfirmEmail({ token })],
  ['email update', (token) => renderUpdateEmail({ token })],
  ['password reset', (token) => renderResetPassword({ token, handle: 'alice.test' })],
  ['account deletion', (token) => renderDeleteAccount({ token })],
  ['PLC operation', (token) => renderPlcOperation({ token })],
];

/** Every Mailer must pass this: each template arrives with its recipient, sender, subject and code. */
function mailerContract(name: string, start: () => Promise<Harness>): void {
  describe(`${name} (shared mailer suite)`, () => {
    let h: Harness;
    before(async () => {
      h = await start();
    });
    after(() => h.close());

    for (const [templateName, render] of templates) {
      test(`delivers the ${templateName} message with a readable code`, async () => {
        const token = generateEmailToken();
        const content = render(token);
        const to = `${templateName.replace(/\W/g, '-').toLowerCase()}@example.com`;
        await h.mailer.send({ to, ...content });
        const mail = await h.lastDelivered(to);
        assert.deepEqual(mail.to, [to]);
        assert.equal(mail.from, h.fromAddress);
        assert.equal(mail.subject, content.subject);
        assert.equal(extractToken(mail.text), token);
        assert.equal(mail.text.trim(), content.text.trim());
        assert.equal(mail.html?.trim(), content.html.trim());
        assert.equal(mail.autoSubmitted, 'auto-generated');
      });
    }

    test('delivers an admin message with non-ASCII subject and content intact', async () => {
      const content = renderAdminEmail({ subject: 'Maintenance — ce soir ✓', content: 'Bonjour Zoë,\n\nLe serveur redémarre à 22 h.' });
      await h.mailer.send({ to: 'zoe@example.com', ...content });
      const mail = await h.lastDelivered('zoe@example.com');
      assert.equal(mail.subject, 'Maintenance — ce soir ✓');
      assert.equal(mail.text.trim(), 'Bonjour Zoë,\n\nLe serveur redémarre à 22 h.');
    });

    test('delivers a text-only message', async () => {
      await h.mailer.send({ to: 'plain@example.com', subject: 'Plain', text: 'just text' });
      const mail = await h.lastDelivered('plain@example.com');
      assert.equal(mail.text.trim(), 'just text');
      assert.equal(mail.html, undefined);
    });

    test('refuses a message with a forged header before anything is sent', async () => {
      await assert.rejects(
        h.mailer.send({ to: 'x@example.com', subject: 'Hi\r\nBcc: mallory@example.com', text: 't' }),
        InvalidEmailMessageError,
      );
      await assert.rejects(h.mailer.send({ to: 'x@example.com, mallory@example.com', subject: 'Hi', text: 't' }), InvalidEmailMessageError);
    });
  });
}

mailerContract('SmtpMailer', async () => {
  const smtp = await startSmtpServer();
  const { log } = captureLog();
  const fromAddress = 'pds@example.com';
  const mailer = new SmtpMailer({ smtpUrl: smtp.url, fromAddress }, log);
  return {
    mailer,
    fromAddress,
    async lastDelivered(to) {
      const m = await smtp.waitForMessage(to);
      assert.deepEqual(m.envelopeTo, [to]);
      assert.equal(m.envelopeFrom, fromAddress);
      return { from: m.from, to: m.to, subject: m.subject, text: m.text, html: m.html, autoSubmitted: m.headers.get('auto-submitted') };
    },
    async close() {
      await mailer.close();
      await smtp.close();
    },
  };
});

mailerContract('OutboxMailer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'squall-'));
  const outboxDir = join(dir, 'outbox');
  const fromAddress = 'pds@example.com';
  const mailer = new OutboxMailer({ outboxDir, fromAddress }, captureLog().log);
  return {
    mailer,
    fromAddress,
    async lastDelivered(to) {
      const files = readdirSync(outboxDir).filter((f) => f.endsWith('.eml')).sort();
      for (const file of files.reverse()) {
        const parsed = await simpleParser(readFileSync(join(outboxDir, file)));
        const recipients = [parsed.to ?? []].flat().flatMap((a) => a.value.map((v) => v.address));
        if (!recipients.includes(to)) continue;
        return {
          from: parsed.from?.value[0]?.address,
          to: recipients.filter((a): a is string => !!a),
          subject: parsed.subject ?? '',
          text: parsed.text ?? '',
          html: parsed.html || undefined,
          autoSubmitted: parsed.headers.get('auto-submitted') as string | undefined,
        };
      }
      throw new Error(`no outbox file for ${to}`);
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('createMailer', () => {
  let smtp: SmtpTestServer;
  let dir: string;
  before(async () => {
    smtp = await startSmtpServer({ auth: { user: 'squall', pass: 'Tr0ub4dor&3-horse' } });
    dir = mkdtempSync(join(tmpdir(), 'squall-'));
  });
  after(async () => {
    await smtp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('picks the outbox folder when no SMTP URL is set, and says why', () => {
    const outboxDir = join(dir, 'outbox');
    const { mailer, kind, description } = createMailer({ outboxDir }, captureLog().log);
    assert.ok(mailer instanceof OutboxMailer);
    assert.equal(kind, 'outbox');
    assert.equal(description, `email goes to the outbox folder ${outboxDir} because PDS_EMAIL_SMTP_URL is not set`);
    assert.equal((mailer as OutboxMailer).fromAddress, OUTBOX_DEFAULT_FROM);
  });

  test('uses the configured from address for outbox files too', () => {
    const { mailer } = createMailer({ outboxDir: join(dir, 'outbox'), fromAddress: 'pds@example.com' }, captureLog().log);
    assert.equal((mailer as OutboxMailer).fromAddress, 'pds@example.com');
  });

  test('picks SMTP when a URL is set and describes the server without its password', async () => {
    const { log, output } = captureLog();
    const { mailer, kind, description } = createMailer({ smtpUrl: smtp.url, fromAddress: 'pds@example.com', outboxDir: dir }, log);
    assert.ok(mailer instanceof SmtpMailer);
    assert.equal(kind, 'smtp');
    assert.equal(description, `email goes to the SMTP server smtp://squall@127.0.0.1:${smtp.port}, from pds@example.com`);
    await mailer.send({ to: 'bob@example.com', ...renderConfirmEmail({ token: generateEmailToken() }) });
    const received = await smtp.waitForMessage('bob@example.com');
    assert.equal(received.authUser, 'squall');
    assert.ok(!description.includes('Tr0ub4dor'));
    assert.ok(!output().includes('Tr0ub4dor'));
    await mailer.close();
  });

  test('refuses an SMTP URL without a from address, at boot', () => {
    assert.throws(
      () => createMailer({ smtpUrl: smtp.url, outboxDir: dir }, captureLog().log),
      (err: unknown) => err instanceof InvalidEmailConfigError && /PDS_EMAIL_FROM_ADDRESS is required/.test(err.message),
    );
  });

  test('refuses a bad SMTP URL with a message that does not repeat the password', () => {
    assert.throws(
      () => createMailer({ smtpUrl: 'http://squall:Tr0ub4dor&3-horse@mail.example.com', fromAddress: 'pds@example.com', outboxDir: dir }, captureLog().log),
      (err: unknown) => err instanceof InvalidEmailConfigError && !err.message.includes('Tr0ub4dor'),
    );
  });

  test('a failed login names neither the password in the error nor in the log', async () => {
    const wrong = smtp.url.replace('Tr0ub4dor', 'Wr0ngPassw0rd');
    const { log, output } = captureLog();
    const { mailer, description } = createMailer({ smtpUrl: wrong, fromAddress: 'pds@example.com', outboxDir: dir }, log);
    await assert.rejects(mailer.send({ to: 'bob@example.com', subject: 's', text: 't' }), (err: unknown) => {
      assert.ok(err instanceof EmailDeliveryError);
      assert.ok(!err.message.includes('Wr0ngPassw0rd'));
      assert.ok(!JSON.stringify(err).includes('Wr0ngPassw0rd'));
      return true;
    });
    assert.ok(!description.includes('Wr0ngPassw0rd'));
    assert.match(output(), /EAUTH/);
    assert.ok(!output().includes('Wr0ngPassw0rd'));
    assert.ok(!output().includes(encodeURIComponent('Tr0ub4dor&3-horse')));
  });
});
