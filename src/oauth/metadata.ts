// The two metadata documents (atproto OAuth, "Server Metadata"). This PDS is its own
// authorization server, so both name the one origin the operator configured (PDS_PUBLIC_URL),
// whatever Host a request arrived with: on a handle subdomain too.
import { SUPPORTED_JWS_ALGS } from './jose/jws.ts';

export const SUPPORTED_SCOPES = ['atproto', 'transition:generic', 'transition:chat.bsky', 'transition:email'];

export function authorizationServerMetadata(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    require_pushed_authorization_requests: true,
    require_request_uri_registration: true,
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...SUPPORTED_JWS_ALGS],
    revocation_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    revocation_endpoint_auth_signing_alg_values_supported: [...SUPPORTED_JWS_ALGS],
    dpop_signing_alg_values_supported: [...SUPPORTED_JWS_ALGS],
    scopes_supported: SUPPORTED_SCOPES,
    subject_types_supported: ['public'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    protected_resources: [issuer],
  };
}

export function protectedResourceMetadata(issuer: string) {
  return {
    resource: issuer,
    authorization_servers: [issuer],
    scopes_supported: [],
    bearer_methods_supported: ['header'],
    resource_documentation: 'https://atproto.com',
  };
}
