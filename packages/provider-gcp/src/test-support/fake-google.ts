// One fixture that runs every fake Google endpoint the gcp provider talks to, plus credential files for them.
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIamCredentialsServer, type IamCredentialsState, type ImpersonationTarget } from './iam-credentials-server.js';
import { IdTokenIssuer } from './id-token-issuer.js';
import { startMetadataServer } from './metadata-server.js';
import { startOAuthTokenServer, type AuthorizedUserRecord, type OAuthTokenServer } from './oauth-token-server.js';
import { startSecretManagerServer, type FakeSecret, type SecretManagerState } from './secret-manager-server.js';
import { startStsServer, type FederatedIdentity } from './sts-server.js';
import { TokenLedger } from './token-ledger.js';
import type { RunningServer } from './http.js';

export interface FakeServiceAccount {
  email: string;
  privateKeyPem: string;
  publicKey: KeyObject;
}

export interface FakeGoogleOptions {
  /** Service accounts the token endpoint knows (their keys are generated here). */
  serviceAccounts: string[];
  users?: AuthorizedUserRecord[];
  secrets?: FakeSecret[];
  impersonation?: ImpersonationTarget[];
  metadata?: { email: string; projectId: string };
  federation?: FederatedIdentity[];
}

export interface FakeGoogle {
  ledger: TokenLedger;
  idTokens: IdTokenIssuer;
  accounts: Map<string, FakeServiceAccount>;
  oauth: OAuthTokenServer;
  metadata: RunningServer;
  secretManager: RunningServer;
  /** Flip `disabledIn` to a project number to disable the Secret Manager API there. */
  secretManagerState: SecretManagerState;
  iamCredentials: RunningServer;
  /** Flip `disabledIn` to a project number to disable the IAM Credentials API there. */
  iamCredentialsState: IamCredentialsState;
  sts: RunningServer;
  /** A 0700 directory for credential files, removed by close(). */
  dir: string;
  /** Writes a service-account key file whose token_uri points at the fake token endpoint. */
  writeServiceAccountKey(email: string, overrides?: Record<string, unknown>): Promise<string>;
  writeAuthorizedUser(user: AuthorizedUserRecord): Promise<string>;
  /**
   * Writes a workload identity federation config (`gcloud iam workload-identity-pools
   * create-cred-config` shape) reading the subject token from a file, optionally impersonating.
   */
  writeExternalAccount(identity: FederatedIdentity, subjectToken: string, impersonate?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startFakeGoogle(opts: FakeGoogleOptions): Promise<FakeGoogle> {
  const ledger = new TokenLedger();
  const idTokens = new IdTokenIssuer();
  const accounts = new Map<string, FakeServiceAccount>();
  for (const email of opts.serviceAccounts) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    accounts.set(email, { email, publicKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  }
  const oauth = await startOAuthTokenServer({
    ledger,
    idTokens,
    serviceAccounts: [...accounts.values()].map(({ email, publicKey }) => ({ email, publicKey })),
    ...(opts.users ? { users: opts.users } : {}),
  });
  const metadata = await startMetadataServer({ ledger, idTokens, ...(opts.metadata ?? { email: 'default@fake.iam.gserviceaccount.com', projectId: 'fake' }) });
  const secretManagerState: SecretManagerState = {};
  const secretManager = await startSecretManagerServer(ledger, opts.secrets ?? [], secretManagerState);
  const iamCredentialsState: IamCredentialsState = {};
  const iamCredentials = await startIamCredentialsServer(ledger, idTokens, opts.impersonation ?? [], iamCredentialsState);
  const sts = await startStsServer(ledger, opts.federation ?? []);
  const dir = await mkdtemp(join(tmpdir(), 'claude-key-gcp-'));

  const writeJson = async (json: unknown) => {
    const path = join(dir, `${randomUUID()}.json`);
    await writeFile(path, JSON.stringify(json), { mode: 0o600 });
    return path;
  };
  return {
    ledger,
    idTokens,
    accounts,
    oauth,
    metadata,
    secretManager,
    secretManagerState,
    iamCredentials,
    iamCredentialsState,
    sts,
    dir,
    async writeServiceAccountKey(email, overrides = {}) {
      const account = accounts.get(email);
      if (!account) throw new Error(`fake google: unknown service account ${email}`);
      // The shape `gcloud iam service-accounts keys create` writes.
      return writeJson({
        type: 'service_account',
        project_id: email.split('@')[1]!.split('.')[0],
        private_key_id: randomBytes(20).toString('hex'),
        private_key: account.privateKeyPem,
        client_email: email,
        client_id: String(100000000000000000000n + BigInt(accounts.size)),
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
        token_uri: `${oauth.url}/token`,
        auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
        universe_domain: 'googleapis.com',
        ...overrides,
      });
    },
    async writeAuthorizedUser(user) {
      // The shape `gcloud auth application-default login` writes, plus token_uri for the fake.
      return writeJson({
        type: 'authorized_user',
        client_id: user.clientId,
        client_secret: user.clientSecret,
        refresh_token: user.refreshToken,
        token_uri: `${oauth.url}/token`,
        universe_domain: 'googleapis.com',
      });
    },
    async writeExternalAccount(identity, subjectToken, impersonate) {
      const tokenFile = join(dir, `${randomUUID()}.jwt`);
      await writeFile(tokenFile, subjectToken, { mode: 0o600 });
      return writeJson({
        type: 'external_account',
        audience: identity.audience,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: `${sts.url}/v1/token`,
        credential_source: { file: tokenFile },
        ...(impersonate
          ? { service_account_impersonation_url: `${iamCredentials.url}/v1/projects/-/serviceAccounts/${impersonate}:generateAccessToken` }
          : {}),
        universe_domain: 'googleapis.com',
      });
    },
    async close() {
      await Promise.all([oauth.close(), metadata.close(), secretManager.close(), iamCredentials.close(), sts.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
