// The JSON Claude Code's `awsCredentialExport` setting reads: the `Credentials` object of an STS answer, on one line.
//
// Claude Code (checked in 2.1.328) accepts `{"Credentials":{...}}` or the bare inner object, requires
// non-empty AccessKeyId, SecretAccessKey and SessionToken strings, and reads Expiration with
// Date.parse when it is a string. Long-term keys are therefore never printed as they are: the
// provider trades them for session credentials first (STS GetSessionToken).

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date | undefined;
}

/** One line of JSON in the shape `aws sts assume-role` prints under `Credentials`. */
export function formatCredentialExport(creds: SessionCredentials): string {
  return JSON.stringify({
    Credentials: {
      AccessKeyId: creds.accessKeyId,
      SecretAccessKey: creds.secretAccessKey,
      SessionToken: creds.sessionToken,
      ...(creds.expiration ? { Expiration: creds.expiration.toISOString() } : {}),
    },
  });
}
