import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OAuthError } from '../errors.ts';
import { loopbackClient } from '../client/client-metadata.ts';
import { parseClientId } from '../client/client-id.ts';
import { isRegisteredRedirectUri, validateAuthorizationParameters } from './parameters.ts';

const clientId = 'http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&scope=atproto%20transition%3Ageneric';
const client = loopbackClient(clientId, parseClientId(clientId, { allowPort: false }) as never);
const good = {
  client_id: clientId,
  response_type: 'code',
  redirect_uri: 'http://127.0.0.1:51234/callback',
  scope: 'atproto transition:generic',
  state: 's',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
};
const refuses = (input: Record<string, string | undefined>, message: RegExp) =>
  assert.throws(() => validateAuthorizationParameters(input as Record<string, string>, client), (err: unknown) => err instanceof OAuthError && message.test(err.message));

describe('authorization request parameters', () => {
  it('accepts a complete request, matching a loopback redirect URI on any port', () => {
    const params = validateAuthorizationParameters(good, client);
    assert.equal(params.redirect_uri, 'http://127.0.0.1:51234/callback');
    assert.equal(params.response_mode, 'query');
  });

  it('refuses what the atproto profile forbids, saying what', () => {
    refuses({ ...good, response_type: 'token' }, /response_type must be "code"/);
    refuses({ ...good, state: undefined }, /state is required/);
    refuses({ ...good, code_challenge_method: undefined }, /S256/);
    refuses({ ...good, code_challenge: 'short' }, /43 characters/);
    refuses({ ...good, redirect_uri: 'http://127.0.0.1/other' }, /not one of the client's registered redirect_uris/);
    refuses({ ...good, scope: 'transition:generic' }, /must include "atproto"/);
    refuses({ ...good, scope: 'atproto openid' }, /OpenID/);
    refuses({ ...good, prompt: 'create' }, /prompt "create" is not supported/);
    refuses({ ...good, prompt: 'none' }, /silently/);
    refuses({ ...good, request: 'eyJ...' }, /"request" is not supported/);
    refuses({ ...good, client_id: 'http://localhost' }, /does not match/);
  });

  it('drops requested scopes it does not understand rather than fail the sign-in', () => {
    const weird = loopbackClient('http://localhost?scope=atproto%20future%3Athing', parseClientId('http://localhost?scope=atproto%20future%3Athing', { allowPort: false }) as never);
    const params = validateAuthorizationParameters({ ...good, client_id: weird.clientId, redirect_uri: 'http://127.0.0.1/', scope: 'atproto future:thing' }, weird);
    assert.equal(params.scope, 'atproto');
  });

  it('compares redirect URIs exactly, except the port of loopback ones', () => {
    assert.ok(isRegisteredRedirectUri('https://app.example.com/cb', ['https://app.example.com/cb']));
    assert.ok(!isRegisteredRedirectUri('https://app.example.com/cb?x=1', ['https://app.example.com/cb']));
    assert.ok(!isRegisteredRedirectUri('https://app.example.com:444/cb', ['https://app.example.com/cb']));
    assert.ok(isRegisteredRedirectUri('http://[::1]:9999/', ['http://[::1]/']));
    assert.ok(!isRegisteredRedirectUri('http://127.0.0.1:9999/x', ['http://127.0.0.1/']));
  });
});
