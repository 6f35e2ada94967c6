import './account-flow-errors.ts';
import type { AppMethod } from './define.ts';
import deleteAccountAsAdmin from './com/atproto/admin/deleteAccount.ts';
import disableAccountInvites from './com/atproto/admin/disableAccountInvites.ts';
import disableInviteCodes from './com/atproto/admin/disableInviteCodes.ts';
import enableAccountInvites from './com/atproto/admin/enableAccountInvites.ts';
import getAccountInfo from './com/atproto/admin/getAccountInfo.ts';
import getAccountInfos from './com/atproto/admin/getAccountInfos.ts';
import getInviteCodes from './com/atproto/admin/getInviteCodes.ts';
import getSubjectStatus from './com/atproto/admin/getSubjectStatus.ts';
import sendEmail from './com/atproto/admin/sendEmail.ts';
import updateAccountEmail from './com/atproto/admin/updateAccountEmail.ts';
import updateAccountHandle from './com/atproto/admin/updateAccountHandle.ts';
import updateAccountPassword from './com/atproto/admin/updateAccountPassword.ts';
import updateSubjectStatus from './com/atproto/admin/updateSubjectStatus.ts';
import activateAccount from './com/atproto/server/activateAccount.ts';
import checkAccountStatus from './com/atproto/server/checkAccountStatus.ts';
import confirmEmail from './com/atproto/server/confirmEmail.ts';
import createInviteCode from './com/atproto/server/createInviteCode.ts';
import createInviteCodes from './com/atproto/server/createInviteCodes.ts';
import deactivateAccount from './com/atproto/server/deactivateAccount.ts';
import deleteAccount from './com/atproto/server/deleteAccount.ts';
import getAccountInviteCodes from './com/atproto/server/getAccountInviteCodes.ts';
import requestAccountDelete from './com/atproto/server/requestAccountDelete.ts';
import requestEmailConfirmation from './com/atproto/server/requestEmailConfirmation.ts';
import requestEmailUpdate from './com/atproto/server/requestEmailUpdate.ts';
import requestPasswordReset from './com/atproto/server/requestPasswordReset.ts';
import reserveSigningKey from './com/atproto/server/reserveSigningKey.ts';
import resetPassword from './com/atproto/server/resetPassword.ts';
import updateEmail from './com/atproto/server/updateEmail.ts';

/**
 * The account methods beyond sessions and sign-up: email flows, account state, invites and the
 * admin methods. Importing this module also registers how their domain errors read over XRPC.
 */
export const accountMethods: readonly AppMethod[] = [
  requestEmailConfirmation,
  confirmEmail,
  requestEmailUpdate,
  updateEmail,
  requestPasswordReset,
  resetPassword,
  checkAccountStatus,
  activateAccount,
  deactivateAccount,
  requestAccountDelete,
  deleteAccount,
  reserveSigningKey,
  createInviteCode,
  createInviteCodes,
  getAccountInviteCodes,
  getAccountInfo,
  getAccountInfos,
  updateAccountHandle,
  updateAccountEmail,
  updateAccountPassword,
  disableInviteCodes,
  getInviteCodes,
  deleteAccountAsAdmin,
  sendEmail,
  updateSubjectStatus,
  getSubjectStatus,
  enableAccountInvites,
  disableAccountInvites,
];
