/**
 * temporal.api.testservice.v1.TestService over a TimeSkippingClock: what `@temporalio/testing`'s
 * time-skipping environment calls (lock/unlock, sleep, current time).
 */
import { FailedPreconditionError, durationToMs, msToTimestamp, temporal, timestampToMs, type TimeSkippingClock } from '@hourglass/common';
import type { UnaryHandler } from './interceptors';

type SleepRequest = temporal.api.testservice.v1.ISleepRequest;
type SleepUntilRequest = temporal.api.testservice.v1.ISleepUntilRequest;

function waitUntil(clock: TimeSkippingClock, at: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const cancel = clock.wakeAt(at, () => resolve());
    signal.addEventListener('abort', () => {
      cancel();
      resolve();
    }, { once: true });
  });
}

export function testServiceHandlers(clock: TimeSkippingClock): Record<string, UnaryHandler> {
  return {
    LockTimeSkipping: async () => {
      clock.lock();
      return {};
    },
    UnlockTimeSkipping: async () => {
      if (!clock.locked) throw new FailedPreconditionError('time skipping is not locked: UnlockTimeSkipping without a matching LockTimeSkipping');
      clock.unlock();
      return {};
    },
    Sleep: async (r: SleepRequest, call) => {
      await waitUntil(clock, clock.now() + (durationToMs(r.duration) ?? 0), call.signal);
      return {};
    },
    SleepUntil: async (r: SleepUntilRequest, call) => {
      await waitUntil(clock, timestampToMs(r.timestamp) ?? clock.now(), call.signal);
      return {};
    },
    UnlockTimeSkippingWithSleep: async (r: SleepRequest, call) => {
      // Skip ahead by `duration` unless something else holds a lock, then restore our lock.
      const woke = waitUntil(clock, clock.now() + (durationToMs(r.duration) ?? 0), call.signal);
      const held = clock.locked;
      if (held) clock.unlock();
      await woke;
      if (held) clock.lock();
      return {};
    },
    GetCurrentTime: async () => ({ time: msToTimestamp(clock.now()) }),
  };
}
