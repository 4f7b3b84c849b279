/** `@hourglass/sdk/workflow` must stay bundleable into the workflow sandbox. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

test('the workflow entry requires nothing but @temporalio/workflow and its own files', () => {
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js'));
  assert.ok(files.includes('index.js'));
  for (const file of files) {
    const source = readFileSync(path.join(__dirname, file), 'utf8');
    const required = [...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    for (const spec of required) {
      assert.ok(spec === '@temporalio/workflow' || spec?.startsWith('./'), `${file} requires ${spec}`);
    }
  }
});

test('package.json exports ./workflow', () => {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { exports: Record<string, { default: string }> };
  assert.equal(pkg.exports['./workflow']?.default, './dist/workflow/index.js');
  assert.equal(require.resolve('@hourglass/sdk/workflow'), path.join(__dirname, 'index.js'));
});
