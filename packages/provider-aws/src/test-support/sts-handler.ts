// AWS STS over the query protocol (form-encoded Action=..., XML answers), as the test server answers it.
//
// Wire format (STS API reference): POST / with `Content-Type: application/x-www-form-urlencoded` and
// `Action=AssumeRole&Version=2011-06-15&...`; answers `<XResponse><XResult>...</XResult>
// <ResponseMetadata>...` and errors `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { KnownKey } from './sigv4-verifier.js';

/** A role the test server lets callers assume. */
export interface RoleFixture {
  arn: string;
  /** When set, AssumeRole must present this ExternalId. */
  externalId?: string;
  /** Web identity tokens AssumeRoleWithWebIdentity accepts for this role. */
  webIdentityTokens?: string[];
  /** When true, every AssumeRole call on this role is refused with AccessDenied. */
  deny?: boolean;
}

export interface XmlReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const ACCOUNT = '123456789012';

const ERRORS: Record<string, { status: number; message: string }> = {
  SignatureDoesNotMatch: { status: 403, message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.' },
  InvalidClientTokenId: { status: 403, message: 'The security token included in the request is invalid.' },
  ExpiredToken: { status: 403, message: 'The security token included in the request is expired' },
  MissingAuthenticationToken: { status: 403, message: 'Request is missing Authentication Token' },
  AccessDenied: { status: 403, message: 'User is not authorized to perform: sts:AssumeRole' },
  InvalidIdentityToken: { status: 400, message: 'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.' },
  ValidationError: { status: 400, message: '1 validation error detected' },
  InvalidAction: { status: 400, message: 'Could not find operation for version 2011-06-15' },
};

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function stsError(code: keyof typeof ERRORS, message?: string): XmlReply {
  const known = ERRORS[code]!;
  const type = known.status >= 500 ? 'Receiver' : 'Sender';
  return {
    status: known.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() },
    body:
      `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${code}</Code>` +
      `<Message>${escapeXml(message ?? known.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

function stsOk(action: string, result: string): XmlReply {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() },
    body:
      `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** STS's ISO 8601 form: whole seconds, `Z`. */
const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export interface StsState {
  keys: Map<string, KnownKey>;
  roles: ReadonlyMap<string, RoleFixture>;
  now: () => number;
}

/** Mints temporary credentials and registers them so later signed calls with them verify. */
function issue(state: StsState, arn: string, seconds: number): string {
  const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64');
  const sessionToken = randomBytes(48).toString('base64');
  state.keys.set(accessKeyId, { secretAccessKey, sessionToken, arn });
  return (
    `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${escapeXml(secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${escapeXml(sessionToken)}</SessionToken><Expiration>${isoSeconds(state.now() + seconds * 1000)}</Expiration></Credentials>`
  );
}

function duration(params: URLSearchParams, fallback: number, max: number): number | XmlReply {
  const raw = params.get('DurationSeconds');
  if (raw === null) return fallback;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 900) {
    return stsError('ValidationError', `1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`);
  }
  if (seconds > max) {
    return stsError('ValidationError', `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`);
  }
  return seconds;
}

function assumedRoleArn(roleArn: string, session: string): string {
  return `arn:aws:sts::${ACCOUNT}:assumed-role/${roleArn.split('/').pop()}/${session}`;
}

/** Actions STS serves without a signature. */
export const UNSIGNED_STS_ACTIONS = new Set(['AssumeRoleWithWebIdentity']);

/**
 * Answers one STS query request. `caller` is the verified access key for signed actions and
 * undefined for AssumeRoleWithWebIdentity, which STS accepts unsigned.
 */
export function handleSts(params: URLSearchParams, caller: { accessKeyId: string; key: KnownKey } | undefined, state: StsState): XmlReply {
  const action = params.get('Action') ?? '';
  if (params.get('Version') !== '2011-06-15') return stsError('InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
  const roleArn = params.get('RoleArn') ?? '';
  const session = params.get('RoleSessionName') ?? '';

  switch (action) {
    case 'GetCallerIdentity': {
      const arn = caller?.key.arn ?? `arn:aws:iam::${ACCOUNT}:user/test`;
      return stsOk(action, `<Arn>${escapeXml(arn)}</Arn><UserId>${caller?.accessKeyId}</UserId><Account>${ACCOUNT}</Account>`);
    }
    case 'GetSessionToken': {
      if (caller?.key.sessionToken !== undefined) return stsError('AccessDenied', 'Cannot call GetSessionToken with session credentials');
      const seconds = duration(params, 43_200, 129_600);
      if (typeof seconds !== 'number') return seconds;
      return stsOk(action, issue(state, caller?.key.arn ?? `arn:aws:iam::${ACCOUNT}:user/test`, seconds));
    }
    case 'AssumeRole':
    case 'AssumeRoleWithWebIdentity': {
      if (!roleArn || !session) return stsError('ValidationError', `1 validation error detected: Value null at '${roleArn ? 'roleSessionName' : 'roleArn'}' failed to satisfy constraint: Member must not be null`);
      const seconds = duration(params, 3600, 43_200);
      if (typeof seconds !== 'number') return seconds;
      const role = state.roles.get(roleArn);
      if (action === 'AssumeRole') {
        const who = caller?.key.arn ?? `arn:aws:iam::${ACCOUNT}:user/test`;
        const denied = `User: ${who} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`;
        if (!role || role.deny) return stsError('AccessDenied', denied);
        const external = params.get('ExternalId');
        if (role.externalId !== undefined && (external === null || !sameText(external, role.externalId))) return stsError('AccessDenied', denied);
      } else {
        const token = params.get('WebIdentityToken') ?? '';
        const accepted = role?.webIdentityTokens?.some((t) => sameText(t, token)) ?? false;
        if (!accepted) return stsError('InvalidIdentityToken');
      }
      const userArn = assumedRoleArn(roleArn, session);
      const extra = action === 'AssumeRoleWithWebIdentity' ? '<SubjectFromWebIdentityToken>test-subject</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience><Provider>test-idp</Provider>' : '<PackedPolicySize>0</PackedPolicySize>';
      return stsOk(
        action,
        `${issue(state, userArn, seconds)}<AssumedRoleUser><Arn>${escapeXml(userArn)}</Arn><AssumedRoleId>AROATESTROLE:${escapeXml(session)}</AssumedRoleId></AssumedRoleUser>${extra}`,
      );
    }
    default:
      return stsError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
  }
}
