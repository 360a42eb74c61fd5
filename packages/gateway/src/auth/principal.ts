// Who made a request, as established by authentication: never the token itself.

export interface Principal {
  user: string;
  team: string;
  /** The JWT's jti (or iss+sub+iat when absent) or the API key id: what audit records, never the token. */
  credentialId: string;
  kind: 'jwt' | 'api-key';
}
