import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.describeServer',
  auth: 'none',
  handler({ ctx }) {
    const { service } = ctx.config;
    const links: Record<string, string> = {};
    if (service.privacyPolicyUrl) links.privacyPolicy = service.privacyPolicyUrl;
    if (service.termsOfServiceUrl) links.termsOfService = service.termsOfServiceUrl;
    return {
      did: service.did,
      availableUserDomains: service.handleDomains,
      inviteCodeRequired: service.inviteRequired,
      phoneVerificationRequired: false,
      links,
      contact: service.contactEmail ? { email: service.contactEmail } : {},
    };
  },
});
