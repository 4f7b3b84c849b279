import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrontendSettings } from './settings-definitions';
import { SettingsRegistry, numberSetting } from './settings';

describe('numberSetting', () => {
  it('reads fractions and numeric strings within its bounds, and refuses the rest saying why', () => {
    const percent = numberSetting(0, 100);
    assert.equal(percent(12.5), 12.5);
    assert.equal(percent('20'), 20);
    assert.throws(() => percent(101), /expected a number from 0 to 100, got 101/);
    assert.throws(() => percent('lots'), /expected a number from 0 to 100, got "lots"/);
    assert.throws(() => numberSetting(0.1)(0), /expected a number of at least 0.1, got 0/);
    assert.throws(() => numberSetting(0)(Number.NaN), /got NaN/);
  });

  it('is how a config file sets the burst ratio of one namespace', () => {
    const settings = new SettingsRegistry({ 'frontend.namespaceBurstRatio': [{ value: '1.5', constraints: { namespace: 'orders' } }] });
    assert.equal(settings.get(FrontendSettings.namespaceBurstRatio, { namespace: 'orders' }), 1.5);
    assert.equal(settings.get(FrontendSettings.namespaceBurstRatio, { namespace: 'other' }), 2);
  });
});
