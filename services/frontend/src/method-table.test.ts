/**
 * The method table against the service descriptors of @temporalio/proto: no served method without a
 * row, no row for a method that does not exist, and every field a row names exists on the request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serviceMethods } from './grpc/service-definition';
import { CLOUD_SERVICE, METHOD_TABLE, OPERATOR_API, OPERATOR_SERVICE, TEST_SERVICE, WORKFLOW_SERVICE, callPriority, methodSpec } from './method-table';

const SERVICES = [WORKFLOW_SERVICE, OPERATOR_SERVICE, TEST_SERVICE, CLOUD_SERVICE, OPERATOR_API];

function fieldType(requestFields: Record<string, { type: string }>, name: string): string | undefined {
  return requestFields[name]?.type;
}

describe('method table', () => {
  it('serves exactly the five services', () => {
    assert.deepEqual(Object.keys(METHOD_TABLE).sort(), [...SERVICES].sort());
  });

  for (const service of SERVICES) {
    describe(service, () => {
      const methods = serviceMethods(service);

      it('has a row for every method of the descriptor', () => {
        assert.ok(methods.length > 0, `${service} has methods`);
        const missing = methods.map((m) => m.name).filter((name) => !methodSpec(service, name));
        assert.deepEqual(missing, [], `methods of ${service} without a row in src/method-table.ts`);
      });

      it('names no method the descriptor does not have', () => {
        const known = new Set(methods.map((m) => m.name));
        const unknown = Object.keys(METHOD_TABLE[service] ?? {}).filter((name) => !known.has(name));
        assert.deepEqual(unknown, [], `rows of ${service} naming no method`);
      });

      it('names request fields that exist, with the right types', () => {
        for (const { name, requestType } of methods) {
          const spec = methodSpec(service, name);
          if (!spec) continue;
          const fields = (requestType as unknown as { fields: Record<string, { type: string }> }).fields;
          const rule = spec.namespace;
          if (rule.kind === 'none') {
            assert.equal(fieldType(fields, 'namespace'), undefined, `${name} has a namespace field but its row says cluster-scoped`);
          } else if (rule.kind === 'account') {
            assert.equal(service, CLOUD_SERVICE, `${name}: only the account API leaves its namespaces to the identity service`);
          } else {
            assert.equal(fieldType(fields, rule.field), 'string', `${name}: namespace field ${rule.field}`);
            if (rule.kind === 'resolveByNameOrId') assert.equal(fieldType(fields, rule.idField), 'string', `${name}: namespace id field ${rule.idField}`);
          }
          if (typeof spec.polling === 'object') assert.ok(fieldType(fields, spec.polling.whenField), `${name}: polling field ${spec.polling.whenField}`);
        }
      });

      it('gives priorities within the bucket and cluster methods no namespace permission they cannot check', () => {
        for (const [name, spec] of Object.entries(METHOD_TABLE[service] ?? {})) {
          const { priority, pollingPriority } = spec.rateLimit;
          assert.ok(Number.isInteger(priority) && priority >= 0 && priority <= 5, `${name}: priority ${priority}`);
          if (pollingPriority !== undefined) assert.ok(pollingPriority > priority, `${name}: polling is served after the plain call`);
          if (spec.namespace.kind === 'none' || spec.namespace.kind === 'account') {
            assert.ok(!['write', 'worker', 'namespaceAdmin'].includes(spec.permission), `${name}: a namespace permission on a cluster-scoped method`);
          }
        }
      });
    });
  }

  it('classifies the calls the SDK makes as Temporal does', () => {
    const ws = (name: string) => methodSpec(WORKFLOW_SERVICE, name);
    assert.deepEqual(ws('GetSystemInfo')?.namespace, { kind: 'none' });
    assert.equal(ws('StartWorkflowExecution')?.billable, true);
    assert.equal(ws('StartWorkflowExecution')?.rateLimit.priority, 1);
    assert.equal(ws('PollWorkflowTaskQueue')?.permission, 'worker');
    assert.equal(ws('PollWorkflowTaskQueue')?.polling, 'always');
    assert.equal(ws('ListWorkflowExecutions')?.rateLimit.bucket, 'visibility');
    assert.equal(ws('RegisterNamespace')?.namespace.kind, 'name');
    assert.equal(ws('RespondWorkflowTaskCompleted')?.billable, false, 'its Actions are its commands, counted by history');
    const history = ws('GetWorkflowExecutionHistory');
    assert.ok(history);
    assert.equal(callPriority(history, { waitNewEvent: false }), 2);
    assert.equal(callPriority(history, { waitNewEvent: true }), 5, 'a long-polling history read yields to task polls');
  });
});
