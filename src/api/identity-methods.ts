import './identity-errors.ts';
import type { AppMethod } from './define.ts';
import getRecommendedDidCredentials from './com/atproto/identity/getRecommendedDidCredentials.ts';
import requestPlcOperationSignature from './com/atproto/identity/requestPlcOperationSignature.ts';
import resolveHandle from './com/atproto/identity/resolveHandle.ts';
import signPlcOperation from './com/atproto/identity/signPlcOperation.ts';
import submitPlcOperation from './com/atproto/identity/submitPlcOperation.ts';
import updateHandle from './com/atproto/identity/updateHandle.ts';
import getServiceAuth from './com/atproto/server/getServiceAuth.ts';

/** The identity methods of issue 5 (handles, PLC operations, service auth), for the registry. */
export const identityMethods: readonly AppMethod[] = [
  resolveHandle,
  updateHandle,
  getRecommendedDidCredentials,
  requestPlcOperationSignature,
  signPlcOperation,
  submitPlcOperation,
  getServiceAuth,
];
