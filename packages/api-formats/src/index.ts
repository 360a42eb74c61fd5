// Public API of @claude-key/api-formats: parse inbound, build outbound, translate answers and errors.

export type { ApiFormat, UpstreamKind, CanonicalRequest, Deployment, UpstreamRequest } from './types.js';
export { matchInbound, formatOfPath, parseInbound, parseInboundRequest, type InboundOptions, type InboundRoute, type HeaderMap } from './inbound.js';
export {
  buildUpstreamRequest,
  anthropicVersionFor,
  bedrockRuntimeUrl,
  vertexUrl,
  ANTHROPIC_API_VERSION,
  BEDROCK_ANTHROPIC_VERSION,
  VERTEX_ANTHROPIC_VERSION,
} from './outbound.js';
export { signBedrockRequest, awsCredentialChain, BEDROCK_SIGNING_NAME, type AwsCredentials, type AwsCredentialProvider, type SignOptions } from './bedrock-sign.js';
export { googleTokenSource, callerTokenSource, authorizeVertexRequest, VERTEX_SCOPE, type VertexTokenSource } from './vertex-auth.js';
export {
  SseToEventStream,
  EventStreamToSse,
  createSseToEventStream,
  createEventStreamToSse,
  encodeException,
  encodeSseError,
  streamExceptionType,
  EVENT_STREAM_CONTENT_TYPE,
  SSE_CONTENT_TYPE,
} from './event-stream.js';
export { planResponse, createStreamTranslator, translateJsonBody, type ResponsePlan, type StreamTranslation } from './response.js';
export {
  ApiError,
  renderError,
  parseUpstreamError,
  upstreamErrorForClient,
  isRetryable,
  anthropicErrorBody,
  typeForStatus,
  isAnthropicErrorType,
  statusForType,
  typeFromBedrock,
  bedrockErrorName,
  type AnthropicErrorType,
  type ErrorResponse,
  type RenderOptions,
} from './errors.js';
export { canonicalModelKey, createModelResolver, type ModelGroup } from './models.js';
export { inferenceProfilesBody, type InferenceProfileEntry, type InferenceProfilesOptions } from './inference-profiles.js';
export { scanObject, editObject, type ObjectEdits } from './json-body.js';
