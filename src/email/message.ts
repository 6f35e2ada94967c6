import type { SendMailOptions } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { InvalidEmailConfigError, InvalidEmailMessageError } from './errors.ts';

/** One message to one person. Templates produce subject, text and html; the caller adds `to`. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** Controls that would end a header line early (header injection) or have no place in one. */
const HEADER_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** A bare addr-spec: one `local@domain`, nothing that could smuggle a second recipient. */
const BARE_ADDRESS = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]{1,253}$/;
const MAX_SUBJECT_LENGTH = 998;

/**
 * Refuses a message that could address someone else or forge headers. Account email addresses
 * are validated when stored, but the mailer is the last place before bytes leave the machine,
 * so it checks again rather than trust every caller.
 */
export function assertSendable(message: EmailMessage): void {
  if (typeof message.to !== 'string' || !BARE_ADDRESS.test(message.to)) {
    throw new InvalidEmailMessageError('recipient must be a single plain email address');
  }
  if (typeof message.subject !== 'string' || message.subject.trim() === '') {
    throw new InvalidEmailMessageError('subject must not be empty');
  }
  if (message.subject.length > MAX_SUBJECT_LENGTH || HEADER_CONTROL.test(message.subject)) {
    throw new InvalidEmailMessageError('subject must be one line of at most 998 characters');
  }
  if (typeof message.text !== 'string' || message.text === '') {
    throw new InvalidEmailMessageError('text body must not be empty');
  }
  if (message.html !== undefined && typeof message.html !== 'string') {
    throw new InvalidEmailMessageError('html body must be a string');
  }
}

/**
 * Checks PDS_EMAIL_FROM_ADDRESS once, at boot: exactly one mailbox, either `a@b.example` or
 * `"Name" <a@b.example>`.
 */
export function assertValidFromAddress(fromAddress: string): void {
  if (HEADER_CONTROL.test(fromAddress)) {
    throw new InvalidEmailConfigError('PDS_EMAIL_FROM_ADDRESS must be one line');
  }
  const parsed = addressparser(fromAddress, { flatten: true });
  const address = parsed.length === 1 ? parsed[0].address : undefined;
  if (!address || !BARE_ADDRESS.test(address)) {
    throw new InvalidEmailConfigError(
      'PDS_EMAIL_FROM_ADDRESS must be one email address, like pds@example.com or "My PDS" <pds@example.com>',
    );
  }
}

/** The nodemailer message both mailers hand to their transport, so SMTP and outbox bytes agree. */
export function toMailOptions(message: EmailMessage, from: string): SendMailOptions {
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    // RFC 3834: tells vacation responders and ticket systems not to answer a machine.
    headers: { 'Auto-Submitted': 'auto-generated' },
    // Bodies are strings we built; never let a value be read as a file path or URL to fetch.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
