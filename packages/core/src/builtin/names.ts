// Names of the built-in providers, apart from their loaders, for the warm path (which must load nothing).
export const builtinProviderNames = ['env', 'file', 'exec'] as const;
