/**
 * Rendezvous (highest-random-weight) hashing: a key belongs to the host with the highest
 * weight(key, hostId). Every process that sees the same hosts picks the same owner, with no
 * coordination; when a host joins it takes about 1/n of the keys (only from the others, never
 * moving a key between two hosts that stayed), and when one leaves only its keys move.
 * Weights depend on the host id alone (not its address or session), so a restarted host gets its
 * keys back. Persisted placement in effect: never change the weight function of a running cluster.
 */
import { fnv1a32 } from '../hash';

/** What rendezvous hashing needs of a host. */
export interface RendezvousHost {
  readonly hostId: string;
}

/** murmur3's 32-bit finaliser: every input bit moves every output bit (FNV alone mixes its last bytes poorly). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The weight of `hostId` for `key`: an unsigned 32-bit integer, the same in every process. */
export function rendezvousWeight(key: string, hostId: string): number {
  return fmix32(fnv1a32(`${key}\u0000${hostId}`) ^ fmix32(fnv1a32(hostId)));
}

/**
 * The owner of `key` among `hosts`: the highest weight, ties (a 1 in 2^32 chance) to the smaller
 * host id. Undefined when there is no host. O(hosts).
 *
 * @example
 * ownerOf('history-shard:7', liveHistoryHosts)?.hostId // 'history-b'
 */
export function ownerOf<H extends RendezvousHost>(key: string, hosts: readonly H[]): H | undefined {
  let best: H | undefined;
  let bestWeight = -1;
  for (const host of hosts) {
    const weight = rendezvousWeight(key, host.hostId);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && host.hostId < best.hostId)) {
      best = host;
      bestWeight = weight;
    }
  }
  return best;
}

/** The rendezvous key of a history shard. */
export function historyShardKey(shardId: number): string {
  return `history-shard:${shardId}`;
}
