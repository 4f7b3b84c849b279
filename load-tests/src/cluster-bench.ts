/**
 * The same throughput load on one `hourglass start` process with every role, and on a cluster of
 * separate processes (2 frontends, 3 history hosts, 2 matching hosts by default), each on a fresh
 * MariaDB cluster (a cluster database and 4 shard databases, on the machine's MariaDB): the
 * server's CPU per workflow is summed over every process of the topology.
 *
 *     node load-tests/dist/cluster-bench.js [--topology single|split|both] [--workflows 1000] [--runs 1]
 *         [--place-partitions on|off]
 *
 * Each run starts the topology, drives it with `bench.js --mode throughput` against the first
 * frontend (`--server-pid` naming every process), and stops it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, type ClusterHostSpec } from '@hourglass/conformance';

const { values: args } = parseArgs({
  options: {
    topology: { type: 'string', default: 'both' },
    workflows: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '100' },
    runs: { type: 'string', default: '1' },
    // on | off: matching.placePartitionsAcrossHosts for every host (unset: the server's default, on).
    'place-partitions': { type: 'string' },
  },
});

const TOPOLOGIES: Record<string, ClusterHostSpec[]> = {
  single: [{ name: 'all', services: ['frontend', 'history', 'matching', 'indexer'] }],
  split: [
    { name: 'history-1', services: ['history'] },
    { name: 'history-2', services: ['history'] },
    { name: 'history-3', services: ['history'] },
    { name: 'matching-1', services: ['matching'] },
    { name: 'matching-2', services: ['matching'] },
    { name: 'frontend-1', services: ['frontend', 'indexer'] },
    { name: 'frontend-2', services: ['frontend'] },
  ],
};

async function runOnce(topology: string): Promise<string> {
  const hosts = TOPOLOGIES[topology];
  if (!hosts) throw new Error(`--topology: expected single, split or both, got ${topology}`);
  const place = args['place-partitions'];
  if (place !== undefined && place !== 'on' && place !== 'off') throw new Error(`--place-partitions: expected on or off, got ${place}`);
  const extraYaml = place === undefined ? undefined : `settings:\n  matching.placePartitionsAcrossHosts:\n    - value: ${place === 'on'}\n`;
  const cluster = await startCluster({ hosts, numHistoryShards: 16, ...(extraYaml ? { extraYaml } : {}) });
  try {
    const pids = cluster.hosts.map((h) => h.pid).filter((p): p is number => p !== undefined);
    const [address] = cluster.frontends();
    const result = spawnSync(
      process.execPath,
      [path.join(__dirname, 'bench.js'), '--address', address ?? '', '--server-pid', pids.join(','), '--mode', 'throughput', '--workflows', String(args.workflows), '--concurrency', String(args.concurrency)],
      { encoding: 'utf8' },
    );
    const line = result.stdout.split('\n').find((l) => l.startsWith('throughput:'));
    if (!line) throw new Error(`bench failed:\n${result.stdout}\n${result.stderr}`);
    return `${topology} (${pids.length} process${pids.length === 1 ? '' : 'es'}): ${line}`;
  } finally {
    await cluster.dispose();
  }
}

async function main(): Promise<void> {
  const topologies = args.topology === 'both' ? ['single', 'split'] : [String(args.topology)];
  for (let i = 0; i < Number(args.runs); i++) {
    // Alternating, so a change in the machine's load hits both alike.
    for (const t of topologies) console.log(await runOnce(t));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
