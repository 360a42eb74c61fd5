// Extra token-request parameters shared by every grant: scope, resource (RFC 8707), audience.
export interface TokenParameterOptions {
  resource?: string;
  audience?: string;
}

export function tokenParameters(o: TokenParameterOptions, scope?: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  if (scope && scope.length > 0) params.scope = scope.join(' ');
  if (o.resource !== undefined) params.resource = o.resource;
  if (o.audience !== undefined) params.audience = o.audience;
  return params;
}
