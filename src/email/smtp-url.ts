import type { SMTPTransportOptions } from 'nodemailer';
import { parseConnectionUrl } from './nodemailer.ts';
import { InvalidEmailConfigError } from './errors.ts';

/**
 * Timeouts for a mail server that is down or stalls. nodemailer's defaults (2 minutes to
 * connect, 10 minutes of socket silence) would hold an XRPC request open far past any client's
 * patience; these fail within seconds instead. A URL query (`?connectionTimeout=...`) still wins.
 */
export const SMTP_TIMEOUTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
  dnsTimeout: 10_000,
} as const;

export interface SmtpSettings {
  /** What nodemailer's SMTP transport gets (includes the credentials). */
  transport: SMTPTransportOptions & { pool?: boolean };
  /** The URL without its password, for logs and the boot message. */
  safeUrl: string;
  /** Every spelling of the password that could turn up in text, to scrub it out. */
  secrets: string[];
}

/**
 * Reads PDS_EMAIL_SMTP_URL the way nodemailer reads a connection URL (so a URL that worked with
 * the official PDS, query options such as `?tls.rejectUnauthorized=false` included, works here),
 * then adds our timeouts. Only smtp: and smtps: are accepted. Error messages never repeat the
 * URL: it may carry a password.
 */
export function parseSmtpUrl(smtpUrl: string): SmtpSettings {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new InvalidEmailConfigError('PDS_EMAIL_SMTP_URL is not a valid URL (expected smtp://user:pass@host:587 or smtps://...)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new InvalidEmailConfigError(`PDS_EMAIL_SMTP_URL must start with smtp:// or smtps://, not ${url.protocol}//`);
  }
  const parsed = parseConnectionUrl(smtpUrl) as SmtpSettings['transport'];
  if (!parsed.host) {
    throw new InvalidEmailConfigError('PDS_EMAIL_SMTP_URL has no host name');
  }
  const transport: SmtpSettings['transport'] = { ...SMTP_TIMEOUTS, ...parsed };
  const secure = transport.secure === true;
  const port = Number(transport.port) || (secure ? 465 : 587);
  const user = transport.auth && 'user' in transport.auth ? transport.auth.user : undefined;
  const pass = transport.auth && 'pass' in transport.auth ? transport.auth.pass : undefined;
  const host = transport.host!.includes(':') ? `[${transport.host}]` : transport.host!;
  const safeUrl = `${secure ? 'smtps' : 'smtp'}://${user ? `${encodeURIComponent(user)}@` : ''}${host}:${port}`;
  const secrets = new Set<string>();
  for (const value of [pass, url.password, pass && encodeURIComponent(pass)]) {
    if (typeof value === 'string' && value !== '') secrets.add(value);
  }
  return { transport, safeUrl, secrets: [...secrets] };
}

/**
 * Shortest password worth scrubbing from text: blanking every "a" of a message because the
 * password is "a" would only garble it, and a password that short protects nothing anyway.
 */
const MIN_SCRUBBED_LENGTH = 4;

/** Replaces every occurrence of a secret in `text`, for messages that came from elsewhere. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= MIN_SCRUBBED_LENGTH) out = out.split(secret).join('[redacted]');
  }
  return out;
}
