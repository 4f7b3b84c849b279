/**
 * Storage metering. A run holds storage (its history's encoded bytes plus its execution row) from
 * its creation until retention deletes it: ACTIVE while it is open, RETAINED once closed. Each
 * commit of the run accrues what it held since the previous accrual — bytes × elapsed time, as
 * byte-seconds split over the UTC hours it spans — into the usage task of that same commit, so
 * storage is counted exactly once like actions. A scheduled `storage-accrual` timer (every
 * `history.storageAccrualInterval`, UTC-aligned) accrues idle runs; retention's deletion accrues
 * the last stretch, after which nothing accrues.
 */
import { WorkflowExecutionStatus } from '@hourglass/common';
import { StorageRecordTypes } from '@hourglass/usage';
import type { MutationContext } from '../workflow/mutation';
import { HOUR_MS, type UsageTask } from './usage-task';

type Increment = UsageTask['increments'][number];

/** The run's billable bytes now: its history plus its execution row. */
export function storageBytesOf(ctx: MutationContext, stateBytes: number): number {
  return ctx.ms.executionInfo.historySizeBytes + stateBytes;
}

/**
 * Accrues the run's storage since its last accrual up to `now` (as active when the run was open
 * before this change, retained otherwise) and records `bytes` as what it holds from now on.
 */
export function accrueStorage(ctx: MutationContext, now: number, bytes: number, out: Increment[]): void {
  const info = ctx.ms.executionInfo;
  const since = info.storageAccruedAt;
  const held = info.storageAccruedBytes ?? 0;
  if (since !== undefined && held > 0 && now > since) {
    const open = ctx.initialStatus === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    splitByHour(since, now, held, open ? StorageRecordTypes.active : StorageRecordTypes.retained, out);
  }
  info.storageAccruedAt = now;
  info.storageAccruedBytes = bytes;
}

/**
 * bytes × [from, to) as whole byte-seconds per UTC hour: hour h gets F(end) − F(start) with
 * F(t) = floor(bytes × (t − from) / 1000), so the hours sum to the whole interval rounded down once.
 */
export function splitByHour(from: number, to: number, bytes: number, recordType: string, out: Increment[]): void {
  const total = (t: number): bigint => (BigInt(bytes) * BigInt(t - from)) / 1000n;
  for (let hourStart = Math.floor(from / HOUR_MS) * HOUR_MS; hourStart < to; hourStart += HOUR_MS) {
    const a = Math.max(from, hourStart);
    const b = Math.min(to, hourStart + HOUR_MS);
    const amount = Number(total(b) - total(a));
    if (amount > 0) out.push({ hourStart, recordType, amount });
  }
}

/** The next accrual time after `now`: the next multiple of the interval since the epoch (UTC-aligned). */
export function nextAccrualAt(now: number, intervalMs: number): number {
  return (Math.floor(now / intervalMs) + 1) * intervalMs;
}
