// @claude-key/provider-aws: `aws` (Secrets Manager, default export) and `aws-credentials` (awsCredentialExport JSON).
import { secretsManagerProvider } from './secrets-manager-provider.js';

export { awsCredentialsProvider } from './aws-credentials-provider.js';
export default secretsManagerProvider;
