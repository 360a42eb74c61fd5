// The exact `claude-key oidc login ...` line a user should run when no session is usable.
import { DEFAULT_USER_SCOPE, scopeList } from './options.js';

export interface LoginHintOptions {
  issuer: string;
  clientId: string;
  scope?: readonly string[];
  storage: string;
  allowInsecureRequests: boolean;
}

export function loginCommandLine(o: LoginHintOptions): string {
  const parts = ['claude-key oidc login', `--issuer ${o.issuer}`, `--client-id ${quote(o.clientId)}`];
  const scope = scopeList(o.scope, DEFAULT_USER_SCOPE);
  if (scope.join(' ') !== DEFAULT_USER_SCOPE.join(' ')) parts.push(`--scope ${quote(scope.join(' '))}`);
  if (o.storage !== 'auto') parts.push(`--storage ${o.storage}`);
  if (o.allowInsecureRequests) parts.push('--allow-insecure-requests');
  return parts.join(' ');
}

function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
