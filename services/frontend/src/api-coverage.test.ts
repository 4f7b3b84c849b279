/**
 * README.md's "API coverage" section against the server itself: the served counts of WorkflowService
 * and OperatorService, and the lists of methods that answer UNIMPLEMENTED, must be exactly what the
 * method table and the handlers make them. A method served or dropped without updating the README
 * fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { METHOD_TABLE, OPERATOR_SERVICE, WORKFLOW_SERVICE } from './method-table';
import { operatorHandlers, type DeleteNamespaceDeps } from './operator-delete-namespace';
import { WorkflowService, type WorkflowServiceDeps } from './workflow-service';

const README = path.resolve(__dirname, '../../../README.md');

/** handlers() only builds closures; its dependencies are used when a call comes (visibility: as start-dev has it). */
const served: Record<string, Set<string>> = {
  [WORKFLOW_SERVICE]: new Set(Object.keys(new WorkflowService({ config: { serverVersion: 'test' }, visibility: {} } as unknown as WorkflowServiceDeps).handlers())),
  [OPERATOR_SERVICE]: new Set(Object.keys(operatorHandlers({} as unknown as DeleteNamespaceDeps))),
};

function section(text: string, heading: string, level: string): string {
  const start = text.indexOf(`${level} ${heading}\n`);
  assert.ok(start >= 0, `README.md has a "${level} ${heading}" section`);
  const rest = text.slice(start + heading.length + level.length + 2);
  const end = rest.search(new RegExp(`^#{1,${level.length}} `, 'm'));
  return end < 0 ? rest : rest.slice(0, end);
}

const readme = readFileSync(README, 'utf8');
const coverage = section(readme, 'API coverage', '##');

describe('README API coverage', () => {
  for (const [service, short] of [
    [WORKFLOW_SERVICE, 'WorkflowService'],
    [OPERATOR_SERVICE, 'OperatorService'],
  ] as const) {
    const rows = Object.keys(METHOD_TABLE[service] ?? {});
    const unserved = rows.filter((m) => !served[service]?.has(m)).sort();

    it(`states how many ${short} methods are served`, () => {
      const match = new RegExp(`${short}: \\*\\*(\\d+) of (\\d+)\\*\\* methods are served`).exec(coverage);
      assert.ok(match, `the section states "${short}: **N of M** methods are served"`);
      assert.equal(Number(match[2]), rows.length, `${short} has ${rows.length} methods`);
      assert.equal(Number(match[1]), rows.length - unserved.length, `${short} serves ${rows.length - unserved.length} methods`);
    });

    it(`lists exactly the ${short} methods that answer UNIMPLEMENTED`, () => {
      const listed = [...section(coverage, `Not served: ${short}`, '###').matchAll(/`([A-Z][A-Za-z]+)`/g)].map((m) => m[1] as string);
      const listedSet = new Set(listed);
      assert.equal(listedSet.size, listed.length, 'no method is listed twice');
      // Names the README mentions only for context (served ones) are not in the list's backticks.
      assert.deepEqual([...listedSet].filter((m) => !unserved.includes(m)).sort(), [], 'listed as not served, but served (or not a method)');
      assert.deepEqual(unserved.filter((m) => !listedSet.has(m)), [], 'not served, but missing from the list');
    });
  }
});
