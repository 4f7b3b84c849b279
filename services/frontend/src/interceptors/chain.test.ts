/**
 * The interceptor chain: its fixed order, namespace resolution before any handler, cluster-scoped
 * methods without a namespace, and errors of any step as the gRPC status the SDK reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import {
  DEFAULT_SETTINGS,
  InvariantViolationError,
  NamespaceNotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  ServerMetrics,
  CommandRejectedError,
  SettingsRegistry,
  createLogger,
  UnimplementedError,
  DeadlineExceededError,
  InvalidArgumentError,
  google,
  silentLogger,
  temporal,
} from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import { toServiceError } from '../grpc/errors';
import { WORKFLOW_SERVICE, methodSpec } from '../method-table';
import { RequestValidator } from '../validation/request-validator';
import { CHAIN_ORDER, FairAdmission, frontendChain, handlerContext, type Call, type HandlerContext, type NamespaceLookup } from './index';

const NAMESPACE: NamespaceRecord = {
  id: 'ns-id-1',
  name: 'orders',
  accountId: 'acct1',
  resourceVersion: 1,
  limits: {},
  state: 'registered',
  description: '',
  ownerEmail: '',
  retentionMs: 86_400_000,
  data: {},
  createdAt: 0,
  updatedAt: 0,
};

function fakeNamespaces(record: NamespaceRecord, journal?: string[]): NamespaceLookup {
  return {
    async getByName(name) {
      journal?.push('namespace');
      if (name !== record.name) throw new NamespaceNotFoundError(name);
      return record;
    },
    async getById(id) {
      journal?.push('namespace');
      if (id !== record.id) throw new NamespaceNotFoundError(id);
      return record;
    },
  };
}

function newCall(method: string, request: unknown): Call {
  const spec = methodSpec(WORKFLOW_SERVICE, method);
  assert.ok(spec, `${method} has a row`);
  return {
    service: WORKFLOW_SERVICE,
    method,
    fullMethod: `/${WORKFLOW_SERVICE}/${method}`,
    spec,
    request,
    context: { deadline: 0, signal: new AbortController().signal, metadata: new Metadata(), transport: 'plaintext' },
    logger: silentLogger(),
    namespaceName: '',
    namespace: undefined,
    principal: undefined,
    taskToken: undefined,
  };
}

const startRequest = (namespace: string): temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest => ({
  namespace,
  workflowId: 'wf-1',
  workflowType: { name: 'Greet' },
  taskQueue: { name: 'tq' },
  requestId: 'r-1',
});

/** Decodes the NamespaceNotFoundFailure the SDK reads from grpc-status-details-bin. */
function namespaceNotFoundDetail(metadata: Metadata | undefined): string | undefined {
  const bin = metadata?.get('grpc-status-details-bin')[0];
  if (!(bin instanceof Buffer)) return undefined;
  const detail = google.rpc.Status.decode(bin).details?.[0];
  if (detail?.type_url !== 'type.googleapis.com/temporal.api.errordetails.v1.NamespaceNotFoundFailure') return undefined;
  return temporal.api.errordetails.v1.NamespaceNotFoundFailure.decode(detail.value as Uint8Array).namespace;
}

describe('interceptor chain', () => {
  it('runs its interceptors in the order CHAIN_ORDER says, then the handler', async () => {
    const journal: string[] = [];
    class RecordingAdmission extends FairAdmission {
      override enter(...args: Parameters<FairAdmission['enter']>) {
        journal.push('admission');
        return super.enter(...args);
      }
    }
    class RecordingValidator extends RequestValidator {
      override validate(...args: Parameters<RequestValidator['validate']>) {
        journal.push('validation');
        return super.validate(...args);
      }
    }
    const chain = frontendChain({
      logger: silentLogger(),
      namespaces: fakeNamespaces(NAMESPACE, journal),
      authenticator: {
        authenticate: async () => {
          journal.push('authentication');
          return undefined;
        },
      },
      authorizer: {
        authorize: () => {
          journal.push('authorization');
        },
      },
      rateLimiter: {
        acquire: () => {
          journal.push('rateLimit');
        },
      },
      validator: new RecordingValidator(DEFAULT_SETTINGS),
      admission: new RecordingAdmission(() => 16),
    });
    assert.deepEqual(chain.names, [...CHAIN_ORDER]);
    await chain.run(newCall('StartWorkflowExecution', startRequest('orders')), async () => {
      journal.push('handler');
      return {};
    });
    // telemetry and callContext (first, by chain.names) leave no trace here: metrics and logging are tested below.
    assert.deepEqual(journal, [...CHAIN_ORDER.filter((name) => name !== 'callContext' && name !== 'telemetry'), 'handler']);
  });

  it("gives the call a logger carrying its method, namespace and workflow id, made only when the call logs", async () => {
    const children: object[] = [];
    const root = { ...silentLogger(), child: (bindings: object) => (children.push(bindings), silentLogger().child(bindings)) } as unknown as ReturnType<typeof silentLogger>;
    const chain = frontendChain({ logger: root, namespaces: fakeNamespaces(NAMESPACE) });
    await chain.run(newCall('StartWorkflowExecution', startRequest('orders')), async () => ({}));
    assert.deepEqual(children, [], 'a call that logs nothing makes no child logger');
    await chain.run(newCall('StartWorkflowExecution', startRequest('orders')), async (call) => {
      call.logger.info('first line');
      call.logger.warn('second line');
      return {};
    });
    assert.deepEqual(children, [{ method: 'StartWorkflowExecution', namespace: 'orders', workflowId: 'wf-1' }], 'one child, on first use');
  });

  it('logs an unimplemented method, rejected commands and a timed-out query once each at warn, rate limited; other failures at debug', async () => {
    const lines: { level: number; msg: string; code?: string; suppressedSinceLast?: number }[] = [];
    const sink = { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) };
    const logger = createLogger({ level: 'debug', destination: sink });
    const chain = frontendChain({ logger, namespaces: fakeNamespaces(NAMESPACE) });
    const chainWithoutValidation = frontendChain({ logger, namespaces: fakeNamespaces(NAMESPACE), validator: { validate: () => ({}) } as unknown as RequestValidator });
    const fail = (method: string, request: unknown, err: Error) => chain.run(newCall(method, request), async () => Promise.reject(err)).catch(() => undefined);
    // A task-token method's call as validation sees it (a decoded token): the failure is the handler's.
    const failFromHandler = (method: string, err: Error) => {
      const call = newCall(method, { namespace: 'orders' });
      call.taskToken = { namespaceId: NAMESPACE.id, workflowId: 'wf-1', runId: 'r', scheduledEventId: 2, attempt: 1 } as unknown as Call['taskToken'];
      return chainWithoutValidation.run(call, async () => Promise.reject(err)).catch(() => undefined);
    };
    for (let i = 0; i < 8; i++) await fail('StartWorkflowExecution', startRequest('orders'), new UnimplementedError('WorkflowService/StartWorkflowExecution is not implemented by Hourglass yet'));
    await fail('QueryWorkflow', { namespace: 'orders', execution: { workflowId: 'wf-1' }, query: { queryType: 'q' } }, new DeadlineExceededError('no worker answered the query within 10s'));
    await fail('StartWorkflowExecution', startRequest('orders'), new InvalidArgumentError('workflowId must not be empty'));
    await failFromHandler('RespondWorkflowTaskCompleted', new CommandRejectedError('BadScheduleActivityAttributes: activityId is not set'));
    await failFromHandler('RespondWorkflowTaskCompleted', new InvalidArgumentError('UnhandledCommand'));
    const warns = lines.filter((l) => l.level === 40);
    assert.deepEqual(
      warns.map((l) => l.msg),
      [...Array(5).fill('method not implemented'), 'query timed out', 'workflow task commands rejected'],
      'five unimplemented lines a minute per method, then silence; the query timeout has its own window',
    );
    assert.equal(warns[0]?.code, 'UNIMPLEMENTED');
    const debug = lines.filter((l) => l.level === 20);
    assert.deepEqual(
      debug.map((l) => [l.msg, l.code]),
      [
        ['rpc failed', 'INVALID_ARGUMENT'],
        ['rpc failed', 'INVALID_ARGUMENT'],
      ],
      'an ordinary user error stays at debug, and so does UnhandledCommand (no rejection: the worker retries)',
    );
  });

  it('counts every call by method, namespace and outcome, with its latency and rate-limit refusals', async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(NAMESPACE), telemetry: { metrics } });
    await chain.run(newCall('StartWorkflowExecution', startRequest('orders')), async () => ({}));
    await chain.run(newCall('StartWorkflowExecution', startRequest('orders')), async () => ({}));
    await chain
      .run(newCall('StartWorkflowExecution', startRequest('orders')), async () => {
        throw new ResourceExhaustedError('namespace orders is over its rps', { type: 'ResourceExhaustedFailure', cause: 1 });
      })
      .catch(() => undefined);
    const text = await metrics.exposition();
    assert.match(text, /^hourglass_rpc_requests_total\{service="WorkflowService",method="StartWorkflowExecution",namespace="orders",code="OK"\} 2$/m);
    assert.match(text, /^hourglass_rpc_requests_total\{service="WorkflowService",method="StartWorkflowExecution",namespace="orders",code="RESOURCE_EXHAUSTED"\} 1$/m);
    assert.match(text, /^hourglass_rpc_latency_seconds_count\{service="WorkflowService",method="StartWorkflowExecution",namespace="orders"\} 3$/m);
    assert.match(text, /^hourglass_rate_limit_rejections_total\{namespace="orders",cause="rps"\} 1$/m);
  });

  it('refuses an unknown namespace with NOT_FOUND and NamespaceNotFoundFailure before the handler runs', async () => {
    let handled = false;
    let authorized = false;
    const chain = frontendChain({
      logger: silentLogger(),
      namespaces: fakeNamespaces(NAMESPACE),
      authorizer: {
        authorize: () => {
          authorized = true;
        },
      },
    });
    const err = await chain.run(newCall('StartWorkflowExecution', startRequest('no-such-namespace')), async () => {
      handled = true;
      return {};
    }).then(
      () => assert.fail('the call must be refused'),
      (e: unknown) => e,
    );
    assert.equal(handled, false, 'the handler never ran');
    assert.equal(authorized, false, 'nor did the authorizer');
    const grpc = toServiceError(err, 'StartWorkflowExecution', silentLogger());
    assert.equal(grpc.code, status.NOT_FOUND);
    assert.match(grpc.details ?? '', /no-such-namespace/);
    assert.equal(namespaceNotFoundDetail(grpc.metadata), 'no-such-namespace');
  });

  it('hands the handler the resolved namespace', async () => {
    const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(NAMESPACE) });
    let seen: NamespaceRecord | undefined;
    await chain.run(newCall('StartWorkflowExecution', startRequest('orders')), async (call) => {
      seen = handlerContext(call).namespace;
      return {};
    });
    assert.equal(seen, NAMESPACE);
  });

  it('resolves DescribeNamespace by id when no name is given', async () => {
    const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(NAMESPACE) });
    let seen: HandlerContext | undefined;
    await chain.run(newCall('DescribeNamespace', { id: NAMESPACE.id }), async (call) => {
      seen = handlerContext(call);
      return {};
    });
    assert.equal(seen?.namespace, NAMESPACE);
    assert.equal(seen?.namespaceName, 'orders');
  });

  it('runs a method whose row names no namespace (GetSystemInfo) without one', async () => {
    const journal: string[] = [];
    const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(NAMESPACE, journal) });
    let context: HandlerContext | undefined;
    const response = await chain.run(newCall('GetSystemInfo', {}), async (call) => {
      context = handlerContext(call);
      return { serverVersion: 'x' };
    });
    assert.deepEqual(response, { serverVersion: 'x' });
    assert.deepEqual(journal, [], 'no namespace was looked up');
    assert.equal(context?.namespaceName, '');
    assert.throws(() => context?.namespace, InvariantViolationError, 'reading a namespace the row does not resolve is a bug');
  });

  it('names a namespace for RegisterNamespace without resolving it', async () => {
    const journal: string[] = [];
    const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(NAMESPACE, journal) });
    let name = '';
    await chain.run(newCall('RegisterNamespace', { namespace: 'brand-new' }), async (call) => {
      name = handlerContext(call).namespaceName;
      return {};
    });
    assert.equal(name, 'brand-new');
    assert.deepEqual(journal, []);
  });

  it('refuses a missing or too long namespace name as INVALID_ARGUMENT, quoting at most ~100 characters', async () => {
    const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(NAMESPACE) });
    const missing = await chain.run(newCall('StartWorkflowExecution', startRequest('')), async () => ({})).catch((e: unknown) => e);
    assert.equal(toServiceError(missing, 'x', silentLogger()).code, status.INVALID_ARGUMENT);
    assert.match((missing as Error).message, /namespace is not set/);
    const long = await chain.run(newCall('StartWorkflowExecution', startRequest('n'.repeat(1001))), async () => ({})).catch((e: unknown) => e);
    assert.equal(toServiceError(long, 'x', silentLogger()).code, status.INVALID_ARGUMENT);
    assert.match((long as Error).message, /namespace .*1001 bytes/);
    assert.ok((long as Error).message.length < 300, `short message: ${(long as Error).message.length}`);
  });

  it('quotes a long unknown namespace name instead of echoing it', async () => {
    const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(NAMESPACE) });
    const name = 'x'.repeat(900);
    const err = await chain.run(newCall('StartWorkflowExecution', startRequest(name)), async () => ({})).catch((e: unknown) => e);
    const grpc = toServiceError(err, 'x', silentLogger());
    assert.equal(grpc.code, status.NOT_FOUND);
    assert.ok((grpc.details ?? '').length < 300, grpc.details);
    assert.match(grpc.details ?? '', /900 characters/);
    assert.equal(namespaceNotFoundDetail(grpc.metadata), name, 'the failure detail still names the namespace');
  });

  it('turns a denial and a refused rate limit into PERMISSION_DENIED and RESOURCE_EXHAUSTED', async () => {
    const denied = await frontendChain({
      logger: silentLogger(),
      namespaces: fakeNamespaces(NAMESPACE),
      authorizer: {
        authorize: (_principal, target) => {
          throw new PermissionDeniedError(`no write on ${target.namespaceName} for ${target.method}`);
        },
      },
    })
      .run(newCall('StartWorkflowExecution', startRequest('orders')), async () => ({}))
      .catch((e: unknown) => e);
    const deniedStatus = toServiceError(denied, 'x', silentLogger());
    assert.equal(deniedStatus.code, status.PERMISSION_DENIED);
    assert.match(deniedStatus.details ?? '', /no write on orders for \/temporal\.api\.workflowservice\.v1\.WorkflowService\/StartWorkflowExecution/);

    let key: unknown;
    const limited = await frontendChain({
      logger: silentLogger(),
      namespaces: fakeNamespaces(NAMESPACE),
      rateLimiter: {
        acquire: (request) => {
          key = request;
          throw new ResourceExhaustedError('namespace rate limit exceeded', { type: 'ResourceExhaustedFailure', cause: 1 });
        },
      },
    })
      .run(newCall('GetWorkflowExecutionHistory', { namespace: 'orders', execution: { workflowId: 'w' }, waitNewEvent: true }), async () => ({}))
      .catch((e: unknown) => e);
    assert.equal(toServiceError(limited, 'x', silentLogger()).code, status.RESOURCE_EXHAUSTED);
    assert.deepEqual(key, {
      bucket: 'execution',
      priority: 5,
      namespace: 'orders',
      method: 'GetWorkflowExecutionHistory',
      caller: undefined,
      account: undefined,
      limits: {},
      billable: false,
      poll: false,
      workerProgress: false,
    });
  });

  it('validates after resolution: a bad request in a known namespace is INVALID_ARGUMENT and never reaches the handler', async () => {
    let handled = false;
    const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(NAMESPACE) });
    const err = await chain
      .run(newCall('StartWorkflowExecution', { ...startRequest('orders'), workflowIdReusePolicy: 42 }), async () => {
        handled = true;
        return {};
      })
      .catch((e: unknown) => e);
    assert.equal(handled, false);
    assert.equal(toServiceError(err, 'x', silentLogger()).code, status.INVALID_ARGUMENT);
    assert.match((err as Error).message, /workflowIdReusePolicy is 42/);
  });

  it('records one usage record per successful billable call', async () => {
    const records: string[] = [];
    const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(NAMESPACE), meter: { recordAction: (r) => records.push(`${r.method}@${r.namespaceName}`) } });
    await chain.run(newCall('StartWorkflowExecution', startRequest('orders')), async () => ({}));
    await chain.run(newCall('DescribeWorkflowExecution', { namespace: 'orders', execution: { workflowId: 'w' } }), async () => ({}));
    await chain.run(newCall('SignalWorkflowExecution', { namespace: 'orders', workflowExecution: { workflowId: 'w' }, signalName: 's' }), async () => {
      throw new NamespaceNotFoundError('gone');
    }).catch(() => undefined);
    assert.deepEqual(records, ['StartWorkflowExecution@orders']);
  });

  it("rate-limits per namespace by default, from the settings and the namespace record's limits", async () => {
    const settings = new SettingsRegistry({ 'frontend.namespaceAPS': [{ value: 1 }], 'frontend.namespaceWorkerReservePercent': [{ value: 0 }] });
    /** Three starts through one chain: 'ok' or the gRPC status each ended with. */
    const threeStarts = async (record: NamespaceRecord): Promise<Array<number | undefined | 'ok'>> => {
      const chain = frontendChain({ logger: silentLogger(), namespaces: fakeNamespaces(record), settings });
      const outcomes: Array<number | undefined | 'ok'> = [];
      for (let i = 0; i < 3; i++) {
        outcomes.push(
          await chain.run(newCall('StartWorkflowExecution', startRequest('orders')), async () => ({})).then(
            () => 'ok' as const,
            (err: unknown) => toServiceError(err, 'x', silentLogger()).code,
          ),
        );
      }
      return outcomes;
    };
    assert.deepEqual(await threeStarts(NAMESPACE), ['ok', 'ok', status.RESOURCE_EXHAUSTED], 'frontend.namespaceAPS 1: a burst of 2');
    assert.deepEqual(await threeStarts({ ...NAMESPACE, limits: { aps: 0 } }), ['ok', 'ok', 'ok'], "the record's limits.aps 0 lifts it");
  });
});
