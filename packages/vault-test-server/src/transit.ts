// The transit engine's signing half: key creation, `keys/<name>` (public keys) and `sign/<name>`.
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { VaultRequest } from './request.js';
import { bodyString } from './request.js';
import type { TransitKey, TransitKeyType, TransitKeyVersion, TransitMount } from './state.js';
import { VaultHttpError, badRequest, envelope, noContent, rfc3339, routeNotFound, type VaultReply } from './wire.js';

const KEY_TYPES: readonly TransitKeyType[] = ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa-2048'];

const HASHES: Record<string, string> = {
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
};

export function newTransitKeyVersion(type: TransitKeyType, now: number): TransitKeyVersion {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  if (type === 'ecdsa-p256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else if (type === 'ecdsa-p384') pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  else if (type === 'ed25519') pair = generateKeyPairSync('ed25519');
  else pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...pair, createdAt: now };
}

/** Vault shows ed25519 public keys as base64 of the raw 32 bytes and the others as PEM. */
function publicKeyText(key: TransitKey, version: TransitKeyVersion): string {
  if (key.type === 'ed25519') {
    const jwk = version.publicKey.export({ format: 'jwk' });
    return Buffer.from(jwk.x!, 'base64url').toString('base64');
  }
  return version.publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

function curveName(type: TransitKeyType): string {
  return type === 'ecdsa-p256' ? 'P-256' : type === 'ecdsa-p384' ? 'P-384' : type;
}

function keyData(key: TransitKey): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  key.versions.forEach((version, index) => {
    keys[String(index + 1)] = {
      creation_time: rfc3339(version.createdAt),
      name: curveName(key.type),
      public_key: publicKeyText(key, version),
    };
  });
  return {
    allow_plaintext_backup: false,
    auto_rotate_period: 0,
    deletion_allowed: false,
    derived: false,
    exportable: false,
    imported_key: false,
    keys,
    latest_version: key.versions.length,
    min_available_version: 0,
    min_decryption_version: 1,
    min_encryption_version: 0,
    name: key.name,
    supports_decryption: false,
    supports_derivation: key.type === 'ed25519',
    supports_encryption: false,
    supports_signing: true,
    type: key.type,
  };
}

function signWith(key: TransitKey, version: TransitKeyVersion, input: Buffer, req: VaultRequest, hashFromPath?: string): Buffer {
  const hashName = hashFromPath ?? bodyString(req, 'hash_algorithm') ?? 'sha2-256';
  const hash = HASHES[hashName];
  if (!hash) throw badRequest(`unsupported hash algorithm ${hashName}`);
  if (req.body.prehashed === true) throw badRequest('prehashed input is not supported by this test server');
  const marshaling = bodyString(req, 'marshaling_algorithm') ?? 'asn1';
  if (marshaling !== 'asn1' && marshaling !== 'jws') throw badRequest(`unsupported marshaling type ${marshaling}`);
  if (key.type === 'ed25519') return sign(null, input, version.privateKey);
  if (key.type === 'rsa-2048') {
    const algorithm = bodyString(req, 'signature_algorithm') ?? 'pss';
    if (algorithm !== 'pss' && algorithm !== 'pkcs1v15') throw badRequest(`unsupported rsa signature algorithm ${algorithm}`);
    const saltLength = bodyString(req, 'salt_length') === 'hash' ? constants.RSA_PSS_SALTLEN_DIGEST : constants.RSA_PSS_SALTLEN_MAX_SIGN;
    return algorithm === 'pss'
      ? sign(hash, input, { key: version.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })
      : sign(hash, input, { key: version.privateKey, padding: constants.RSA_PKCS1_PADDING });
  }
  // JWS marshaling is the raw r||s pair JOSE expects; ASN.1 is the DER SEQUENCE.
  return sign(hash, input, { key: version.privateKey, dsaEncoding: marshaling === 'jws' ? 'ieee-p1363' : 'der' });
}

export function handleTransit(mount: TransitMount, rest: string, req: VaultRequest): VaultReply {
  const [action, name, extra] = rest.split('/');
  if (action === 'keys' && name && !extra) {
    const key = mount.keys.get(name);
    if (req.op === 'read') {
      // pathPolicyRead returns nil, nil for a missing key, which Vault answers 404 {"errors":[]}
      // (openbao internal/builtin/logical/transit/path_keys.go; sdk/logical/response_util.go).
      if (!key) throw new VaultHttpError(404, []);
      return envelope({ data: keyData(key) });
    }
    if (req.op === 'create' || req.op === 'update') {
      const type = (bodyString(req, 'type') ?? 'aes256-gcm96') as TransitKeyType;
      if (!KEY_TYPES.includes(type)) throw badRequest(`unknown key type ${type} (this test server signs with ${KEY_TYPES.join(', ')})`);
      if (!key) mount.keys.set(name, { name, type, versions: [newTransitKeyVersion(type, req.now())] });
      return noContent;
    }
  }
  if (action === 'sign' && name && (req.op === 'create' || req.op === 'update')) {
    const key = mount.keys.get(name);
    // Signing with a missing key is 400 "signing key not found" (path_sign_verify.go, ErrInvalidRequest).
    if (!key) throw badRequest('signing key not found');
    const inputText = bodyString(req, 'input');
    if (inputText === undefined) throw badRequest('missing input to process');
    const input = Buffer.from(inputText, 'base64');
    const requested = typeof req.body.key_version === 'number' ? req.body.key_version : key.versions.length;
    const version = key.versions[requested - 1];
    if (!version) throw badRequest(`invalid key version ${requested}`);
    const signature = signWith(key, version, input, req, extra);
    const marshaling = bodyString(req, 'marshaling_algorithm') ?? 'asn1';
    const encoded = marshaling === 'jws' ? signature.toString('base64url') : signature.toString('base64');
    return envelope({ data: { signature: `vault:v${requested}:${encoded}`, key_version: requested } });
  }
  throw routeNotFound(req.path);
}
