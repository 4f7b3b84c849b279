import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentials, loadPackageDefinition, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';
import { InternalServer } from './internal-server';

type Status = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';
interface HealthClient extends Client {
  check(req: { service: string }, cb: (err: Error | null, res: { status: Status }) => void): void;
  watch(req: { service: string }): ClientReadableStream<{ status: Status }>;
}
const proto = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as { grpc: { health: { v1: { Health: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient } } } };

describe('the internal gRPC listener', () => {
  it('answers grpc.health.v1 per role and overall: NOT_SERVING until a role is up, NOT_SERVING again when leaving (Check and Watch)', async () => {
    const server = new InternalServer(['history', 'matching']);
    const port = await server.listen('127.0.0.1', 0);
    const client = new proto.grpc.health.v1.Health(`127.0.0.1:${port}`, credentials.createInsecure());
    const check = (service: string): Promise<Status | string> => new Promise((resolve) => client.check({ service }, (err, res) => resolve(err ? err.message : res.status)));
    try {
      assert.equal(await check(''), 'NOT_SERVING');
      assert.equal(await check('history'), 'NOT_SERVING');
      const seen: Status[] = [];
      const watch = client.watch({ service: 'history' });
      watch.on('data', (m: { status: Status }) => seen.push(m.status));
      watch.on('error', () => undefined);
      // The watch has started once it reports the current status.
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      server.setServing('history', true);
      server.setOverall(true);
      assert.equal(await check('history'), 'SERVING');
      assert.equal(await check('matching'), 'NOT_SERVING', 'each role on its own');
      assert.equal(await check(''), 'SERVING');
      assert.match(String(await check('frontend')), /NOT_FOUND/, 'a role this process does not run is unknown');
      // The open watch stream holds the listener until the grace period ends.
      await server.stop(200);
      assert.deepEqual(seen.slice(0, 3), ['NOT_SERVING', 'SERVING', 'NOT_SERVING'], 'a watcher sees the role come up and go away');
      watch.cancel();
    } finally {
      client.close();
    }
  });
});
