#!/usr/bin/env node
// The claude-key-gateway command. A committed file (not dist/bin.js itself) so pnpm can link the
// bin into workspace packages before the first build, without a "Failed to create bin" warning.
import '../dist/bin.js';
