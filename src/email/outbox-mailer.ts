import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import { EmailDeliveryError } from './errors.ts';
import { nodemailer } from './nodemailer.ts';
import type { Mailer, MailerLog } from './mailer.ts';
import { assertSendable, assertValidFromAddress, toMailOptions, type EmailMessage } from './message.ts';

export interface OutboxMailerOptions {
  /** `<data dir>/outbox`; created (mode 0700) on first use. */
  outboxDir: string;
  /** The From header; PDS_EMAIL_FROM_ADDRESS when set. */
  fromAddress: string;
}

/**
 * For operators without SMTP: each message becomes one `.eml` file (RFC 5322, CRLF line ends,
 * built by the same nodemailer composer as SMTP mail), which any mail client opens and `cat`
 * shows. Files are mode 0600 because they hold live codes. A file is written under a dot-name
 * and renamed, so whoever watches the folder never reads half a message.
 */
export class OutboxMailer implements Mailer {
  readonly outboxDir: string;
  readonly fromAddress: string;
  #composer: Transporter | undefined;
  readonly #log: MailerLog;

  constructor(options: OutboxMailerOptions, log: MailerLog) {
    assertValidFromAddress(options.fromAddress);
    this.outboxDir = options.outboxDir;
    this.fromAddress = options.fromAddress;
    this.#log = log;
  }

  async send(message: EmailMessage): Promise<void> {
    assertSendable(message);
    this.#composer ??= nodemailer().createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
    const info = await this.#composer.sendMail(toMailOptions(message, this.fromAddress));
    const file = await this.#write(info.message as Buffer);
    this.#log.info({ file, subject: message.subject }, 'email written to the outbox folder');
  }

  async close(): Promise<void> {}

  /** Returns the final path. Names sort by time: `20261123T101530.123Z-<random>.eml`. */
  async #write(bytes: Buffer): Promise<string> {
    // ISO 8601 basic format: no colons, which some file systems and tools refuse in names.
    const stamp = new Date().toISOString().replace(/[-:]/g, '');
    const name = `${stamp}-${randomBytes(6).toString('hex')}.eml`;
    const finalPath = join(this.outboxDir, name);
    const tempPath = join(this.outboxDir, `.${name}.tmp`);
    try {
      await mkdir(this.outboxDir, { recursive: true, mode: 0o700 });
      const handle = await open(tempPath, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tempPath, finalPath);
      return finalPath;
    } catch (err) {
      await unlink(tempPath).catch(() => {});
      const code = (err as NodeJS.ErrnoException).code;
      throw new EmailDeliveryError(
        `could not write the message to the outbox folder ${this.outboxDir}: ${(err as Error).message}`,
        { code, permanent: false },
        { cause: err },
      );
    }
  }
}
