// Public surface of the Vault API test server used by provider tests.
export { VaultTestServer, type VaultTestServerOptions, type RecordedRequest, type StandbyMode } from './server.js';
export { VaultNamespace } from './namespace.js';
export { createSelfSignedCert, type SelfSignedCert } from './tls.js';
export { PERMISSION_DENIED } from './wire.js';
export type { Capability, PolicyRule } from './acl.js';
export type { Entity, OidcKey, OidcRole, TokenGrant, TransitKey, TransitKeyType, AppRoleRole, JwtRole, JwtAuthConfig, KubernetesRole } from './state.js';
