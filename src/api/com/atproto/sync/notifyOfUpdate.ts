import { defineMethod } from '../../../define.ts';

/**
 * Accepted for compatibility: this PDS is not a relay and crawls no one, so a notification
 * that another host has new data needs no action.
 */
export default defineMethod({
  nsid: 'com.atproto.sync.notifyOfUpdate',
  auth: 'none',
  maxBodyBytes: 4096,
  handler() {},
});
