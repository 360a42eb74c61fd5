// Finds and loads providers: the helper's registered entries, or a plugin npm package named in a profile.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, UsageError } from './errors.js';
import type { Provider, ProviderEntry } from './provider.js';

const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/;

/** Checks a loaded module against the contract, so a broken plugin fails with a clear line. */
export function asProvider(mod: unknown, source: string, registered = false): Provider {
  const candidate = (mod as { default?: unknown })?.default ?? mod;
  const p = candidate as Partial<Provider> | undefined;
  const missing: string[] = [];
  if (typeof p?.name !== 'string' || !p.name) missing.push('name');
  if (typeof p?.summary !== 'string') missing.push('summary');
  // A registered provider's options built on first use (a getter) are not built here: a plain call
  // may never need them (claude-key's aws, checked from a table in a bundle without zod).
  const lazyOptions = registered && typeof p === 'object' && p !== null && typeof Object.getOwnPropertyDescriptor(p, 'options')?.get === 'function';
  if (!lazyOptions && typeof (p?.options as { safeParse?: unknown } | undefined)?.safeParse !== 'function') missing.push('options (a zod schema)');
  if (typeof p?.fetch !== 'function') missing.push('fetch()');
  if (missing.length) {
    throw new ConfigError(`${source} is not a claude-key provider: missing ${missing.join(', ')}`, {
      hint: 'its default export must be made with defineProvider() from @claude-key/core',
    });
  }
  return p as Provider;
}

/** The file a package's main entry resolves to from `baseDir`, honouring "exports" (import/default). */
function resolvePackageEntry(name: string, baseDir: string): string | undefined {
  for (let dir = baseDir; ; dir = join(dir, '..')) {
    const pkgDir = join(dir, 'node_modules', name);
    const pkgJson = join(pkgDir, 'package.json');
    if (existsSync(pkgJson)) {
      const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as {
        exports?: unknown;
        module?: string;
        main?: string;
      };
      let entry: unknown = pkg.exports;
      if (entry && typeof entry === 'object' && '.' in (entry as object)) entry = (entry as Record<string, unknown>)['.'];
      while (entry && typeof entry === 'object') {
        const e = entry as Record<string, unknown>;
        entry = e.import ?? e.node ?? e.default ?? e.require;
      }
      const rel = typeof entry === 'string' ? entry : pkg.module ?? pkg.main ?? 'index.js';
      return join(pkgDir, rel);
    }
    if (join(dir, '..') === dir) return undefined;
  }
}

export class ProviderRegistry {
  private readonly entries = new Map<string, ProviderEntry>();

  constructor(
    entries: readonly ProviderEntry[],
    /** Where plugin packages are looked up, in order (config dir, cwd, the helper's own dir). */
    private readonly searchDirs: readonly string[],
  ) {
    for (const entry of entries) this.entries.set(entry.name, entry);
  }

  names(): Set<string> {
    return new Set(this.entries.keys());
  }

  list(): ProviderEntry[] {
    return [...this.entries.values()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  async load(name: string): Promise<Provider> {
    const entry = this.entries.get(name);
    if (entry) return asProvider(await entry.load(), `provider "${name}"`, true);
    const unknown = new UsageError(`unknown provider "${name}"`, {
      hint: `known providers: ${[...this.entries.keys()].join(', ')}; or name an installed provider package`,
    });
    if (!PACKAGE_NAME.test(name)) throw unknown;
    for (const dir of this.searchDirs) {
      const file = resolvePackageEntry(name, dir);
      if (file && existsSync(file)) return asProvider(await import(pathToFileURL(file).href), `package ${name}`);
    }
    // A bare word is most likely a typo of a built-in name; a scoped or provider-ish name is a package.
    if (!name.includes('/') && !name.includes('provider')) throw unknown;
    throw new ConfigError(`provider package ${name} is not installed`, {
      hint: `npm install ${name} next to the config file or in the current directory`,
    });
  }
}
