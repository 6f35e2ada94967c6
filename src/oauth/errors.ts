// OAuth's own error vocabulary (RFC 6749 §5.2, RFC 9449, RFC 9126). The OAuth endpoints answer
// `{ "error", "error_description" }` with these codes; the XRPC layer maps the few that reach it
// (resource requests) to its own JSON. Nothing here knows about HTTP beyond the status.

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_client_metadata'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_redirect_uri'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'invalid_token'
  | 'access_denied'
  | 'login_required'
  | 'consent_required'
  | 'account_selection_required'
  | 'temporarily_unavailable'
  | 'server_error';

export class OAuthError extends Error {
  override name = 'OAuthError';
  constructor(
    readonly code: OAuthErrorCode,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}

/** A client's metadata document is unusable: the message names the field and why. */
export class InvalidClientMetadataError extends OAuthError {
  constructor(message: string) {
    super('invalid_client_metadata', message);
  }
}
