import type { Logger } from '../logger.ts';
import { InvalidEmailConfigError } from './errors.ts';
import type { EmailMessage } from './message.ts';
import { OutboxMailer } from './outbox-mailer.ts';
import { SmtpMailer } from './smtp-mailer.ts';

export type { EmailMessage } from './message.ts';
export { OutboxMailer, type OutboxMailerOptions } from './outbox-mailer.ts';
export { SmtpMailer, type SmtpMailerOptions } from './smtp-mailer.ts';

/** Hands one message to whatever delivers it. Throws EmailDeliveryError when that fails. */
export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}

/** The logging the mailers do; a pino Logger fits. */
export type MailerLog = Pick<Logger, 'debug' | 'info' | 'warn'>;

export interface MailerSettings {
  /** PDS_EMAIL_SMTP_URL; without it, mail goes to the outbox folder. */
  smtpUrl?: string;
  /** PDS_EMAIL_FROM_ADDRESS; required with an SMTP URL. */
  fromAddress?: string;
  /** `<data dir>/outbox`. */
  outboxDir: string;
}

export interface CreatedMailer {
  mailer: Mailer & { close(): Promise<void> };
  kind: 'smtp' | 'outbox';
  /** One line for the boot log saying where email goes. Never contains the SMTP password. */
  description: string;
}

/** The From of outbox files when no address is configured; nothing is sent, so any will do. */
export const OUTBOX_DEFAULT_FROM = 'noreply@localhost';

/**
 * Picks SMTP when PDS_EMAIL_SMTP_URL is set, the outbox folder otherwise. Throws
 * InvalidEmailConfigError for settings that can never work, so boot fails with a clear message
 * instead of the first password reset failing later.
 */
export function createMailer(settings: MailerSettings, log: MailerLog): CreatedMailer {
  if (settings.smtpUrl) {
    if (!settings.fromAddress) {
      throw new InvalidEmailConfigError('PDS_EMAIL_FROM_ADDRESS is required when PDS_EMAIL_SMTP_URL is set');
    }
    const mailer = new SmtpMailer({ smtpUrl: settings.smtpUrl, fromAddress: settings.fromAddress }, log);
    return {
      mailer,
      kind: 'smtp',
      description: `email goes to the SMTP server ${mailer.safeUrl}, from ${mailer.fromAddress}`,
    };
  }
  const mailer = new OutboxMailer(
    { outboxDir: settings.outboxDir, fromAddress: settings.fromAddress ?? OUTBOX_DEFAULT_FROM },
    log,
  );
  return {
    mailer,
    kind: 'outbox',
    description: `email goes to the outbox folder ${settings.outboxDir} because PDS_EMAIL_SMTP_URL is not set`,
  };
}
