/**
 * The served gRPC surface over a real grpc-js connection: the message size limit is enforced before
 * decoding, every method of every registered service goes through the chain, unimplemented ones
 * answer UNIMPLEMENTED naming themselves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, compressionAlgorithms, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { DEFAULT_SETTINGS, NamespaceNotFoundError, silentLogger, temporal } from '@hourglass/common';
import type { HistoryService, MatchingService } from '@hourglass/contracts';
import type { NamespaceRegistry } from '@hourglass/history';
import type { NamespaceRecord } from '@hourglass/persistence';
import { DEFAULT_FRONTEND_CONFIG } from './config';
import { FrontendServer } from './frontend-server';
import { inflateMessage, installInflate } from './grpc/inflate';
import { frontendChain } from './interceptors';
import { OPERATOR_SERVICE, WORKFLOW_SERVICE } from './method-table';
import { operatorServiceHandlers } from './operator-service';
import { WorkflowService } from './workflow-service';

const ws = temporal.api.workflowservice.v1;
const NAMESPACE: NamespaceRecord = { id: 'ns-1', name: 'default', accountId: 'acct1', resourceVersion: 1, limits: {}, state: 'registered', description: '', ownerEmail: '', retentionMs: 1, data: {}, createdAt: 0, updatedAt: 0 };

let lookups = 0;
const namespaces = {
  async getByName(name: string) {
    lookups++;
    if (name !== NAMESPACE.name) throw new NamespaceNotFoundError(name);
    return NAMESPACE;
  },
  async getById(id: string) {
    lookups++;
    if (id !== NAMESPACE.id) throw new NamespaceNotFoundError(id);
    return NAMESPACE;
  },
};
let started = 0;
const history = {
  async startWorkflowExecution() {
    started++;
    return { runId: 'run-1', started: true };
  },
} as unknown as HistoryService;

let server: FrontendServer;
let client: Client;

before(async () => {
  const service = new WorkflowService({ config: DEFAULT_FRONTEND_CONFIG, history, matching: {} as MatchingService, namespaces: namespaces as unknown as NamespaceRegistry });
  server = new FrontendServer({ ...DEFAULT_FRONTEND_CONFIG, port: 0 }, silentLogger(), frontendChain({ logger: silentLogger(), namespaces }), [
    { serviceName: WORKFLOW_SERVICE, handlers: service.handlers() },
    { serviceName: OPERATOR_SERVICE, handlers: operatorServiceHandlers() },
  ], DEFAULT_SETTINGS);
  const port = await server.start();
  client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.stop();
});

/** One unary call with raw bytes in and out. */
function call(service: string, method: string, body: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/${service}/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      { deadline: Date.now() + 10_000 },
      (err: ServiceError | null, response?: Buffer) => (err ? reject(err) : resolve(response as Buffer)),
    );
  });
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  return promise.then(
    () => assert.fail('the call must fail'),
    (err: ServiceError) => err,
  );
}

const startBytes = (extra: object = {}) =>
  ws.StartWorkflowExecutionRequest.encode({ namespace: 'default', workflowId: 'w', workflowType: { name: 't' }, taskQueue: { name: 'q' }, ...extra }).finish();

describe('frontend server', () => {
  it('serves a call through the chain to its handler', async () => {
    const response = ws.StartWorkflowExecutionResponse.decode(await call(WORKFLOW_SERVICE, 'StartWorkflowExecution', startBytes()));
    assert.equal(response.runId, 'run-1');
  });

  it('refuses a 5 MB request with RESOURCE_EXHAUSTED before decoding it', async () => {
    const before = { lookups, started };
    const body = startBytes({ input: { payloads: [{ data: Buffer.alloc(5 * 1024 * 1024, 1) }] } });
    const err = await failure(call(WORKFLOW_SERVICE, 'StartWorkflowExecution', body));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED, err.details);
    assert.match(err.details, /larger than max/);
    assert.deepEqual({ lookups, started }, before, 'no step of the chain ran');
    // The connection is still good.
    assert.ok(ws.GetSystemInfoResponse.decode(await call(WORKFLOW_SERVICE, 'GetSystemInfo', new Uint8Array())).serverVersion);
  });

  it('answers UNIMPLEMENTED naming a method without a handler, after the chain', async () => {
    const err = await failure(call(WORKFLOW_SERVICE, 'ListWorkflowRules', ws.ListWorkflowRulesRequest.encode({ namespace: 'default' }).finish()));
    assert.equal(err.code, status.UNIMPLEMENTED);
    assert.equal(err.details, 'WorkflowService/ListWorkflowRules is not implemented by Hourglass');
    const unknownNs = await failure(call(WORKFLOW_SERVICE, 'ListWorkflowRules', ws.ListWorkflowRulesRequest.encode({ namespace: 'nope' }).finish()));
    assert.equal(unknownNs.code, status.NOT_FOUND, 'the namespace is resolved first');
  });

  it('serves the OperatorService: UNIMPLEMENTED with its name, an empty Nexus endpoint list', async () => {
    const operator = temporal.api.operatorservice.v1;
    const err = await failure(call(OPERATOR_SERVICE, 'ListClusters', operator.ListClustersRequest.encode({}).finish()));
    assert.equal(err.code, status.UNIMPLEMENTED);
    assert.equal(err.details, 'OperatorService/ListClusters is not implemented by Hourglass');
    const list = operator.ListNexusEndpointsResponse.decode(await call(OPERATOR_SERVICE, 'ListNexusEndpoints', new Uint8Array()));
    assert.deepEqual(list.endpoints, []);
  });

  it('inflates gzip requests in one call (the official worker gzips every request), under the same cap', async () => {
    assert.equal(installInflate(), true, 'this grpc-js no longer has the method installInflate replaces');
    const gzipClient = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure(), { 'grpc.default_compression_algorithm': compressionAlgorithms.gzip });
    try {
      const unary = (body: Uint8Array): Promise<Buffer> =>
        new Promise((resolve, reject) => {
          gzipClient.makeUnaryRequest(`/${WORKFLOW_SERVICE}/StartWorkflowExecution`, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), { deadline: Date.now() + 10_000 }, (err, response) =>
            err ? reject(err) : resolve(response as Buffer),
          );
        });
      assert.equal(ws.StartWorkflowExecutionResponse.decode(await unary(startBytes())).runId, 'run-1');
      // 5 MB of zeros gzips to a few KB: inflated in one call, and refused at the 4 MB cap.
      const before = { lookups, started };
      const err = await failure(unary(startBytes({ input: { payloads: [{ data: Buffer.alloc(5 * 1024 * 1024) }] } })));
      assert.equal(err.code, status.RESOURCE_EXHAUSTED, err.details);
      assert.match(err.details, /decompresses to a size larger than 4194304/);
      assert.deepEqual({ lookups, started }, before, 'no step of the chain ran');
    } finally {
      gzipClient.close();
    }
    const corrupt = inflateMessage(Buffer.from('not gzip at all'), 'gzip', 1024);
    assert.ok(!Buffer.isBuffer(corrupt));
    assert.deepEqual(corrupt, { code: status.INTERNAL, details: 'Failed to decompress message' });
  });

  it('refuses to start with a handler for a method that does not exist', () => {
    assert.throws(
      () => new FrontendServer(DEFAULT_FRONTEND_CONFIG, silentLogger(), frontendChain({ logger: silentLogger(), namespaces }), [{ serviceName: WORKFLOW_SERVICE, handlers: { StartWorkflow: async () => ({}) } }]),
      /handler StartWorkflow names no method/,
    );
  });
});
