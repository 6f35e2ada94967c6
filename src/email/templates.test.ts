import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractToken } from '../../test/helpers/smtp.ts';
import {
  DEFAULT_ADMIN_SUBJECT,
  escapeHtml,
  renderAdminEmail,
  renderConfirmEmail,
  renderDeleteAccount,
  renderPlcOperation,
  renderResetPassword,
  renderUpdateEmail,
  type EmailContent,
} from './templates.ts';
import { generateEmailToken } from './tokens.ts';

const TOKEN = 'ABCDE-FGH23';

const codeTemplates: Array<{ name: string; subject: string; render: (token: string) => EmailContent }> = [
  { name: 'email confirmation', subject: 'Email Confirmation', render: (token) => renderConfirmEmail({ token }) },
  { name: 'email update', subject: 'Email Update Requested', render: (token) => renderUpdateEmail({ token }) },
  { name: 'password reset', subject: 'Password Reset Requested', render: (token) => renderResetPassword({ token, handle: 'alice.test' }) },
  { name: 'account deletion', subject: 'Account Deletion Requested', render: (token) => renderDeleteAccount({ token }) },
  { name: 'PLC operation', subject: 'PLC Update Operation Requested', render: (token) => renderPlcOperation({ token }) },
];

for (const { name, subject, render } of codeTemplates) {
  test(`the ${name} message has the official subject and shows the code in both parts`, () => {
    const token = generateEmailToken();
    const mail = render(token);
    assert.equal(mail.subject, subject);
    assert.equal(extractToken(mail.text), token);
    // The code stands on its own indented line, easy to spot and to copy.
    assert.ok(mail.text.includes(`\n\n    ${token}\n\n`));
    assert.match(mail.html, new RegExp(`<code style="[^"]*">${token}</code>`));
    assert.match(mail.text, /expires in 15 minutes/);
    assert.match(mail.html, /expires in 15 minutes/);
  });

  test(`the ${name} message's text part has no markup and its html part is a whole document`, () => {
    const mail = render(TOKEN);
    assert.doesNotMatch(mail.text, /<[a-z/!]/i);
    assert.ok(mail.html.startsWith('<!doctype html>'));
    assert.ok(mail.html.trimEnd().endsWith('</html>'));
    assert.ok(mail.html.includes(`<title>${escapeHtml(subject)}</title>`));
  });

  test(`the ${name} message escapes the token it is given in html`, () => {
    const mail = render('<b>&"x\'</b>');
    assert.ok(mail.html.includes('&lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;'));
    assert.ok(!mail.html.includes('<b>'));
  });

  test(`the ${name} message's text lines fit in 72 columns, so the part stays 7-bit`, () => {
    for (const line of render(TOKEN).text.split('\n')) assert.ok(line.length <= 72, line);
  });

  test(`the ${name} message is the same for the same input`, () => {
    assert.deepEqual(render(TOKEN), render(TOKEN));
  });
}

test('the password reset message names the handle, escaped in html', () => {
  const plain = renderResetPassword({ token: TOKEN, handle: 'alice.test' });
  assert.ok(plain.text.includes('@alice.test'));
  assert.ok(plain.html.includes('@alice.test'));
  const hostile = renderResetPassword({ token: TOKEN, handle: '<img src=x onerror=alert(1)>.test' });
  assert.ok(!hostile.html.includes('<img'));
  assert.ok(hostile.html.includes('@&lt;img src=x onerror=alert(1)&gt;.test'));
  const long = renderResetPassword({ token: TOKEN, handle: `${'a'.repeat(80)}.test` });
  assert.ok(long.text.includes(`@${'a'.repeat(80)}.test`), 'a long handle is never split');
});

test('the PLC operation message warns that the code gives control of the account', () => {
  const mail = renderPlcOperation({ token: TOKEN });
  assert.match(mail.text, /do not share this code/);
  assert.match(mail.text, /take control/);
});

test('an admin message keeps its subject and its content as text', () => {
  const mail = renderAdminEmail({ subject: 'Scheduled maintenance', content: 'Hello,\n\nThe server restarts at 02:00 UTC.\nThanks.' });
  assert.equal(mail.subject, 'Scheduled maintenance');
  assert.equal(mail.text, 'Hello,\n\nThe server restarts at 02:00 UTC.\nThanks.');
  assert.ok(mail.html.includes('<p style="margin:0 0 16px;">Hello,</p>'));
  assert.ok(mail.html.includes('<p style="margin:0 0 16px;">The server restarts at 02:00 UTC.<br>\nThanks.</p>'));
});

test('an admin message without a subject gets the official default subject', () => {
  assert.equal(DEFAULT_ADMIN_SUBJECT, 'Message via your PDS');
  assert.equal(renderAdminEmail({ content: 'hi' }).subject, DEFAULT_ADMIN_SUBJECT);
  assert.equal(renderAdminEmail({ content: 'hi', subject: '   ' }).subject, DEFAULT_ADMIN_SUBJECT);
});

test('an admin message never turns its content or subject into markup', () => {
  const mail = renderAdminEmail({ subject: '</title><script>x()</script>', content: '<a href="https://evil.example">click</a> & more' });
  assert.ok(!mail.html.includes('<script>'));
  assert.ok(!mail.html.includes('<a href'));
  assert.ok(mail.html.includes('&lt;a href=&quot;https://evil.example&quot;&gt;click&lt;/a&gt; &amp; more'));
  assert.ok(mail.html.includes('<title>&lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;</title>'));
});

test('an admin message normalizes CRLF line ends in its content', () => {
  const mail = renderAdminEmail({ content: 'one\r\ntwo\r\n\r\nthree' });
  assert.equal(mail.text, 'one\ntwo\n\nthree');
  assert.ok(mail.html.includes('one<br>\ntwo</p>'));
  assert.ok(mail.html.includes('>three</p>'));
});

test('escapeHtml escapes the five characters that matter in text and attributes', () => {
  assert.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;');
  assert.equal(escapeHtml('plain text'), 'plain text');
});
