/**
 * How `hourglass start` and `start-dev` take their parts down: a stop that runs once, in the order
 * each composition root states, and the undo of a start that failed half way.
 */
import type { Logger } from '@hourglass/common';

/** One part's stop or close; a part that is absent is a step that does nothing (`() => part?.stop()`). */
export type StopStep = () => unknown;

/**
 * The server's `stop()`: the steps one after the other, each awaited before the next, so a part
 * stops only once the parts that call it have. A step that fails ends the stop with its error.
 * Every call answers with the first call's promise.
 */
export function stopInOrder(steps: readonly StopStep[]): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      for (const step of steps) await step();
    })();
    return stopping;
  };
}

/**
 * After a start failed: stops what had started, the last started first. A step that fails is
 * logged and the others still run, so the start's own error is the one the caller sees.
 */
export async function undoStarted(started: readonly StopStep[], logger: Logger): Promise<void> {
  for (const step of [...started].reverse()) {
    try {
      await step();
    } catch (cleanupErr) {
      logger.warn({ err: cleanupErr }, 'cleanup after a failed start failed');
    }
  }
}
