#!/usr/bin/env node
// Entry point of the claude-key-gateway binary.
import { main } from './cli.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
