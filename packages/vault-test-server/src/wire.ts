// Vault's HTTP wire shapes: the response envelope every endpoint shares and the {"errors":[...]} body.
import { randomUUID } from 'node:crypto';

/** What a route handler hands back; the server serialises it. */
export interface VaultReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Thrown by handlers to answer with Vault's error body, e.g. 403 `{"errors":["permission denied"]}`. */
export class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(errors.join('; ') || `HTTP ${status}`);
  }
}

/** Vault's wording for an ACL refusal (a go-multierror list, as real servers send it). */
export const PERMISSION_DENIED = '1 error occurred:\n\t* permission denied\n\n';

export interface EnvelopeFields {
  data?: unknown;
  auth?: unknown;
  leaseId?: string;
  leaseDuration?: number;
  renewable?: boolean;
  warnings?: string[];
  mountType?: string;
}

/** The envelope of a successful logical response (`request_id`, `lease_*`, `data`, `auth`, ...). */
export function envelope(fields: EnvelopeFields): VaultReply {
  return {
    status: 200,
    body: {
      request_id: randomUUID(),
      lease_id: fields.leaseId ?? '',
      renewable: fields.renewable ?? false,
      lease_duration: fields.leaseDuration ?? 0,
      data: fields.data ?? null,
      wrap_info: null,
      warnings: fields.warnings ?? null,
      auth: fields.auth ?? null,
      mount_type: fields.mountType ?? '',
    },
  };
}

export const noContent: VaultReply = { status: 204 };

export function routeNotFound(path: string): VaultHttpError {
  return new VaultHttpError(404, [`no handler for route "${path}". route entry not found.`]);
}

export function badRequest(message: string): VaultHttpError {
  return new VaultHttpError(400, [message]);
}

/** Vault timestamps are RFC 3339 with nanoseconds; milliseconds are close enough for clients. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
