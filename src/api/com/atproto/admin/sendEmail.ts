import { AccountFlowError } from '../../../../accounts/flow-errors.ts';
import { renderAdminEmail } from '../../../../email/templates.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.sendEmail',
  auth: 'admin',
  maxBodyBytes: 256 * 1024,
  errors: ['NotFound'],
  async handler({ ctx, input }) {
    const body = input as { recipientDid: string; content: string; subject?: string; senderDid: string; comment?: string };
    const account = ctx.accounts.byDid(body.recipientDid);
    if (!account) throw new AccountFlowError('NotFound', 'Recipient not found');
    if (!account.email) throw new AccountFlowError('InvalidRequest', 'Recipient has no email address');
    await ctx.mailer.send({ to: account.email, ...renderAdminEmail({ content: body.content, subject: body.subject }) });
    // The content stays out of the log; who sent what to whom, and why, goes in.
    ctx.log.info({ recipientDid: body.recipientDid, senderDid: body.senderDid, comment: body.comment }, 'admin email sent');
    return { sent: true };
  },
});
