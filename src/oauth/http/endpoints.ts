// The OAuth endpoints clients call directly (CORS allowed, JSON answers): metadata, pushed
// authorization requests, tokens, revocation. DPoP is required on PAR and token requests; its
// `htu` is the public URL of the endpoint.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientAuth } from '../client/client-auth.ts';
import type { OAuthClient } from '../client/client-metadata.ts';
import { DpopError, type DpopProof } from '../dpop/proof.ts';
import { OAuthError } from '../errors.ts';
import type { OAuthProvider } from '../provider.ts';
import { readParams, sendOAuthJson } from './io.ts';

interface Authenticated {
  params: Record<string, string>;
  client: OAuthClient;
  clientAuth: ClientAuth;
  proof: DpopProof | undefined;
}

async function authenticate(
  oauth: OAuthProvider,
  req: IncomingMessage,
  path: string,
  dpopRequired: boolean,
  onRefused?: (client: OAuthClient, params: Record<string, string>) => Promise<void>,
): Promise<Authenticated> {
  const params = await readParams(req);
  let proof: DpopProof | undefined;
  try {
    proof = await oauth.dpop.verify(req.headers.dpop, { htm: 'POST', htu: `${oauth.issuer}${path}` });
  } catch (err) {
    if (err instanceof DpopError) throw new OAuthError(err.code, err.message);
    throw err;
  }
  if (proof === undefined && dpopRequired) throw new OAuthError('invalid_dpop_proof', 'DPoP proof required (atproto OAuth binds every token to a DPoP key)');
  if (params.client_id === undefined) throw new OAuthError('invalid_request', 'client_id is required');
  const client = await oauth.clients.get(params.client_id);
  let clientAuth: ClientAuth;
  try {
    clientAuth = await oauth.clientAuth.authenticate(client, params);
  } catch (err) {
    if (err instanceof OAuthError && err.code === 'invalid_client' && onRefused) await onRefused(client, params);
    throw err;
  }
  return { params, client, clientAuth, proof };
}

export async function handlePar(oauth: OAuthProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { params, client, clientAuth, proof } = await authenticate(oauth, req, '/oauth/par', true);
  const result = await oauth.requests.push(client, clientAuth, proof!.jkt, params);
  sendOAuthJson(res, 201, result);
}

export async function handleToken(oauth: OAuthProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // A confidential client whose session key has left its metadata loses the session (atproto OAuth).
  const onRefused = async (client: OAuthClient, params: Record<string, string>) => {
    if (params.grant_type !== 'refresh_token') return;
    // Keys that cannot be fetched right now prove nothing: the session stays until they can.
    const keys = await oauth.clients.keys(client).catch(() => undefined);
    if (keys !== undefined) await oauth.tokens.revokeIfClientKeyRemoved(client, params.refresh_token, keys);
  };
  const { params, client, clientAuth, proof } = await authenticate(oauth, req, '/oauth/token', true, onRefused);
  const grant = { client, clientAuth, dpopJkt: proof!.jkt };
  switch (params.grant_type) {
    case 'authorization_code':
      return sendOAuthJson(res, 200, await oauth.tokens.exchangeCode(grant, params));
    case 'refresh_token':
      return sendOAuthJson(res, 200, await oauth.tokens.refresh(grant, params));
    case undefined:
      throw new OAuthError('invalid_request', 'grant_type is required');
    default:
      throw new OAuthError('unsupported_grant_type', `grant_type "${params.grant_type.slice(0, 64)}" is not supported (authorization_code, refresh_token)`);
  }
}

export async function handleRevoke(oauth: OAuthProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { params, client } = await authenticate(oauth, req, '/oauth/revoke', false);
  await oauth.tokens.revoke(client, params.token);
  sendOAuthJson(res, 200, {});
}
