// A Google OAuth 2.0 token endpoint stand-in for the refresh_token grant (authorized_user credentials).

import { listen, readBody, sendJson, type RunningServer } from './http.js';

export interface GoogleTokenServer extends RunningServer {
  /** How many tokens were issued. */
  issued(): number;
}

export async function startGoogleTokenServer(options: { clientId: string; clientSecret: string; refreshToken: string; accessToken: string }): Promise<GoogleTokenServer> {
  let issued = 0;
  const running = await listen((req, res) => {
    void readBody(req).then((body) => {
      const form = new URLSearchParams(body.toString('utf8'));
      if (req.method !== 'POST' || req.url !== '/token') return sendJson(res, 404, { error: 'not_found' });
      if (form.get('grant_type') !== 'refresh_token') return sendJson(res, 400, { error: 'unsupported_grant_type' });
      if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) {
        return sendJson(res, 401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
      }
      if (form.get('refresh_token') !== options.refreshToken) {
        return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      }
      issued++;
      sendJson(res, 200, { access_token: options.accessToken, expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/cloud-platform' });
    });
  });
  return { ...running, issued: () => issued };
}
