// Which scopes an authorization request gets to ask for: a subset of what its client's metadata
// declares, `atproto` always among them. Scope values this server does not understand (a newer
// spec's permission, a typo) are dropped rather than refused, as the official server does: the
// client still signs in, and simply does not get what nobody here could have shown the user.
import { isAtprotoOauthScope } from '@atproto/oauth-scopes';
import type { OAuthClient } from '../client/client-metadata.ts';
import { OAuthError } from '../errors.ts';

const MAX_SCOPE_LENGTH = 8192;

export function selectRequestedScopes(requested: string | undefined, client: OAuthClient): string[] {
  if (requested !== undefined && requested.length > MAX_SCOPE_LENGTH) throw new OAuthError('invalid_scope', 'scope is too long');
  const values = requested === undefined ? [...client.scopes] : requested.split(' ').filter((s) => s !== '');
  const unique = [...new Set(values)];
  if (!unique.includes('atproto')) throw new OAuthError('invalid_scope', 'scope must include "atproto"');
  if (unique.includes('openid')) throw new OAuthError('invalid_scope', 'OpenID Connect is not supported by atproto OAuth ("openid" scope)');
  for (const scope of unique) {
    if (!client.scopes.has(scope)) {
      throw new OAuthError('invalid_scope', `scope "${scope}" is not declared in the client metadata's "scope" (${[...client.scopes].join(' ')})`);
    }
  }
  return unique.filter((scope) => isAtprotoOauthScope(scope));
}
