// Auth endpoints: token lookup/renew/revoke, and login for AppRole, JWT/OIDC and Kubernetes mounts.
import { createHash, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { VaultRequest } from './request.js';
import { bodyString } from './request.js';
import type { AuthMount, TokenGrant } from './state.js';
import { PERMISSION_DENIED, VaultHttpError, badRequest, envelope, noContent, routeNotFound, type VaultReply } from './wire.js';

function sameSecret(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function login(req: VaultRequest, grant: TokenGrant, path: string, displayName: string, meta: Record<string, string>): VaultReply {
  const record = req.tokens.issue(req.ns.path, { ...grant, id: undefined, displayName, meta }, path);
  return envelope({ auth: req.tokens.authBlock(record) });
}

/** `auth/token/*` self endpoints; the router has already checked the caller's token. */
export function handleTokenSelf(action: string, req: VaultRequest): VaultReply {
  const token = req.token!;
  if (action === 'lookup-self' && req.op === 'read') return envelope({ data: req.tokens.lookupData(token) });
  if (action === 'renew-self' && (req.op === 'update' || req.op === 'create')) {
    if (!token.renewable) throw badRequest('lease is not renewable');
    const increment = req.body.increment;
    req.tokens.renew(token, typeof increment === 'number' ? increment : undefined);
    return envelope({ auth: req.tokens.authBlock(token) });
  }
  if (action === 'revoke-self' && (req.op === 'update' || req.op === 'create')) {
    req.tokens.revoke(token.id);
    return noContent;
  }
  throw routeNotFound(req.path);
}

async function jwtLogin(mount: Extract<AuthMount, { type: 'jwt' }>, req: VaultRequest): Promise<VaultReply> {
  const roleName = bodyString(req, 'role');
  if (!roleName) throw badRequest('missing role');
  const role = mount.config.roles.find((r) => r.name === roleName);
  if (!role) throw badRequest(`role "${roleName}" could not be found`);
  const jwt = bodyString(req, 'jwt');
  if (!jwt) throw badRequest('missing token');
  let payload: Record<string, unknown>;
  try {
    const key = mount.config.key;
    const options = {
      issuer: mount.config.boundIssuer,
      audience: role.boundAudiences,
      subject: role.boundSubject,
      currentDate: new Date(req.now()),
    };
    // jose rejects `alg: none` and any algorithm the key cannot verify.
    ({ payload } = typeof key === 'function' ? await jwtVerify(jwt, key, options) : await jwtVerify(jwt, key, options));
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) {
      throw badRequest('error validating signature: failed to verify id token signature');
    }
    if (err instanceof joseErrors.JOSEError) throw badRequest(`error validating claims: ${err.message}`);
    throw badRequest('error validating token: malformed JWT');
  }
  const userClaim = role.userClaim ?? 'sub';
  const user = payload[userClaim];
  if (typeof user !== 'string') throw badRequest(`claim "${userClaim}" not found in token`);
  return login(req, role, `${mount.path}/login`, `${mount.path.slice(5)}-${user}`, { role: role.name });
}

/** `auth/<mount>/login` for the auth methods the server knows. */
export async function handleLogin(mount: AuthMount, req: VaultRequest): Promise<VaultReply> {
  if (req.op !== 'create' && req.op !== 'update') throw routeNotFound(req.path);
  const path = `${mount.path}/login`;
  if (mount.type === 'approle') {
    const roleId = bodyString(req, 'role_id');
    if (!roleId) throw badRequest('missing role_id');
    const secretId = bodyString(req, 'secret_id') ?? '';
    const role = mount.roles.find((r) => sameSecret(r.roleId, roleId));
    if (!role || !sameSecret(role.secretId, secretId)) throw badRequest('invalid role or secret ID');
    return login(req, role, path, mount.path.slice(5), { role_name: role.name });
  }
  if (mount.type === 'kubernetes') {
    const roleName = bodyString(req, 'role');
    if (!roleName) throw badRequest('missing role');
    const role = mount.roles.find((r) => r.name === roleName);
    if (!role) throw badRequest(`invalid role name "${roleName}"`);
    const jwt = bodyString(req, 'jwt');
    if (!jwt) throw badRequest('missing jwt');
    // Vault forwards the JWT to Kubernetes' TokenReview; a rejected review reads as permission denied.
    if (!sameSecret(role.serviceAccountJwt, jwt)) throw new VaultHttpError(403, [PERMISSION_DENIED]);
    return login(req, role, path, `${mount.path.slice(5)}-${role.name}`, { role: role.name });
  }
  return jwtLogin(mount, req);
}
