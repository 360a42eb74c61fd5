// What an interactive sign-in (device or browser flow) may use to talk to the person.
export interface SignInUi {
  /** Where the instructions go: stderr, never stdout (stdout carries only the token). */
  say(line: string): void;
  /** Opens a page in a browser; undefined when no browser should be tried here. */
  openBrowser?: (url: string) => Promise<void>;
  signal: AbortSignal;
}
