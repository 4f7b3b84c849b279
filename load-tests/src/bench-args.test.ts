/** `make bench`'s command line: help, and mistakes refused with a message before any server starts. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const bench = path.join(__dirname, 'bench.js');

function run(...args: string[]) {
  return spawnSync(process.execPath, [bench, ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe('bench command line', () => {
  it('--help lists the modes and options and exits 0', () => {
    const r = run('--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: make bench/);
    for (const text of ['aps-neighbours', 'long-history', '--profile <dir>', '--server-pid']) assert.ok(r.stdout.includes(text), text);
  });

  const refused: [string, string[], RegExp][] = [
    ['a misspelt mode', ['--mode', 'neighbors'], /--mode "neighbors" is not one of all, throughput/],
    ['an unknown option', ['--bogus'], /Unknown option '--bogus'/],
    ['a mode that starts its own servers, against --address', ['--mode', 'aps-neighbours', '--address', '127.0.0.1:1'], /starts servers of its own/],
    ['an unknown store', ['--store', 'postgres'], /--store must be sqlite or mysql, got "postgres"/],
    ['a setting without a value', ['--setting', 'history.transferTaskConcurrency'], /--setting takes key=value, got "history.transferTaskConcurrency"/],
    ['a setting for a server started elsewhere', ['--setting', 'history.transferTaskConcurrency=8', '--address', '127.0.0.1:1'], /--setting applies to servers the bench starts/],
  ];
  it('hands --setting to the server it starts, whose config check names an unknown one', () => {
    const r = run('--mode', 'starts', '--workflows', '1', '--setting', 'history.noSuchSetting=1');
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /unknown setting "history\.noSuchSetting"/);
  });

  for (const [what, args, message] of refused) {
    it(`refuses ${what} with a message and exit code 2`, () => {
      const r = run(...args);
      assert.equal(r.status, 2);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Run with --help/);
    });
  }
});
