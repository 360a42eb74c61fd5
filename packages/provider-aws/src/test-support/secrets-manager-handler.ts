// Secrets Manager GetSecretValue over the AWS JSON 1.1 protocol, as the test server answers it.
//
// Wire format (AWS docs, "AWS JSON 1.1 protocol"): POST / with `X-Amz-Target: secretsmanager.<Op>` and
// `Content-Type: application/x-amz-json-1.1`; errors are HTTP 4xx/5xx with a JSON body carrying
// `__type` and a message, plus the `x-amzn-ErrorType` header.
import { randomUUID } from 'node:crypto';

/** One version of a fixture secret: a string or raw bytes, and its staging labels. */
export interface SecretVersionFixture {
  versionId: string;
  stages: string[];
  string?: string;
  binary?: Uint8Array;
  createdDate?: Date;
}

/** A fixture secret, or a name that answers with a scripted service error. */
export type SecretFixture =
  | { name: string; versions: SecretVersionFixture[]; /** Secrets are regional: set to exist only in this region. */ region?: string }
  | { name: string; error: 'AccessDeniedException' | 'DecryptionFailure' | 'InternalServiceError' | 'InvalidRequestException' | 'InvalidParameterException' };

export interface JsonReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const ACCOUNT = '123456789012';

/** Documented messages for the errors the fixture can raise; none carries secret material. */
const ERROR_TEXT: Record<string, { status: number; message: string }> = {
  ResourceNotFoundException: { status: 400, message: "Secrets Manager can't find the specified secret." },
  AccessDeniedException: { status: 400, message: 'User is not authorized to perform: secretsmanager:GetSecretValue because no identity-based policy allows the secretsmanager:GetSecretValue action' },
  DecryptionFailure: { status: 400, message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key." },
  InternalServiceError: { status: 500, message: 'An error occurred on the server side.' },
  InvalidRequestException: { status: 400, message: "You can't perform this operation on the secret because it was marked for deletion." },
  InvalidParameterException: { status: 400, message: 'You provided an invalid value for a parameter.' },
  UnrecognizedClientException: { status: 400, message: 'The security token included in the request is invalid.' },
  InvalidSignatureException: { status: 400, message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.' },
  ExpiredTokenException: { status: 400, message: 'The security token included in the request is expired' },
  MissingAuthenticationTokenException: { status: 400, message: 'Missing Authentication Token' },
  UnknownOperationException: { status: 400, message: 'The requested operation is not recognized by the service.' },
  SerializationException: { status: 400, message: 'Start of structure or map found where not expected.' },
};

export function jsonError(type: keyof typeof ERROR_TEXT, message?: string): JsonReply {
  const known = ERROR_TEXT[type]!;
  return {
    status: known.status,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.secrets/`,
      'x-amzn-requestid': randomUUID(),
    },
    body: JSON.stringify({ __type: type, Message: message ?? known.message }),
  };
}

function ok(payload: unknown): JsonReply {
  return {
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(payload),
  };
}

/** Answers one Secrets Manager JSON request (signature already checked by the caller). */
export function handleSecretsManager(
  target: string | undefined,
  contentType: string | undefined,
  body: Buffer,
  secrets: ReadonlyMap<string, SecretFixture>,
  region: string,
  callerArn = `arn:aws:iam::${ACCOUNT}:user/test`,
): JsonReply {
  if (target !== 'secretsmanager.GetSecretValue') return jsonError('UnknownOperationException');
  if (contentType !== 'application/x-amz-json-1.1') return jsonError('SerializationException', 'Unexpected content type');
  let input: { SecretId?: unknown; VersionId?: unknown; VersionStage?: unknown };
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    return jsonError('SerializationException');
  }
  if (typeof input.SecretId !== 'string' || input.SecretId.length === 0 || input.SecretId.length > 2048) {
    return jsonError('InvalidParameterException', 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
  }
  const name = input.SecretId.startsWith('arn:') ? input.SecretId.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') ?? '' : input.SecretId;
  const secret = secrets.get(name);
  // A secret exists in one region; asked elsewhere, Secrets Manager cannot find it (the docs'
  // "Secrets Manager can't find the specified secret" for GetSecretValue's ResourceNotFoundException).
  if (!secret || ('region' in secret && secret.region && secret.region !== region)) return jsonError('ResourceNotFoundException');
  if ('error' in secret) {
    // An implicit deny names the caller, the action and the resource, in the form of IAM's
    // "Troubleshoot access denied error messages" (docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
    if (secret.error === 'AccessDeniedException') {
      return jsonError('AccessDeniedException', `User: ${callerArn} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${input.SecretId} because no identity-based policy allows the secretsmanager:GetSecretValue action`);
    }
    return jsonError(secret.error);
  }

  const wantedId = typeof input.VersionId === 'string' ? input.VersionId : undefined;
  const wantedStage = typeof input.VersionStage === 'string' ? input.VersionStage : wantedId ? undefined : 'AWSCURRENT';
  const version = secret.versions.find(
    (v) => (wantedId === undefined || v.versionId === wantedId) && (wantedStage === undefined || v.stages.includes(wantedStage)),
  );
  if (!version) {
    const what = wantedStage !== undefined ? `staging label: ${wantedStage}` : `VersionId: ${wantedId}`;
    return jsonError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${what}`);
  }
  return ok({
    ARN: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${secret.name}-AbCdEf`,
    Name: secret.name,
    VersionId: version.versionId,
    ...(version.string !== undefined ? { SecretString: version.string } : {}),
    ...(version.binary !== undefined ? { SecretBinary: Buffer.from(version.binary).toString('base64') } : {}),
    VersionStages: version.stages,
    CreatedDate: (version.createdDate ?? new Date(Date.UTC(2026, 0, 1))).getTime() / 1000,
  });
}
