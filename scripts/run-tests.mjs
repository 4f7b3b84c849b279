#!/usr/bin/env node
// Runs every test with node's test runner: unit tests beside the code (compiled to dist/),
// then the conformance suite that drives a real server process with the official SDK.
// The runner's closing lines (tests / pass / fail) are the summary.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dirs = [
  ...readdirSync(path.join(root, 'services')).map((d) => path.join('services', d, 'dist')),
  'sdk/dist',
  'tests/conformance/dist',
  'load-tests/dist',
].filter((d) => existsSync(path.join(root, d)));

const args = ['--test', '--test-reporter=spec', ...process.argv.slice(2), ...dirs];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
