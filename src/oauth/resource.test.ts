import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { DpopNonces } from './dpop/nonces.ts';
import { DpopVerifier } from './dpop/proof.ts';
import { MemoryReplayStore } from './replay.ts';
import { ResourceVerifier } from './resource.ts';
import { AccessTokens } from './token/access-token.ts';

function verifierFor(publicOrigin: string): ResourceVerifier {
  const secret = Buffer.alloc(32, 3);
  return new ResourceVerifier({
    accessTokens: new AccessTokens(secret, publicOrigin, 'did:web:pds.example.com'),
    dpop: new DpopVerifier(new DpopNonces(secret), new MemoryReplayStore()),
    sessions: { readActiveSession: () => undefined },
    publicOrigin,
  });
}

const request = (url: string) => ({ method: 'GET', url, headers: {} }) as unknown as IncomingMessage;

describe('the htu a resource request must be proven for', () => {
  it('is the public origin and the path, without the query', () => {
    assert.equal(verifierFor('https://pds.example.com').htuOf(request('/xrpc/com.atproto.repo.getRecord?repo=x')), 'https://pds.example.com/xrpc/com.atproto.repo.getRecord');
  });

  it('is the normalized URL for a path with dot segments or escapes, and for an origin written unusually', () => {
    assert.equal(verifierFor('https://pds.example.com').htuOf(request('/xrpc/../xrpc/./com.atproto.server.getSession')), 'https://pds.example.com/xrpc/com.atproto.server.getSession');
    assert.equal(verifierFor('https://pds.example.com').htuOf(request('/xrpc/a%2Fb c')), 'https://pds.example.com/xrpc/a%2Fb%20c');
    assert.equal(verifierFor('HTTPS://PDS.example.com:443').htuOf(request('/xrpc/com.atproto.server.getSession')), 'https://pds.example.com/xrpc/com.atproto.server.getSession');
  });
});
