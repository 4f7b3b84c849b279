/**
 * The k6 scripts (load-tests/k6/*.js) checked without k6, which is not installed here: each parses
 * as the ES module k6 runs; it imports only k6's own modules, and only names they export; every
 * scenario runs an exported function; every threshold names a metric that exists (k6's or one the
 * script declares) with a valid expression, and filters on a tag the script sets; the protos it
 * loads are Temporal's WorkflowService; and every `client.invoke` names a WorkflowService method
 * whose request type has every field the script sends, nested objects included (checked against
 * @temporalio/proto, the protos of the SDK version in package-lock.json).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse, type Node } from 'acorn';

/** The parts of protobufjs' reflection used here (the root is @temporalio/proto's own protobufjs copy). */
interface ProtoField {
  type: string;
  repeated: boolean;
  map: boolean;
  resolvedType: ProtoType | { values: object } | null;
  resolve(): unknown;
}
interface ProtoType {
  fullName: string;
  fields: Record<string, ProtoField>;
}
interface ProtoRoot {
  lookupService(name: string): { methods: Record<string, { requestType: string }> };
  lookupType(name: string): ProtoType;
}
const root = require('@temporalio/proto/protos/root') as ProtoRoot;

function isMessage(type: ProtoField['resolvedType']): type is ProtoType {
  return type !== null && 'fields' in type;
}

const K6_DIR = path.join(__dirname, '..', 'k6');
const SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';

/** k6's modules and the names the scripts may import from them. */
const K6_EXPORTS: Record<string, string[]> = {
  k6: ['check', 'sleep', 'group', 'fail', 'default'],
  'k6/net/grpc': ['default', 'Client', 'StatusOK'],
  'k6/execution': ['default'],
  'k6/metrics': ['Counter', 'Trend', 'Rate', 'Gauge'],
  'k6/encoding': ['b64encode', 'b64decode', 'default'],
};
const BUILTIN_METRICS = new Set(['grpc_req_duration', 'checks', 'iterations', 'iteration_duration', 'data_sent', 'data_received', 'vus', 'dropped_iterations']);
const THRESHOLD = /^(p\(\d+(\.\d+)?\)|avg|min|max|med|count|rate|value)\s*(<|<=|>|>=|==)\s*\d+(\.\d+)?$/;

type AnyNode = Node & Record<string, any>;

function walk(node: unknown, visit: (n: AnyNode) => void): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((n) => walk(n, visit));
  const n = node as AnyNode;
  if (typeof n.type === 'string') visit(n);
  for (const [key, value] of Object.entries(n)) if (key !== 'loc' && value && typeof value === 'object') walk(value, visit);
}

function keyName(property: AnyNode): string {
  return property.key.type === 'Identifier' ? property.key.name : String(property.key.value);
}

/** A literal value of the AST (objects, arrays, strings, numbers); undefined for computed ones. */
function literal(node: AnyNode): unknown {
  switch (node.type) {
    case 'Literal':
      return node.value;
    case 'ObjectExpression':
      return Object.fromEntries((node.properties as AnyNode[]).filter((p) => p.type === 'Property').map((p) => [keyName(p), literal(p.value as AnyNode)]));
    case 'ArrayExpression':
      return (node.elements as AnyNode[]).map(literal);
    default:
      return undefined;
  }
}

/** The fields an object literal sends, checked against a protobuf message type, recursively. */
function checkRequest(object: AnyNode, type: ProtoType, where: string, problems: string[]): void {
  for (const property of object.properties as AnyNode[]) {
    if (property.type !== 'Property') continue;
    const name = keyName(property);
    const field = type.fields[name];
    if (!field) {
      problems.push(`${where}: ${type.fullName.slice(1)} has no field ${name}`);
      continue;
    }
    field.resolve();
    const value = property.value as AnyNode;
    const nested = isMessage(field.resolvedType) ? field.resolvedType : undefined;
    if (value.type === 'ObjectExpression' && nested && !field.map) checkRequest(value, nested, `${where}.${name}`, problems);
    if (value.type === 'ArrayExpression' && nested && field.repeated) {
      for (const element of value.elements as AnyNode[]) if (element.type === 'ObjectExpression') checkRequest(element, nested, `${where}.${name}[]`, problems);
    }
    if (value.type === 'ObjectExpression' && !nested && !field.map) problems.push(`${where}.${name} is a ${field.type}, not a message`);
  }
}

const scripts = readdirSync(K6_DIR).filter((f) => f.endsWith('.js'));

describe('k6 scripts', () => {
  it('are there', () => assert.ok(scripts.length >= 1));

  for (const script of scripts) {
    describe(script, () => {
      const source = readFileSync(path.join(K6_DIR, script), 'utf8');
      const program = parse(source, { ecmaVersion: 2022, sourceType: 'module' }) as AnyNode;
      const exported = new Map<string, AnyNode>();
      for (const statement of program.body as AnyNode[]) {
        if (statement.type !== 'ExportNamedDeclaration' || !statement.declaration) continue;
        const d = statement.declaration;
        if (d.type === 'FunctionDeclaration') exported.set(d.id.name, d);
        if (d.type === 'VariableDeclaration') for (const v of d.declarations) exported.set(v.id.name, v.init);
      }

      it("imports only k6's modules, and names they export", () => {
        const imports = (program.body as AnyNode[]).filter((s) => s.type === 'ImportDeclaration');
        assert.ok(imports.length > 0);
        for (const declaration of imports) {
          const module = declaration.source.value as string;
          const names = K6_EXPORTS[module];
          assert.ok(names, `${module} is one of k6's modules`);
          for (const specifier of declaration.specifiers as AnyNode[]) {
            const name = specifier.type === 'ImportDefaultSpecifier' ? 'default' : specifier.imported.name;
            assert.ok(names.includes(name), `${module} exports ${name}`);
          }
        }
      });

      it('runs exported functions in its scenarios, with thresholds on metrics and tags that exist', () => {
        const options = literal(exported.get('options') as AnyNode) as { scenarios: Record<string, { exec: string; executor: string }>; thresholds: Record<string, string[]> };
        assert.ok(options?.scenarios && options.thresholds, 'export const options with scenarios and thresholds');
        for (const [name, scenario] of Object.entries(options.scenarios)) {
          assert.equal(exported.get(scenario.exec)?.type, 'FunctionDeclaration', `scenario ${name} runs the exported function ${scenario.exec}`);
          assert.ok(['constant-arrival-rate', 'ramping-arrival-rate', 'constant-vus', 'ramping-vus', 'per-vu-iterations', 'shared-iterations'].includes(scenario.executor), scenario.executor);
        }
        const declared = new Set<string>();
        walk(program, (n) => {
          if (n.type === 'NewExpression' && ['Counter', 'Trend', 'Rate', 'Gauge'].includes(n.callee.name) && n.arguments[0]?.type === 'Literal') declared.add(n.arguments[0].value as string);
        });
        // The values of the `op` tag the script sets through params('<op>').
        const ops = new Set<string>();
        walk(program, (n) => {
          if (n.type === 'CallExpression' && n.callee.name === 'params' && n.arguments[0]?.type === 'Literal') ops.add(n.arguments[0].value as string);
        });
        for (const [key, expressions] of Object.entries(options.thresholds)) {
          const match = /^(\w+)(?:\{(\w+):(\w+)\})?$/.exec(key);
          assert.ok(match, `threshold key ${key}`);
          assert.ok(BUILTIN_METRICS.has(match[1]!) || declared.has(match[1]!), `threshold on ${match[1]}, a metric of k6 or of the script`);
          if (match[2]) {
            assert.equal(match[2], 'op', `threshold ${key} filters on the op tag`);
            assert.ok(ops.has(match[3]!), `threshold ${key}: the script tags calls op=${match[3]}`);
          }
          for (const expression of expressions) assert.match(expression, THRESHOLD, `threshold ${key}: ${expression}`);
        }
      });

      it("loads Temporal's WorkflowService protos and sends only fields its methods' requests have", () => {
        const service = root.lookupService(SERVICE);
        let loads = 0;
        let invokes = 0;
        const problems: string[] = [];
        walk(program, (n) => {
          if (n.type !== 'CallExpression' || n.callee.type !== 'MemberExpression' || n.callee.object.name !== 'client') return;
          if (n.callee.property.name === 'load') {
            loads += 1;
            assert.equal(n.arguments[1]?.value, 'temporal/api/workflowservice/v1/service.proto');
          }
          if (n.callee.property.name === 'invoke') {
            invokes += 1;
            const target = n.arguments[0] as AnyNode;
            // `${SERVICE}/Method` or a literal full name.
            const methodName =
              target.type === 'TemplateLiteral' ? (target.quasis.at(-1).value.cooked as string).replace(/^\//, '') : String(target.value).replace(`${SERVICE}/`, '');
            const method = service.methods[methodName];
            if (!method) return problems.push(`WorkflowService has no method ${methodName}`);
            const request = root.lookupType(method.requestType);
            if (n.arguments[1]?.type === 'ObjectExpression') checkRequest(n.arguments[1], request, methodName, problems);
            else problems.push(`${methodName}: the request is an object literal`);
          }
        });
        assert.equal(loads, 1, 'the protos are loaded once, in the init context');
        assert.ok(invokes >= 3, `start, signal and query at least (${invokes} calls)`);
        assert.deepEqual(problems, []);
        // The check is real: a field the request does not have is caught.
        const wrong = parse("({ namespace: 'x', workflowIdd: 'y', taskQueue: { nam: 'q' } })", { ecmaVersion: 2022 }) as AnyNode;
        const found: string[] = [];
        checkRequest(wrong.body[0].expression, root.lookupType('temporal.api.workflowservice.v1.StartWorkflowExecutionRequest'), 'Start', found);
        assert.equal(found.length, 2, found.join('; '));
      });
    });
  }
});
