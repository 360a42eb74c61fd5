// Authorization code flow with PKCE (RFC 7636) and a loopback redirect (RFC 8252), for `login --flow browser`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Configuration } from 'openid-client';
import { AuthError, UsageError } from '@claude-key/core';
import type { OpenIdClient } from './client.js';
import type { TokenResponse } from './credential.js';
import { oidcError } from './errors.js';
import type { SignInUi } from './sign-in-ui.js';

const CALLBACK_PATH = '/callback';
// Long enough to type a password and answer an MFA prompt; the deadline signal still wins.
const SIGN_IN_WINDOW_MS = 10 * 60_000;

export async function browserLogin(
  client: OpenIdClient,
  config: Configuration,
  issuer: string,
  parameters: Record<string, string>,
  redirectPort: number,
  ui: SignInUi,
): Promise<TokenResponse> {
  const listener = await listenOnLoopback(redirectPort);
  try {
    const redirectUri = `http://127.0.0.1:${listener.port}${CALLBACK_PATH}`;
    // PKCE binds the code to this process: a code intercepted on the way back is useless.
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      ...parameters,
      // OIDC Core 11: an OP ignores offline_access (no refresh token) unless consent is prompted.
      ...(parameters.scope?.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
      redirect_uri: redirectUri,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    });
    ui.say(`To sign in, open ${url.href}`);
    if (ui.openBrowser) await ui.openBrowser(url.href).catch(() => undefined);
    ui.say('Waiting for the browser to come back...');
    const window = AbortSignal.timeout(SIGN_IN_WINDOW_MS);
    let callback: URL;
    try {
      callback = await listener.nextCallback(AbortSignal.any([ui.signal, window]));
    } catch (err) {
      if (window.aborted && !ui.signal.aborted) {
        throw new AuthError('the browser sign-in did not finish in time', { hint: 'run claude-key oidc login again' });
      }
      throw err;
    }
    try {
      return await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    } catch (err) {
      throw oidcError(err, { issuer, action: 'complete the browser sign-in' });
    }
  } finally {
    await listener.close();
  }
}

interface LoopbackListener {
  port: number;
  nextCallback(signal: AbortSignal): Promise<URL>;
  close(): Promise<void>;
}

function listenOnLoopback(port: number): Promise<LoopbackListener> {
  return new Promise((resolve, reject) => {
    // The first request to the callback path is the answer, even if it arrives before we wait for it.
    let deliver!: (url: URL) => void;
    const arrived = new Promise<URL>((done) => (deliver = done));
    let answered = false;
    const server: Server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== CALLBACK_PATH || answered) {
        res.writeHead(404).end();
        return;
      }
      answered = true;
      const ok = !url.searchParams.has('error');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><p>${ok ? 'Signed in to claude-key. You can close this tab.' : 'The sign-in did not finish; see the terminal.'}</p>`);
      deliver(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url}`));
    });
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new UsageError(`cannot listen on 127.0.0.1:${port} for the sign-in redirect (${err.code ?? 'error'})`, {
        hint: 'pick another --redirect-port, or use the device flow',
      }));
    });
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        nextCallback: (signal) =>
          new Promise<URL>((done, fail) => {
            const onAbort = () => fail(signal.reason);
            if (signal.aborted) return onAbort();
            signal.addEventListener('abort', onAbort, { once: true });
            void arrived.then((url) => {
              signal.removeEventListener('abort', onAbort);
              done(url);
            });
          }),
        close: () =>
          new Promise<void>((closed) => {
            server.closeAllConnections();
            server.close(() => closed());
          }),
      });
    });
  });
}
