import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { historyShardKey, ownerOf, rendezvousWeight } from './rendezvous';

const hosts = (...ids: string[]) => ids.map((hostId) => ({ hostId }));
const KEYS = Array.from({ length: 4096 }, (_, i) => historyShardKey(i));

function assignment(keys: readonly string[], ids: readonly string[]): Map<string, string> {
  const list = hosts(...ids);
  return new Map(keys.map((k) => [k, ownerOf(k, list)!.hostId]));
}

describe('rendezvous hashing', () => {
  it('has no owner without hosts, and the only host owns everything', () => {
    assert.equal(ownerOf('k', []), undefined);
    assert.ok(KEYS.every((k) => ownerOf(k, hosts('solo'))?.hostId === 'solo'));
  });

  it('is deterministic and independent of the order the hosts are listed in', () => {
    const a = assignment(KEYS, ['h-1', 'h-2', 'h-3']);
    const b = assignment(KEYS, ['h-3', 'h-1', 'h-2']);
    assert.deepEqual([...a], [...b]);
    // Fixed values: another process (or a later build) must compute the same placement.
    assert.equal(rendezvousWeight('history-shard:0', 'history-a'), rendezvousWeight('history-shard:0', 'history-a'));
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((s) => ownerOf(historyShardKey(s), hosts('history-a', 'history-b', 'history-c'))?.hostId),
      [0, 1, 2, 3, 4, 5, 6, 7].map((s) => ownerOf(historyShardKey(s), hosts('history-c', 'history-b', 'history-a'))?.hostId),
    );
  });

  for (const n of [2, 3, 5, 10]) {
    it(`balances ${KEYS.length} keys across ${n} hosts within 15% of the fair share`, () => {
      const ids = Array.from({ length: n }, (_, i) => `history-${i}`);
      const counts = new Map<string, number>(ids.map((id) => [id, 0]));
      for (const owner of assignment(KEYS, ids).values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
      const fair = KEYS.length / n;
      for (const [id, count] of counts) assert.ok(Math.abs(count - fair) < 0.15 * fair, `${id} owns ${count}, fair share ${fair}`);
    });
  }

  it('a joining host takes about 1/n of the keys, only from the others, and no key moves between the others', () => {
    const before = assignment(KEYS, ['a', 'b', 'c']);
    const after = assignment(KEYS, ['a', 'b', 'c', 'd']);
    let moved = 0;
    for (const [key, owner] of after) {
      if (owner === before.get(key)) continue;
      moved++;
      assert.equal(owner, 'd', `${key} moved from ${before.get(key)} to ${owner}`);
    }
    const expected = KEYS.length / 4;
    assert.ok(Math.abs(moved - expected) < 0.15 * expected, `${moved} keys moved, about ${expected} expected`);
  });

  it("a leaving host's keys, and only those, move, spread over the others", () => {
    const before = assignment(KEYS, ['a', 'b', 'c', 'd']);
    const after = assignment(KEYS, ['a', 'b', 'd']);
    const receivers = new Map<string, number>();
    for (const [key, owner] of before) {
      if (owner !== 'c') assert.equal(after.get(key), owner, `${key} moved though its owner stayed`);
      else receivers.set(after.get(key)!, (receivers.get(after.get(key)!) ?? 0) + 1);
    }
    assert.deepEqual([...receivers.keys()].sort(), ['a', 'b', 'd']);
    const total = [...receivers.values()].reduce((x, y) => x + y, 0);
    for (const [id, count] of receivers) assert.ok(count > total / 6, `${id} received only ${count} of ${total}`);
  });
});
