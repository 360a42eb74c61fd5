#!/usr/bin/env node
// The whole binary: one call into the shared engine.
import { acmeKey } from '../dist/index.js';

process.exitCode = await acmeKey.run();
