// A dynamic secrets engine shaped like Vault's database engine: `creds/<role>` returns a fresh lease.
import { randomBytes } from 'node:crypto';
import type { VaultRequest } from './request.js';
import type { DynamicMount } from './state.js';
import { badRequest, envelope, routeNotFound, type VaultReply } from './wire.js';

export function handleDynamic(mount: DynamicMount, rest: string, req: VaultRequest): VaultReply {
  const [area, roleName, extra] = rest.split('/');
  if (area !== 'creds' || !roleName || extra !== undefined || req.op !== 'read') throw routeNotFound(req.path);
  const role = mount.roles.get(roleName);
  if (!role) throw badRequest(`unknown role: ${roleName}`);
  return envelope({
    data: role.generate(),
    leaseId: `${mount.path}/creds/${roleName}/${randomBytes(12).toString('base64url')}`,
    leaseDuration: role.ttl,
    renewable: role.renewable,
  });
}
