import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { DpopNonces } from '../oauth/dpop/nonces.ts';
import { DpopVerifier } from '../oauth/dpop/proof.ts';
import { MemoryReplayStore } from '../oauth/replay.ts';
import { ResourceVerifier } from '../oauth/resource.ts';
import { AccessTokens } from '../oauth/token/access-token.ts';
import { XrpcError, type RequestInfo } from '../xrpc/index.ts';
import { createOAuthAccessVerifier } from './oauth-access.ts';

const ORIGIN = 'https://pds.example.com';
const PATH = '/xrpc/com.atproto.server.getSession';

/** A real resource verifier whose memory of used proofs holds `capacity` values (a tenth per key). */
function setup(capacity: number) {
  const secret = Buffer.alloc(32, 5);
  const nonces = new DpopNonces(secret);
  const accessTokens = new AccessTokens(secret, ORIGIN, 'did:web:pds.example.com');
  const resource = new ResourceVerifier({ accessTokens, dpop: new DpopVerifier(nonces, new MemoryReplayStore(capacity)), sessions: { readActiveSession: () => undefined }, publicOrigin: ORIGIN });
  const verifier = createOAuthAccessVerifier({ resource, accessTokens, accounts: { stateByDid: () => undefined } });
  const client = async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    const { token } = accessTokens.issue({ sub: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', client_id: 'https://app.example.com/client-metadata.json', scope: 'atproto', sid: 'session-1', jkt: await jose.calculateJwkThumbprint(jwk) });
    const ath = (await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).slice(0);
    const request = async (): Promise<RequestInfo> => {
      const proof = await new jose.SignJWT({ htm: 'GET', htu: `${ORIGIN}${PATH}`, jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000), nonce: nonces.current(), ath: Buffer.from(ath).toString('base64url') })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(privateKey);
      return { req: { method: 'GET', url: PATH, headers: { dpop: proof } } as unknown as IncomingMessage } as RequestInfo;
    };
    return { token, request };
  };
  return { verifier, client };
}

async function statusOf(promise: Promise<unknown>): Promise<[number, string]> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof XrpcError) return [err.status, err.error];
    throw err;
  }
  return [200, 'ok'];
}

describe('OAuth access at the XRPC surface when the memory of used DPoP proofs runs out', () => {
  it('answers 429 to the key that used up its share, while another key still gets through to its token check', async () => {
    const { verifier, client } = setup(20);
    const [flood, quiet] = [await client(), await client()];
    // The session behind these tokens does not exist: a proof that passes ends in 401 invalid_token.
    for (let i = 0; i < 2; i++) assert.deepEqual(await statusOf(verifier.verify(await flood.request(), flood.token)), [401, 'invalid_token']);
    assert.deepEqual(await statusOf(verifier.verify(await flood.request(), flood.token)), [429, 'RateLimitExceeded']);
    assert.deepEqual(await statusOf(verifier.verify(await quiet.request(), quiet.token)), [401, 'invalid_token']);
  });

  it('answers 503 NotEnoughResources, not 500, when the whole memory is full', async () => {
    const { verifier, client } = setup(3);
    const clients = [await client(), await client(), await client(), await client()];
    for (const c of clients.slice(0, 3)) assert.deepEqual(await statusOf(verifier.verify(await c.request(), c.token)), [401, 'invalid_token']);
    assert.deepEqual(await statusOf(verifier.verify(await clients[3].request(), clients[3].token)), [503, 'NotEnoughResources']);
  });
});
