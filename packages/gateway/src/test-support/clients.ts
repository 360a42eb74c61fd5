// Official cloud clients pointed at a gateway, carrying the gateway token the way Claude Code does.
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** The AWS SDK signs with placeholder keys; the gateway token rides in x-api-key. */
export function bedrockRuntimeClient(gatewayUrl: string, token: string): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: `${gatewayUrl}/bedrock`,
    credentials: { accessKeyId: 'AKIDCLIENT', secretAccessKey: 'client-secret' },
    requestHandler: new NodeHttpHandler(), // the default would try HTTP/2
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-api-key'] = token;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'gatewayKey' },
  );
  return client;
}

/** The Vertex SDK whose "Google" Authorization header is `bearer`; extra headers (Proxy-Authorization) optional. */
export function vertexClient(gatewayUrl: string, bearer: string, headers: Record<string, string> = {}): AnthropicVertex {
  return new AnthropicVertex({
    baseURL: `${gatewayUrl}/vertex_ai/v1`,
    region: 'us-east5',
    projectId: 'proj-1',
    maxRetries: 0,
    authClient: { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${bearer}` }) } as never,
    defaultHeaders: headers,
  });
}
