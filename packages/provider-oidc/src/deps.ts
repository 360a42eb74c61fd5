// What the provider takes from the outside world, injectable so tests can stand in for the terminal.
import { canOpenBrowser, openBrowser } from './browser.js';
import type { ProviderLogger } from '@claude-key/core';
import { openSessionStore, type StorageKind } from './store/open-store.js';
import type { SessionStore } from './store/session-store.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface OidcDeps {
  /** Whether a person is at the terminal (Claude Code runs the helper without one). */
  isInteractive(): boolean;
  /** Opens the verification page, or returns undefined when no browser should be tried here. */
  browserFor(env: Env): ((url: string) => Promise<void>) | undefined;
  /** The store behind --storage (tests hand in one that changes under the provider's feet). */
  openStore(kind: StorageKind, env: Env, log: ProviderLogger): SessionStore;
}

export const defaultDeps: OidcDeps = {
  isInteractive: () => process.stdin.isTTY === true,
  browserFor: (env) => (canOpenBrowser(env) ? openBrowser : undefined),
  openStore: (kind, env, log) => openSessionStore(kind, { env, log }),
};
