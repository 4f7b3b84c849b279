/** FNV-1a, 32 bit: a stable, well-distributed hash for shard and partition placement. */
export function fnv1a32(input: string): number {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(input, 'utf8');
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The history shard that owns an execution: shard = hash(namespaceId, workflowId) mod numShards.
 * All runs of one workflow id live in the same shard, so a run chain changes in one transaction.
 * Persisted placement: never change this function for an existing cluster.
 */
export function shardIdFor(namespaceId: string, workflowId: string, numShards: number): number {
  return fnv1a32(`${namespaceId}\u0000${workflowId}`) % numShards;
}
