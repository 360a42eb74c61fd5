// Who made a request, as established by authentication: never the token itself.

export interface Principal {
  /** The trust source that vouched for the caller: the token's issuer, or `api-key`. */
  source: string;
  /** Who that source says the caller is; (source, subject) is the identity, never subject alone. */
  subject: string;
  user: string;
  team: string;
  /** The JWT's jti (or iss+sub+iat when absent) or the API key id: what audit records, never the token. */
  credentialId: string;
  kind: 'jwt' | 'api-key';
  /** Groups an OpenID Provider asserted (for admin rules); none from other sources. */
  groups?: string[];
  /** The enrolled key (RFC 7638 thumbprint) that signed the token. */
  keyId?: string;
}
