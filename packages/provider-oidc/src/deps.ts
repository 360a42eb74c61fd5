// What the provider takes from the outside world, injectable so tests can stand in for the terminal.
import { canOpenBrowser, openBrowser } from './browser.js';
import { loadKeyringBinding, type KeyringBinding } from './store/keychain-store.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface OidcDeps {
  /** Whether a person is at the terminal (Claude Code runs the helper without one). */
  isInteractive(): boolean;
  /** Opens the verification page, or returns undefined when no browser should be tried here. */
  browserFor(env: Env): ((url: string) => Promise<void>) | undefined;
  loadKeyring(): Promise<KeyringBinding>;
}

export const defaultDeps: OidcDeps = {
  isInteractive: () => process.stdin.isTTY === true,
  browserFor: (env) => (canOpenBrowser(env) ? openBrowser : undefined),
  loadKeyring: loadKeyringBinding,
};
