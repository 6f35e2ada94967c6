// nodemailer, loaded on first use. Its entry loads every transport it has (SMTP with TLS, SES,
// sendmail, DKIM...), 0.7 MB of source and node:tls, which a server that has sent no mail does
// not need in memory (the default outbox sends none until someone asks for a code).
import { createRequire } from 'node:module';
import type * as Nodemailer from 'nodemailer';

const require = createRequire(import.meta.url);

/** Its CommonJS build, required: its ES build imports node:http, which loads undici (see net/node-http.ts). */
export function nodemailer(): typeof Nodemailer {
  return require('nodemailer') as typeof Nodemailer;
}

/** nodemailer's own reading of a connection URL (synchronous: configuration is read at boot). */
export function parseConnectionUrl(url: string): unknown {
  const shared = require('nodemailer/lib/shared') as { parseConnectionUrl(url: string): unknown };
  return shared.parseConnectionUrl(url);
}
