#!/usr/bin/env node
// moments-webchat: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/server/cli.ts');
const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
