// Tiny HTTP plumbing shared by the fake Google servers: loopback listen, body reading, JSON answers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** `127.0.0.1:PORT`, the form GCE_METADATA_HOST takes. */
  host: string;
  /** Every request seen, as "METHOD /path?query". */
  requests: string[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

/** Starts `handler` on a random loopback port. */
export async function listen(handler: Handler): Promise<RunningServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      Promise.resolve(handler(req, res, Buffer.concat(chunks).toString('utf8'))).catch((err: unknown) => {
        sendJson(res, 500, { error: { code: 500, message: `test server bug: ${String(err)}`, status: 'INTERNAL' } });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** Google API error envelope (google.rpc.Status over JSON), as every *.googleapis.com REST API answers. */
export function sendGoogleApiError(res: ServerResponse, code: number, status: string, message: string, details?: unknown[]): void {
  sendJson(res, code, { error: { code, message, status, ...(details ? { details } : {}) } });
}

/**
 * What every googleapis.com API answers when it is not enabled in the consumer project: 403
 * PERMISSION_DENIED with an ErrorInfo of reason SERVICE_DISABLED naming the service and consumer,
 * and a Help link to the console (cloud.google.com/apis/design/errors; ErrorReason SERVICE_DISABLED
 * in google/api/error_reason.proto).
 */
export function sendServiceDisabled(res: ServerResponse, service: string, title: string, projectNumber: string): void {
  const activation = `https://console.developers.google.com/apis/api/${service}/overview?project=${projectNumber}`;
  sendGoogleApiError(
    res,
    403,
    'PERMISSION_DENIED',
    `${title} has not been used in project ${projectNumber} before or it is disabled. Enable it by visiting ${activation} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'SERVICE_DISABLED',
        domain: 'googleapis.com',
        metadata: { service, consumer: `projects/${projectNumber}`, activationUrl: activation, serviceTitle: title, containerInfo: projectNumber },
      },
      { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Google developers console API activation', url: activation }] },
    ],
  );
}

/** The bearer token of a request, or undefined. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const match = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}
