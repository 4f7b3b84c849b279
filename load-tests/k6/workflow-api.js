// k6 load test of Hourglass' public gRPC API (Temporal's WorkflowService): workflow starts, signals
// and queries at fixed arrival rates, with thresholds on latency and errors.
//
//   node load-tests/dist/k6-worker.js --task-queue k6-load &          # the worker the workflows need
//   k6 run -e TEMPORAL_PROTO_DIR=./temporal-api load-tests/k6/workflow-api.js
//
// TEMPORAL_PROTO_DIR is a checkout of Temporal's API protos (github.com/temporalio/api) at the
// version the SDK in package-lock.json ships. Every variable and the 30-minute soak: README.md here.
import grpc from 'k6/net/grpc';
import { check } from 'k6';
import { b64encode } from 'k6/encoding';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';

const ADDRESS = __ENV.HOURGLASS_ADDRESS || '127.0.0.1:7233';
const NAMESPACE = __ENV.HOURGLASS_NAMESPACE || 'default';
const TASK_QUEUE = __ENV.TASK_QUEUE || 'k6-load';
const API_KEY = __ENV.HOURGLASS_API_KEY || '';
const TLS = __ENV.HOURGLASS_TLS === 'true';
const PROTO_DIR = __ENV.TEMPORAL_PROTO_DIR || './temporal-api';
const DURATION = __ENV.DURATION || '5m';
const START_RATE = Number(__ENV.START_RATE || 20);
const SIGNAL_RATE = Number(__ENV.SIGNAL_RATE || 50);
const QUERY_RATE = Number(__ENV.QUERY_RATE || 10);
const ENTITIES = Number(__ENV.ENTITIES || 100);

const SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';

const client = new grpc.Client();
client.load([PROTO_DIR], 'temporal/api/workflowservice/v1/service.proto');

const workflowErrors = new Counter('workflow_errors');

export const options = {
  scenarios: {
    start: {
      executor: 'constant-arrival-rate',
      exec: 'startWorkflow',
      rate: START_RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: 20,
      maxVUs: 200,
    },
    signal: {
      executor: 'constant-arrival-rate',
      exec: 'signalEntity',
      rate: SIGNAL_RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: 20,
      maxVUs: 200,
    },
    // Queries begin once the signals have started the entities.
    query: {
      executor: 'constant-arrival-rate',
      exec: 'queryEntity',
      rate: QUERY_RATE,
      timeUnit: '1s',
      duration: DURATION,
      startTime: '15s',
      preAllocatedVUs: 10,
      maxVUs: 100,
    },
  },
  thresholds: {
    'grpc_req_duration{op:start}': ['p(95)<250', 'p(99)<1000'],
    'grpc_req_duration{op:signal}': ['p(95)<250', 'p(99)<1000'],
    // A query is a round trip through a worker.
    'grpc_req_duration{op:query}': ['p(95)<1000', 'p(99)<3000'],
    checks: ['rate>0.99'],
    workflow_errors: ['count<10'],
  },
};

let connected = false;

function connect() {
  if (connected) return;
  client.connect(ADDRESS, { plaintext: !TLS, timeout: '10s' });
  connected = true;
}

function params(op) {
  return { metadata: API_KEY ? { authorization: `Bearer ${API_KEY}` } : {}, tags: { op }, timeout: '30s' };
}

function json(value) {
  // A json/plain payload, as the SDKs' default data converter writes it (bytes travel as base64 in k6).
  return { metadata: { encoding: b64encode('json/plain') }, data: b64encode(JSON.stringify(value)) };
}

function ok(response, what) {
  const passed = check(response, { [`${what} OK`]: (r) => r && r.status === grpc.StatusOK });
  if (!passed) workflowErrors.add(1, { op: what });
  return passed;
}

function entityId(run, n) {
  return `k6-${run}-entity-${n}`;
}

/** The run id every VU shares (init code runs once per VU): a rerun never meets another run's entities. */
export function setup() {
  return { run: __ENV.RUN_ID || Date.now().toString(36) };
}

export function startWorkflow(data) {
  connect();
  const id = `k6-${data.run}-start-${exec.scenario.iterationInTest}`;
  const response = client.invoke(
    `${SERVICE}/StartWorkflowExecution`,
    {
      namespace: NAMESPACE,
      workflowId: id,
      workflowType: { name: 'singleActivity' },
      taskQueue: { name: TASK_QUEUE },
      input: { payloads: [json(id)] },
      requestId: `${id}-request`,
      identity: 'k6',
    },
    params('start'),
  );
  ok(response, 'start');
}

export function signalEntity(data) {
  connect();
  const id = entityId(data.run, exec.scenario.iterationInTest % ENTITIES);
  // Signal-with-start: the first signal starts the entity, every later one only signals it.
  const response = client.invoke(
    `${SERVICE}/SignalWithStartWorkflowExecution`,
    {
      namespace: NAMESPACE,
      workflowId: id,
      workflowType: { name: 'k6Entity' },
      taskQueue: { name: TASK_QUEUE },
      signalName: 'tick',
      requestId: `${id}-${exec.scenario.iterationInTest}`,
      identity: 'k6',
    },
    params('signal'),
  );
  ok(response, 'signal');
}

export function queryEntity(data) {
  connect();
  const id = entityId(data.run, Math.floor(Math.random() * Math.min(ENTITIES, SIGNAL_RATE * 10)));
  const response = client.invoke(
    `${SERVICE}/QueryWorkflow`,
    {
      namespace: NAMESPACE,
      execution: { workflowId: id },
      query: { queryType: 'ticks' },
    },
    params('query'),
  );
  if (ok(response, 'query')) {
    check(response, { 'query answered a count': (r) => Boolean(r.message.queryResult && r.message.queryResult.payloads.length === 1) });
  }
}

export function teardown(data) {
  connect();
  // Stop this run's entities so a soak leaves nothing running.
  for (let n = 0; n < ENTITIES; n++) {
    client.invoke(`${SERVICE}/SignalWorkflowExecution`, { namespace: NAMESPACE, workflowExecution: { workflowId: entityId(data.run, n) }, signalName: 'stop', identity: 'k6' }, params('teardown'));
  }
  client.close();
}
