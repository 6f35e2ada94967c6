import { EMAIL_TOKEN_TTL_MS } from './tokens.ts';

/**
 * The email a PDS sends, as plain text plus a simple HTML part. Each function depends only on
 * its inputs; the caller adds the recipient and hands the result to a Mailer:
 * `mailer.send({ to: account.email, ...renderConfirmEmail({ token }) })`.
 * Subjects match the official PDS's, so people who filter or search their mail find them.
 */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** The subject of an admin message sent without one, as the official PDS does. */
export const DEFAULT_ADMIN_SUBJECT = 'Message via your PDS';

const TTL_MINUTES = Math.round(EMAIL_TOKEN_TTL_MS / 60_000);

export function renderConfirmEmail(input: { token: string }): EmailContent {
  return renderCodeEmail({
    subject: 'Email Confirmation',
    heading: 'Confirm your email address',
    intro: ['To confirm the email address of your account, enter this code in your app:'],
    token: input.token,
    outro: ['If you did not ask for this, you can ignore this message.'],
  });
}

export function renderUpdateEmail(input: { token: string }): EmailContent {
  return renderCodeEmail({
    subject: 'Email Update Requested',
    heading: 'Change your email address',
    intro: ['Someone asked to change the email address of your account. To allow it, enter this code in your app:'],
    token: input.token,
    outro: [
      'If you did not ask for this, ignore this message: your email address stays as it is. ' +
        'You may want to change your password.',
    ],
  });
}

export function renderResetPassword(input: { token: string; handle: string }): EmailContent {
  return renderCodeEmail({
    subject: 'Password Reset Requested',
    heading: 'Reset your password',
    intro: [`Someone asked to reset the password of the account @${input.handle}. To choose a new password, enter this code in your app:`],
    token: input.token,
    outro: ['If you did not ask for this, you can ignore this message: your password stays as it is.'],
  });
}

export function renderSignIn(input: { token: string }): EmailContent {
  return renderCodeEmail({
    subject: 'Sign-in Code',
    heading: 'Your sign-in code',
    intro: ['Someone signed in to your account with its password. To finish signing in, enter this code in your app:'],
    token: input.token,
    outro: ['If this was not you, do not share this code with anyone: someone knows your password. Change it now.'],
  });
}

export function renderDeleteAccount(input: { token: string }): EmailContent {
  return renderCodeEmail({
    subject: 'Account Deletion Requested',
    heading: 'Delete your account',
    intro: [
      'Someone asked to delete your account. Deleting it removes your posts and all other data ' +
        'this server holds for you, and cannot be undone. To confirm, enter this code in your app:',
    ],
    token: input.token,
    outro: ['If you did not ask for this, do not share this code with anyone, and consider changing your password.'],
  });
}

export function renderPlcOperation(input: { token: string }): EmailContent {
  return renderCodeEmail({
    subject: 'PLC Update Operation Requested',
    heading: 'Approve a change to your identity',
    intro: [
      "Someone asked to sign a change to your account's identity (a PLC operation on your DID). " +
        'This happens when you move your account to another server or change its keys. ' +
        'To approve it, enter this code in your app:',
    ],
    token: input.token,
    outro: [
      'If you did not ask for this, do not share this code with anyone: with it, someone could take ' +
        'control of your account. Consider changing your password.',
    ],
  });
}

/**
 * A message an administrator writes (com.atproto.admin.sendEmail). The content is taken as plain
 * text: it is escaped in the HTML part, and blank lines become paragraphs. The official PDS puts
 * the content into the HTML part unescaped; we do not let any input become markup.
 */
export function renderAdminEmail(input: { content: string; subject?: string }): EmailContent {
  const subject = input.subject && input.subject.trim() !== '' ? input.subject : DEFAULT_ADMIN_SUBJECT;
  const text = input.content.replace(/\r\n?/g, '\n');
  const paragraphs = text.split(/\n[ \t]*\n/).filter((p) => p.trim() !== '');
  const body = paragraphs.map((p) => `<p style="${P}">${escapeHtml(p).replace(/\n/g, '<br>\n')}</p>`).join('\n');
  return { subject, text, html: htmlDocument(subject, body) };
}

interface CodeEmail {
  subject: string;
  heading: string;
  intro: string[];
  token: string;
  outro: string[];
}

/** The shared shape: a heading, why you got this, the code set apart, how long it lasts. */
function renderCodeEmail(mail: CodeEmail): EmailContent {
  const expiry = `The code expires in ${TTL_MINUTES} minutes and works only once.`;
  const paragraphs = [mail.heading, ...mail.intro.map(wrap), `    ${mail.token}`, wrap(expiry), ...mail.outro.map(wrap)];
  const text = paragraphs.join('\n\n') + '\n';
  const body = [
    `<h1 style="margin:0 0 16px;font-size:20px;">${escapeHtml(mail.heading)}</h1>`,
    ...mail.intro.map((p) => `<p style="${P}">${escapeHtml(p)}</p>`),
    `<p style="${P}"><code style="${CODE}">${escapeHtml(mail.token)}</code></p>`,
    `<p style="${P}">${escapeHtml(expiry)}</p>`,
    ...mail.outro.map((p) => `<p style="${P}">${escapeHtml(p)}</p>`),
  ].join('\n');
  return { subject: mail.subject, text, html: htmlDocument(mail.subject, body) };
}

/**
 * Wraps a paragraph at 72 columns. Short lines keep the plain-text part 7-bit instead of
 * quoted-printable, so it reads cleanly in an outbox file or a raw-source view; a word longer
 * than the width (a long handle) stays whole.
 */
function wrap(paragraph: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > TEXT_WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

const TEXT_WIDTH = 72;
const P = 'margin:0 0 16px;';
const CODE =
  'display:inline-block;padding:8px 14px;border-radius:6px;background:#f0f2f5;' +
  'font-family:ui-monospace,Menlo,Consolas,monospace;font-size:22px;letter-spacing:2px;';

/** Inline styles only: many mail clients drop <style> blocks. */
function htmlDocument(title: string, body: string): string {
  return (
    '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${escapeHtml(title)}</title>\n</head>\n` +
    '<body style="margin:0;padding:24px;font-family:-apple-system,BlinkMacSystemFont,\'Segoe UI\',Roboto,Helvetica,Arial,sans-serif;' +
    'font-size:16px;line-height:1.5;color:#1f2328;background:#ffffff;">\n' +
    `${body}\n</body>\n</html>\n`
  );
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}
