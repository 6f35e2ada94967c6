import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { InvalidClientMetadataError } from '../errors.ts';
import { parseClientId } from './client-id.ts';
import { validateClientMetadata } from './client-metadata.ts';

const ID = 'https://app.example.com/oauth-client-metadata.json';
const rules = { allowPort: false };
const base = {
  client_id: ID,
  client_name: 'Example',
  application_type: 'web',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  scope: 'atproto transition:generic',
  redirect_uris: ['https://app.example.com/callback'],
  token_endpoint_auth_method: 'none',
  dpop_bound_access_tokens: true,
};
const validate = (doc: Record<string, unknown>) => validateClientMetadata(ID, new URL(ID), doc, rules);
const refuses = (doc: Record<string, unknown>, message: RegExp) =>
  assert.throws(() => validate(doc), (err: unknown) => err instanceof InvalidClientMetadataError && message.test(err.message), JSON.stringify(doc));

describe('client ids', () => {
  it('takes https URLs with a path, and http://localhost development ids', () => {
    assert.equal(parseClientId(ID, rules).kind, 'discoverable');
    const dev = parseClientId('http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcb&scope=atproto%20transition%3Ageneric', rules);
    assert.deepEqual(dev, { kind: 'loopback', redirectUris: ['http://127.0.0.1:8080/cb'], scope: 'atproto transition:generic' });
    assert.deepEqual(parseClientId('http://localhost', rules), { kind: 'loopback', redirectUris: ['http://127.0.0.1/', 'http://[::1]/'], scope: 'atproto' });
  });

  it('says why a client id is refused', () => {
    const cases: Array<[string, RegExp]> = [
      ['http://app.example.com/meta.json', /https URL/],
      ['https://app.example.com/', /must have a path/],
      ['https://app.example.com/meta/', /must not end with a slash/],
      ['https://app.example.com:8443/meta.json', /must not contain a port/],
      ['https://127.0.0.1/meta.json', /not an IP address/],
      ['https://intranet/meta.json', /public domain name/],
      ['https://app.example.com/meta.json#x', /fragment/],
      ['https://user:pw@app.example.com/meta.json', /credentials/],
      ['https://app.example.com/a/../meta.json', /canonical form/],
      ['http://localhost:3000', /no port and no path/],
      ['http://localhost/cb', /no port and no path/],
      ['http://localhost?redirect_uri=https%3A%2F%2Fevil.example.com%2F', /must use http/],
      ['http://localhost?redirect_uri=http%3A%2F%2Flocalhost%2Fcb', /127\.0\.0\.1 or \[::1\]/],
      ['http://localhost?scope=transition%3Ageneric', /without "atproto"/],
      ['http://localhost?client_name=x', /unknown query parameter "client_name"/],
    ];
    for (const [id, message] of cases) assert.throws(() => parseClientId(id, rules), (err: unknown) => err instanceof InvalidClientMetadataError && message.test(err.message), id);
  });

  it('allows a port in development mode only', () => {
    assert.equal(parseClientId('https://client.squall.test:8443/meta.json', { allowPort: true }).kind, 'discoverable');
  });
});

describe('client metadata documents', () => {
  it('accepts a public web client and keeps scopes it does not know', () => {
    const client = validate({ ...base, scope: 'atproto transition:generic future:thing' });
    assert.equal(client.authMethod, 'none');
    assert.ok(client.scopes.has('future:thing'));
    assert.equal(client.name, 'Example');
  });

  it('names the field and the reason for every refusal', () => {
    refuses({ ...base, client_id: 'https://other.example.com/meta.json' }, /"client_id" must be exactly the URL/);
    refuses({ ...base, application_type: 'desktop' }, /"application_type" must be "web" or "native"/);
    refuses({ ...base, grant_types: ['implicit', 'authorization_code'] }, /"grant_types" has "implicit"/);
    refuses({ ...base, grant_types: ['refresh_token'] }, /"grant_types" must include "authorization_code"/);
    refuses({ ...base, response_types: ['token'] }, /"response_types" must include "code"/);
    refuses({ ...base, scope: 'transition:generic' }, /"scope" must include "atproto"/);
    refuses({ ...base, scope: undefined }, /"scope" is required/);
    refuses({ ...base, scope: 'atproto atproto' }, /lists "atproto" twice/);
    refuses({ ...base, dpop_bound_access_tokens: false }, /"dpop_bound_access_tokens" must be true/);
    refuses({ ...base, redirect_uris: [] }, /"redirect_uris" must be a non-empty array/);
    refuses({ ...base, redirect_uris: ['http://app.example.com/cb'] }, /"redirect_uris"\[0\] .* uses http/);
    refuses({ ...base, redirect_uris: ['http://127.0.0.1/cb'] }, /only native apps/);
    refuses({ ...base, redirect_uris: ['https://localhost/cb'] }, /use the loopback address/);
    refuses({ ...base, redirect_uris: ['com.example.app:/cb'] }, /only native apps may use/);
    refuses({ ...base, application_type: 'native', redirect_uris: ['com.evil.app:/cb'] }, /must use the scheme "com.example.app:"/);
    refuses({ ...base, application_type: 'native', redirect_uris: ['https://elsewhere.example.net/cb'] }, /client_id's origin/);
    refuses({ ...base, token_endpoint_auth_method: 'client_secret_basic' }, /"token_endpoint_auth_method" "client_secret_basic" is not supported/);
    refuses({ ...base, token_endpoint_auth_signing_alg: 'ES256' }, /must not be set when "token_endpoint_auth_method" is "none"/);
    refuses({ ...base, client_uri: 'https://evil.example.net/' }, /"client_uri" must be on the same host/);
    refuses({ ...base, logo_uri: 'http://app.example.com/logo.png' }, /"logo_uri" .* must be an https URL/);
    refuses({ ...base, client_name: 42 }, /"client_name" must be a string/);
  });

  it('accepts native apps with their own scheme, loopback or same-origin https redirects', () => {
    const client = validate({ ...base, application_type: 'native', redirect_uris: ['com.example.app:/callback', 'http://127.0.0.1/cb', 'https://app.example.com/cb'] });
    assert.equal(client.applicationType, 'native');
  });

  it('requires confidential clients to name their algorithm and publish keys, in jwks or jwks_uri but not both', async () => {
    const { publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1' };
    const confidential = { ...base, token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256' };
    const client = validate({ ...confidential, jwks: { keys: [jwk] } });
    assert.equal(client.authMethod, 'private_key_jwt');
    assert.equal(client.jwks?.[0].kid, 'k1');
    assert.equal(validate({ ...confidential, jwks_uri: 'https://app.example.com/jwks.json' }).jwksUri, 'https://app.example.com/jwks.json');
    refuses({ ...confidential, token_endpoint_auth_signing_alg: undefined, jwks: { keys: [jwk] } }, /"token_endpoint_auth_signing_alg" is required/);
    refuses({ ...confidential, token_endpoint_auth_signing_alg: 'none', jwks: { keys: [jwk] } }, /must be one of/);
    refuses(confidential, /"jwks" or "jwks_uri" is required/);
    refuses({ ...confidential, jwks: { keys: [jwk] }, jwks_uri: 'https://app.example.com/jwks.json' }, /mutually exclusive/);
    refuses({ ...confidential, jwks: { keys: [] } }, /at least one key/);
    refuses({ ...confidential, jwks: { keys: [{ kty: 'oct', k: 'AAAA' }] } }, /"jwks".keys\[0\] the jwk must be a public key/);
    refuses({ ...confidential, jwks_uri: 'http://app.example.com/jwks.json' }, /"jwks_uri" .* must be an https URL/);
    refuses({ ...confidential, application_type: 'native', jwks: { keys: [jwk] } }, /must be "none" for native apps/);
  });
});
