// The shapes shared by every stage: the canonical request, a deployment, and an upstream request.

/** The wire format a client spoke to the gateway. */
export type ApiFormat = 'anthropic' | 'bedrock' | 'vertex';

/** What kind of server a deployment is; `mock` speaks the Anthropic Messages API. */
export type UpstreamKind = 'anthropic' | 'bedrock' | 'vertex' | 'mock';

/**
 * One model request, whatever format it arrived in. `body` is Anthropic Messages JSON: it holds
 * `model` (as the client named it) and `stream: true` when streaming, and never the vendor
 * fields `anthropic_version` / `anthropic_beta` (those live in their own fields here).
 */
export interface CanonicalRequest {
  format: ApiFormat;
  /** The model exactly as the client named it (URL-decoded for Bedrock and Vertex). */
  model: string;
  stream: boolean;
  countTokens: boolean;
  /** As the client sent it (header or body field); undefined when absent. */
  anthropicVersion: string | undefined;
  anthropicBeta: string[];
  body: Buffer;
}

/** Where one model request can be served. Only the fields of its kind are read. */
export interface Deployment {
  kind: UpstreamKind;
  /** Root URL without a trailing slash; defaults to the vendor's public endpoint for `region`. */
  baseUrl?: string;
  /** The model id the upstream knows (Bedrock model or inference-profile id/ARN, Vertex name, Anthropic name). */
  model: string;
  /** AWS region (Bedrock) or Vertex location (`us-east5`, `global`, ...). */
  region?: string;
  /** Google Cloud project id (Vertex). */
  project?: string;
  /** Overrides the `anthropic_version` / `anthropic-version` sent upstream. */
  anthropicVersion?: string;
}

/** A request ready to send, apart from credentials (see bedrock-sign.ts and vertex-auth.ts). */
export interface UpstreamRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  /** What the upstream answers with on success. */
  responseType: 'json' | 'sse' | 'eventstream';
}
