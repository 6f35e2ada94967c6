import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createLogger, type Logger } from '../../src/logger.ts';

/** One message as the server received it, parsed. */
export interface ReceivedMail {
  /** SMTP envelope: MAIL FROM and RCPT TO, lower-cased. */
  envelopeFrom: string;
  envelopeTo: string[];
  /** Header addresses, lower-cased. */
  from: string | undefined;
  to: string[];
  subject: string;
  text: string;
  html: string | undefined;
  /** Every header, names lower-cased, as one unfolded line each. */
  headers: Map<string, string>;
  /** The message exactly as it came over the wire. */
  raw: string;
  /** The user the client logged in as, when the server asked for a login. */
  authUser: string | undefined;
}

export interface SmtpTestServer {
  /** `smtp://127.0.0.1:<port>` (or smtps://), with `user:pass@` when started with `auth`. Give it to SmtpMailer. */
  url: string;
  port: number;
  /** Every message so far, in arrival order. */
  messages: ReceivedMail[];
  /**
   * The next message to `to` that no earlier call returned; waits for it if need be. Each call
   * consumes one, so a flow that mails the same person twice reads the second code second.
   */
  waitForMessage(to: string, options?: { timeoutMs?: number }): Promise<ReceivedMail>;
  /** waitForMessage, then the `XXXXX-XXXXX` code in its text. */
  waitForToken(to: string, options?: { timeoutMs?: number }): Promise<string>;
  close(): Promise<void>;
}

export interface SmtpTestServerOptions {
  /** Require this login (AUTH PLAIN or LOGIN, allowed without TLS since this is 127.0.0.1). */
  auth?: { user: string; pass: string };
  /** Answer RCPT TO for these addresses with a permanent 550. */
  rejectRecipients?: string[];
  /**
   * Implicit TLS (smtps://) with smtp-server's built-in self-signed certificate; the URL then
   * carries `?tls.rejectUnauthorized=false` so a client built from it accepts that certificate.
   */
  secure?: boolean;
}

/** Finds an emailed code (`XXXXX-XXXXX`, base32) in a message text; throws when there is none. */
export function extractToken(text: string): string {
  const match = /(?<![A-Z0-9])[A-Z2-7]{5}-[A-Z2-7]{5}(?![A-Z0-9])/.exec(text);
  if (!match) throw new Error(`no XXXXX-XXXXX code in this text:\n${text}`);
  return match[0];
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1, port 0, that keeps what it receives. STARTTLS
 * is off because a test has no certificate nodemailer would trust; everything else is the
 * ordinary SMTP dialogue.
 */
export async function startSmtpServer(options: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  const messages: ReceivedMail[] = [];
  const consumed = new Set<ReceivedMail>();
  const waiters = new Set<() => void>();
  const rejected = new Set((options.rejectRecipients ?? []).map((a) => a.toLowerCase()));
  const auth = options.auth;

  const server = new SMTPServer({
    logger: false,
    secure: options.secure === true,
    closeTimeout: 1000,
    // A reverse DNS lookup of 127.0.0.1 per connection costs ~100 ms and tells a test nothing.
    disableReverseLookup: true,
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !auth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(login, _session, callback) {
      if (auth && login.username === auth.user && login.password === auth.pass) {
        callback(null, { user: login.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onRcptTo(address, _session, callback) {
      if (rejected.has(address.address.toLowerCase())) {
        callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
      } else {
        callback();
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address.toLowerCase() : '';
            messages.push({
              envelopeFrom,
              envelopeTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
              from: parsed.from?.value[0]?.address?.toLowerCase(),
              to: addresses(parsed.to),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: parsed.html || undefined,
              headers: new Map(parsed.headerLines.map((h) => [h.key, h.line.slice(h.line.indexOf(':') + 1).trim()])),
              raw: raw.toString('utf8'),
              authUser: typeof session.user === 'string' ? session.user : undefined,
            });
            for (const wake of waiters) wake();
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const credentials = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : '';

  function takeNext(to: string): ReceivedMail | undefined {
    const wanted = to.toLowerCase();
    const mail = messages.find((m) => !consumed.has(m) && (m.envelopeTo.includes(wanted) || m.to.includes(wanted)));
    if (mail) consumed.add(mail);
    return mail;
  }

  async function waitForMessage(to: string, { timeoutMs = 5000 } = {}): Promise<ReceivedMail> {
    const ready = takeNext(to);
    if (ready) return ready;
    return new Promise<ReceivedMail>((resolve, reject) => {
      const wake = () => {
        const mail = takeNext(to);
        if (!mail) return;
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(mail);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        const seen = messages.map((m) => `${m.envelopeTo.join(',')}: ${m.subject}`).join('; ') || 'none';
        reject(new Error(`no new email to ${to} within ${timeoutMs} ms (received: ${seen})`));
      }, timeoutMs);
      waiters.add(wake);
    });
  }

  return {
    url: options.secure
      ? `smtps://${credentials}127.0.0.1:${port}?tls.rejectUnauthorized=false`
      : `smtp://${credentials}127.0.0.1:${port}`,
    port,
    messages,
    waitForMessage,
    async waitForToken(to, opts) {
      return extractToken((await waitForMessage(to, opts)).text);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  if (!field) return [];
  const list = Array.isArray(field) ? field : [field];
  return list.flatMap((o) => o.value.map((v) => v.address?.toLowerCase() ?? '')).filter((a) => a !== '');
}

/** A real pino logger at debug level whose output a test reads back, e.g. to prove a secret never shows. */
export function captureLog(): { log: Logger; output(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { log: createLogger('debug', stream), output: () => chunks.join('') };
}
