import type { Transporter } from 'nodemailer';
import { EmailDeliveryError } from './errors.ts';
import { nodemailer } from './nodemailer.ts';
import type { Mailer, MailerLog } from './mailer.ts';
import { assertSendable, assertValidFromAddress, toMailOptions, type EmailMessage } from './message.ts';
import { parseSmtpUrl, scrubSecrets, type SmtpSettings } from './smtp-url.ts';

export interface SmtpMailerOptions {
  /** PDS_EMAIL_SMTP_URL, e.g. `smtp://user:pass@host:587` or `smtps://user:pass@host:465`. */
  smtpUrl: string;
  /** PDS_EMAIL_FROM_ADDRESS: the From of every message. */
  fromAddress: string;
}

/**
 * Sends over SMTP with nodemailer. One connection per message unless the URL asks for
 * `?pool=true`: a PDS sends a handful of codes an hour, and a fresh connection cannot go stale.
 * nodemailer's own logger stays off; this class logs, and never the password.
 */
export class SmtpMailer implements Mailer {
  /** The server as `smtp://user@host:port`, without the password. */
  readonly safeUrl: string;
  readonly fromAddress: string;
  readonly #options: SmtpSettings['transport'];
  #transport: Transporter | undefined;
  readonly #secrets: string[];
  readonly #log: MailerLog;

  constructor(options: SmtpMailerOptions, log: MailerLog) {
    assertValidFromAddress(options.fromAddress);
    const settings = parseSmtpUrl(options.smtpUrl);
    this.safeUrl = settings.safeUrl;
    this.fromAddress = options.fromAddress;
    this.#secrets = settings.secrets;
    this.#log = log;
    this.#options = settings.transport;
  }

  async send(message: EmailMessage): Promise<void> {
    assertSendable(message);
    let info: { messageId?: string; response?: string };
    try {
      info = await this.#connect().sendMail(toMailOptions(message, this.fromAddress));
    } catch (err) {
      throw this.#deliveryError(err, 'SMTP delivery failed');
    }
    this.#log.debug(
      { smtp: this.safeUrl, messageId: info.messageId, response: scrubSecrets(String(info.response ?? ''), this.#secrets) },
      'email sent over SMTP',
    );
  }

  /** Connects and logs in without sending anything, to warn an operator at boot. */
  async verify(): Promise<void> {
    try {
      await this.#connect().verify();
    } catch (err) {
      throw this.#deliveryError(err, 'SMTP server check failed');
    }
  }

  async close(): Promise<void> {
    this.#transport?.close();
  }

  /** The transport, made on first use (nodemailer is loaded then). */
  #connect(): Transporter {
    return (this.#transport ??= nodemailer().createTransport({ ...this.#options, logger: false, debug: false }));
  }

  /** Rebuilds the error from its fields so nothing unscrubbed (the cause, a command) rides along. */
  #deliveryError(err: unknown, what: string): EmailDeliveryError {
    const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : undefined;
    const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
    const reason = scrubSecrets(typeof e.message === 'string' ? e.message : String(err), this.#secrets);
    const permanent = code === 'EAUTH' || (responseCode !== undefined && responseCode >= 500 && responseCode < 600);
    this.#log.warn({ smtp: this.safeUrl, code, responseCode, permanent }, `${what}: ${reason}`);
    return new EmailDeliveryError(`${what} (${this.safeUrl}): ${reason}`, { code, responseCode, permanent });
  }
}
