import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HistorySettings, Limits, allSettings } from '@hourglass/common';
import { formatDefault, formatDuration, formatSettings } from './settings-table';

describe('hourglass settings', () => {
  it('lists every setting with its key, scope, default and description', () => {
    const definitions = allSettings();
    assert.ok(definitions.length > 10);
    const rows = JSON.parse(formatSettings(definitions, 'json')) as { key: string; scope: string; default: unknown; description: string }[];
    assert.deepEqual(rows.map((r) => r.key).sort(), definitions.map((d) => d.key).sort());
    const blob = rows.find((r) => r.key === 'limit.blobSize.error');
    assert.deepEqual(blob, { key: 'limit.blobSize.error', scope: 'namespace', default: 2 * 1024 * 1024, description: Limits.blobSizeError.description });

    const markdown = formatSettings(definitions, 'markdown').split('\n');
    assert.equal(markdown.length, definitions.length + 2, 'a header, a rule and one row per setting');
    assert.ok(markdown.includes('| `history.queryTimeout` | namespace | `20s` | Longest a query waits for a worker to answer it. |'));

    const text = formatSettings(definitions, 'text');
    for (const d of definitions) assert.ok(text.includes(`${d.key}  (scope: ${d.scope}, default: `), d.key);
  });

  it('shows durations as durations and byte sizes with their unit', () => {
    assert.equal(formatDefault(HistorySettings.timerLookahead), '1m');
    assert.equal(formatDefault(Limits.blobSizeError), '2097152 (2 MB)');
    assert.equal(formatDefault(Limits.maxIdLength), '1000');
    assert.equal(formatDuration(90_500), '1m30s500ms');
    assert.equal(formatDuration(0), '0s');
  });
});
