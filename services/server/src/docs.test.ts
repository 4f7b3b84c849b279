/** docs/configuration.md describes what the code does: every option, and the current settings table. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { allSettings } from '@hourglass/common';
import { CONFIG_FILE_OPTION, START_CLUSTER_OPTIONS, START_DEV_OPTIONS, START_SHARED_KEYS } from './config';
import { formatSettings, replaceGeneratedTable } from './settings-table';

const DOC = path.join(__dirname, '..', '..', '..', 'docs', 'configuration.md');
const DISTRIBUTED = path.join(__dirname, '..', '..', '..', 'docs', 'distributed.md');

describe('docs/configuration.md', () => {
  const doc = readFileSync(DOC, 'utf8');

  it('has the settings table that `hourglass settings --format markdown` prints', () => {
    const expected = replaceGeneratedTable(doc, formatSettings(allSettings(), 'markdown'), DOC);
    assert.ok(doc === expected, 'the settings table is out of date: run `npx hourglass settings --write-into docs/configuration.md` after a build');
  });

  it('names every option of start-dev: its flag, env variable and config file key', () => {
    for (const option of START_DEV_OPTIONS) {
      assert.ok(doc.includes(`\`${option.flags}\``), option.flags);
      assert.ok(doc.includes(`\`${option.env}\``), option.env);
      assert.ok(doc.includes(`\`${option.key}\``), option.key);
    }
    assert.ok(doc.includes(`\`${CONFIG_FILE_OPTION.flags}\``) && doc.includes(`\`${CONFIG_FILE_OPTION.env}\``));
  });
});

describe('docs/distributed.md', () => {
  const doc = readFileSync(DISTRIBUTED, 'utf8');

  it("names every option of hourglass start: the cluster's flag, env variable and key, and the start-dev keys it shares", () => {
    for (const option of START_CLUSTER_OPTIONS) {
      assert.ok(doc.includes(`\`${option.flags}\``), option.flags);
      assert.ok(doc.includes(`\`${option.env}\``), option.env);
      assert.ok(doc.includes(`\`${option.key}\``), option.key);
    }
    for (const key of START_SHARED_KEYS) assert.ok(doc.includes(`\`${key}\``), key);
  });
});
