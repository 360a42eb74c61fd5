// Turns @napi-rs/keyring failures into one-line claude-key errors that say how to fix the store.
import { AuthError, UnreachableError, isAbortError } from '@claude-key/core';

const NO_SECRET_SERVICE_FIX =
  'on Linux install gnome-keyring (or KeePassXC) and run inside a desktop or `dbus-run-session` with the keyring unlocked, ' +
  'or use --cache file and file:/env: references instead';

/**
 * Classifies an error from the keyring binding. Messages observed on Linux (keyring 2.1):
 *  - no session bus / bus unreachable: "Platform failure: DBus error: ..." (thrown by the constructor);
 *  - a bus but no default collection: "Couldn't access platform storage: Secret Service: no result found";
 *  - a locked collection with nobody to answer the prompt: "... unlock prompt was dismissed".
 * The binding's text never contains the secret (it carries service/account at most), but we
 * still write our own line and keep the original only as `cause`.
 */
export function keyringError(err: unknown, what: string): Error {
  // Our deadline firing is not a keychain fault: let the core report it as such.
  if (isAbortError(err)) return err as Error;
  const message = err instanceof Error ? err.message : String(err);
  if (/dbus|platform failure|no such secret collection|Secret Service: no result found/i.test(message)) {
    return new UnreachableError(`no OS keychain reachable to ${what} (${describeCause(message)})`, { hint: NO_SECRET_SERVICE_FIX, cause: err });
  }
  if (/locked|unlock prompt|prompt was dismissed/i.test(message)) {
    return new AuthError(`the OS keychain is locked, so claude-key cannot ${what}`, {
      hint: 'unlock the login keyring (log in to the desktop session, or pipe the password to `gnome-keyring-daemon --unlock`)',
      cause: err,
    });
  }
  if (/access ?denied|not allowed|user interaction|denied/i.test(message)) {
    return new AuthError(`the OS keychain refused to ${what} (${describeCause(message)})`, {
      hint: 'allow claude-key (node) to access the keychain entry, or check the keychain is unlocked',
      cause: err,
    });
  }
  return new UnreachableError(`the OS keychain failed to ${what} (${describeCause(message)})`, { cause: err });
}

function describeCause(message: string): string {
  if (/DBUS_SESSION_BUS_ADDRESS|autolaunch/i.test(message)) return 'no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set';
  if (/failed to connect to socket|connection refused/i.test(message)) return 'the D-Bus session bus at DBUS_SESSION_BUS_ADDRESS is not answering';
  if (/did not receive a reply/i.test(message)) return 'the Secret Service did not answer on the session bus';
  if (/no result found|no such secret collection/i.test(message)) return 'the Secret Service has no default keyring collection';
  // Keep only the first line and cap the length: binding messages are long, nested and multi-line.
  return message.split('\n')[0]!.slice(0, 160);
}
