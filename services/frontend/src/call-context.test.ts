import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallCancellation } from './call-context';

describe('CallCancellation', () => {
  it('a signal read before the cancellation is aborted by it, with its reason, once', () => {
    const cancellation = new CallCancellation();
    const signal = cancellation.signal;
    let aborts = 0;
    signal.addEventListener('abort', () => (aborts += 1));
    assert.equal(signal.aborted, false);
    assert.equal(cancellation.signal, signal, 'one signal per call');
    const reason = new Error('the caller cancelled the call');
    cancellation.cancel(reason);
    cancellation.cancel(new Error('again'));
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, reason);
    assert.equal(aborts, 1);
  });

  it('a signal first read after the cancellation is born aborted, with the same reason', () => {
    const cancellation = new CallCancellation();
    const reason = new Error('deadline');
    cancellation.cancel(reason);
    assert.equal(cancellation.signal.aborted, true);
    assert.equal(cancellation.signal.reason, reason);
  });
});
