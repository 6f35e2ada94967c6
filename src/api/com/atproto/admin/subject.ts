import { AccountFlowError } from '../../../../accounts/flow-errors.ts';

export const REPO_REF = 'com.atproto.admin.defs#repoRef';

/**
 * The account a moderation subject names. Accounts are the subjects this server acts on;
 * record and blob subjects are refused rather than acknowledged and ignored.
 */
export function subjectAccount(subject: { $type?: string; did?: string }): string {
  if (subject.$type !== REPO_REF || typeof subject.did !== 'string') {
    throw new AccountFlowError('InvalidRequest', 'Only account subjects (com.atproto.admin.defs#repoRef) are supported');
  }
  return subject.did;
}
