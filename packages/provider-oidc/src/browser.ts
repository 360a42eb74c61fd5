// Decides whether a browser can be opened here and opens one with the `open` package (never fails).
type Env = Readonly<Record<string, string | undefined>>;

/**
 * Only where a graphical browser can appear: on Linux without DISPLAY/WAYLAND_DISPLAY, xdg-open
 * would start a text browser in the very terminal that shows the code; over SSH the browser
 * would open on the far machine.
 */
export function canOpenBrowser(env: Env, platform: NodeJS.Platform = process.platform): boolean {
  if (env.SSH_CONNECTION || env.SSH_TTY) return false;
  if (platform === 'linux') return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY || env.WSL_DISTRO_NAME);
  return platform === 'darwin' || platform === 'win32';
}

export async function openBrowser(url: string): Promise<void> {
  try {
    const { default: open } = await import('open');
    const child = await open(url);
    // A missing opener surfaces as an 'error' event; the URL is already on screen, so ignore it.
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // Same reasoning: opening the browser is a convenience, never a reason to fail the login.
  }
}
