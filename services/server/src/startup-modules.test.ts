/**
 * What a server process loads before it serves: the clients of optional backends (Kafka,
 * Elasticsearch) and OpenTelemetry's SDK and exporter are loaded only when configured. Together
 * they took about 0.7 s of every start, and @temporalio/testing gives a test server 5 s to listen.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const OPTIONAL = /[\\/]node_modules[\\/](kafkajs|@elastic[\\/]elasticsearch|@opentelemetry[\\/](sdk-trace-base|exporter-trace-otlp-http|resources))[\\/]/;

test('the dev server and its store loader load no Kafka, Elasticsearch or OpenTelemetry SDK module until one is configured', () => {
  const script = `
    require(${JSON.stringify(path.join(__dirname, 'dev-server.js'))});
    require(${JSON.stringify(path.join(__dirname, 'persistence.js'))});
    const loaded = Object.keys(require.cache);
    process.stdout.write(JSON.stringify({ total: loaded.length, optional: loaded.filter((f) => ${OPTIONAL}.test(f)) }));
  `;
  const { total, optional } = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { total: number; optional: string[] };
  assert.ok(total > 100, `only ${total} modules loaded: the check would prove nothing`);
  assert.deepEqual(optional, []);
});
