import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS, HistorySettings, Limits, SettingsRegistry } from '@hourglass/common';
import { DEFAULT_HISTORY_CONFIG } from '@hourglass/history';
import { historyConfigFrom } from './service-configs';

describe('service configs from settings', () => {
  it('with default settings, equal the services’ own defaults (the two never disagree)', () => {
    const { numHistoryShards: _shards, hostIdentity: _host, ...history } = DEFAULT_HISTORY_CONFIG;
    assert.deepEqual(historyConfigFrom(DEFAULT_SETTINGS), history);
  });

  it('carry global overrides to the services', () => {
    const settings = new SettingsRegistry({
      [HistorySettings.timerLookahead.key]: [{ value: '5m' }],
      [Limits.blobSizeError.key]: [{ value: 1024 }, { value: 10, constraints: { namespace: 'billing' } }],
    });
    assert.equal(historyConfigFrom(settings).timerLookaheadMs, 300_000);
    assert.equal(historyConfigFrom(settings).blobSizeLimitBytes, 1024, 'the global value, not a namespace one');
  });
});
