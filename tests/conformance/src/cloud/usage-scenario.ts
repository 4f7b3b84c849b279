/**
 * `@temporalio/cloud`'s CloudOperationsClient, unmodified, reads usage: run by metering.test.ts
 * in a process of its own (the client trusts the development CA through
 * GRPC_DEFAULT_SSL_ROOTS_FILE_PATH). Calls GetUsage (today's UTC day, or the range given) and
 * prints the summaries as one JSON line; the test asserts.
 *
 * Usage: node usage-scenario.js <tls address> <api key> [<start ms> <end ms>]
 */
import { CloudOperationsClient, CloudOperationsConnection } from '@temporalio/cloud';
import Long from 'long';

const [address, apiKey, start, end] = process.argv.slice(2) as [string, string, string | undefined, string | undefined];
const ts = (ms: string): { seconds: Long } => ({ seconds: Long.fromNumber(Math.floor(Number(ms) / 1000)) });

async function main(): Promise<void> {
  const connection = await CloudOperationsConnection.connect({ address, apiKey });
  const client = new CloudOperationsClient({ connection });
  const observed: Record<string, unknown> = {};
  try {
    const res = await client.cloudService.getUsage(start && end ? { startTimeInclusive: ts(start), endTimeExclusive: ts(end) } : {});
    observed.summaries = res.summaries.map((s) => ({
      startMs: Number(s.startTime?.seconds ?? 0) * 1000,
      endMs: Number(s.endTime?.seconds ?? 0) * 1000,
      incomplete: s.incomplete ?? false,
      groups: (s.recordGroups ?? []).map((g) => ({
        groupBys: (g.groupBys ?? []).map((b) => ({ key: b.key, value: b.value })),
        records: (g.records ?? []).map((r) => ({ type: r.type, unit: r.unit, value: r.value })),
      })),
    }));
    observed.nextPageToken = res.nextPageToken;
  } catch (err) {
    const code = (err as { code?: unknown }).code ?? (err as { cause?: { code?: unknown } }).cause?.code;
    if (typeof code !== 'number') throw err;
    observed.code = code;
  }
  await connection.close();
  console.log(JSON.stringify(observed));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
