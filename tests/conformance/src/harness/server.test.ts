/**
 * The harness's server process: Node flags given per server reach it (the bench's --profile rests
 * on this: a server under --cpu-prof writes its profile when it stops).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startServer } from './server';

const dir = mkdtempSync(path.join(tmpdir(), 'hourglass-harness-prof-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('nodeArgs reach the server process: under --cpu-prof it writes a CPU profile when it stops', async () => {
  const server = await startServer({ inMemory: true, tls: false, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  try {
    assert.deepEqual(readdirSync(dir), [], 'a profile before the server stopped');
  } finally {
    await server.dispose();
  }
  const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  assert.equal(profiles.length, 1, `files written: ${readdirSync(dir).join(', ')}`);
});
