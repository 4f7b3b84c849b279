/**
 * infra/ checked offline, as far as a file can be checked without Docker or a cluster: every YAML
 * file parses; the compose file validates against the Compose Specification's JSON schema (vendored
 * in infra/compose/compose-spec.schema.json) and its references resolve (services, networks,
 * volumes, configs, secrets, the files they name, pinned images); every Kubernetes object validates
 * against the Kubernetes OpenAPI schema of its kind (kubernetes-models) and the objects fit together
 * (selectors match pod labels, probes name declared ports, every container requests resources,
 * Secrets and ConfigMaps referenced exist, the kustomization lists files that exist).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

const INFRA = path.join(__dirname, '..', '..', '..', 'infra');
const COMPOSE_DIR = path.join(INFRA, 'compose');
const K8S_DIR = path.join(INFRA, 'k8s');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(entry.name) ? [full] : [];
  });
}

function documents(file: string): Record<string, any>[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const doc of docs) assert.deepEqual(doc.errors.map((e) => e.message), [], `${path.relative(INFRA, file)} parses`);
  return docs.map((d) => d.toJS() as Record<string, any>).filter((d) => d !== null);
}

/** An image reference with a tag or digest that is not `latest`. */
function pinned(image: string): boolean {
  const withoutRegistryPort = image.replace(/^[^/]+:\d+\//, '');
  return /@sha256:[0-9a-f]{64}$/.test(image) || (/:[\w.-]+$/.test(withoutRegistryPort) && !withoutRegistryPort.endsWith(':latest'));
}

/** The roles of `hourglass start`, each a compose service and a Deployment of its own. */
const ROLES = ['frontend', 'history', 'matching', 'indexer'] as const;

describe('infra/', () => {
  it('every YAML file parses', () => {
    const files = yamlFiles(INFRA);
    assert.ok(files.length >= 10, `YAML files under infra/: ${files.length}`);
    for (const file of files) assert.ok(documents(file).length >= 1, `${file} has a document`);
  });

  describe('compose', () => {
    const file = path.join(COMPOSE_DIR, 'compose.yaml');
    const compose = parseYaml(readFileSync(file, 'utf8'), { merge: true }) as Record<string, any>;

    it('validates against the Compose Specification schema', () => {
      const schema = JSON.parse(readFileSync(path.join(COMPOSE_DIR, 'compose-spec.schema.json'), 'utf8')) as Record<string, unknown>;
      const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
      // The spec names draft-07 by its https address; ajv knows it by the http one.
      const draft07 = JSON.parse(readFileSync(require.resolve('ajv/dist/refs/json-schema-draft-07.json'), 'utf8')) as Record<string, unknown>;
      ajv.addMetaSchema({ ...draft07, $id: schema.$schema as string });
      const validate = ajv.compile(schema);
      assert.ok(validate(compose), `compose.yaml: ${ajv.errorsText(validate.errors, { separator: '\n' })}`);
      // The schema check is real: a wrong field is refused.
      assert.equal(validate({ services: { x: { image: 'a:1', restart_policy: 'always' } } }), false);
    });

    it('has the production topology, pinned images, and references that resolve', () => {
      const services = compose.services as Record<string, any>;
      for (const name of ['mysql-cluster', 'mysql-shard-0', 'mysql-shard-1', 'kafka', 'elasticsearch', 'otel-collector', 'prometheus', 'hourglass-migrate', ...ROLES.map((r) => `hourglass-${r}`)]) {
        assert.ok(services[name], `service ${name}`);
      }
      for (const [name, service] of Object.entries(services)) {
        if (service.image && !String(service.image).startsWith('${HOURGLASS_IMAGE')) assert.ok(pinned(service.image as string), `${name}: image ${service.image} is pinned`);
        for (const dependency of Object.keys(service.depends_on ?? {})) assert.ok(services[dependency], `${name} depends on ${dependency}, a service`);
        for (const network of service.networks ?? []) assert.ok(compose.networks?.[network], `${name}: network ${network} is declared`);
        for (const volume of service.volumes ?? []) {
          const source = String(volume).split(':')[0] as string;
          if (!source.startsWith('.') && !source.startsWith('/')) assert.ok(compose.volumes?.[source] !== undefined, `${name}: volume ${source} is declared`);
        }
        for (const config of service.configs ?? []) assert.ok(compose.configs?.[config.source ?? config], `${name}: config ${config.source ?? config} is declared`);
        for (const secret of service.secrets ?? []) assert.ok(compose.secrets?.[secret.source ?? secret], `${name}: secret ${secret.source ?? secret} is declared`);
      }
      for (const [name, config] of Object.entries(compose.configs as Record<string, { file: string }>)) {
        assert.ok(existsSync(path.join(COMPOSE_DIR, config.file)), `config ${name}: ${config.file} exists`);
      }
      for (const [name, secret] of Object.entries(compose.secrets as Record<string, { file: string }>)) {
        assert.match(secret.file, /^\.\/secrets\//, `secret ${name} is a file under secrets/ (kept out of git)`);
      }
      assert.equal(services['hourglass-migrate'].command.join(' '), 'db migrate');
      for (const role of ROLES) {
        const service = services[`hourglass-${role}`];
        assert.equal(service.depends_on['hourglass-migrate'].condition, 'service_completed_successfully', `${role} starts after the migration succeeded`);
        assert.deepEqual(service.command.filter((a: string) => a.startsWith('--services=')), [`--services=${role}`], `hourglass-${role} runs its role`);
        assert.match(service.entrypoint.join(' '), / start .*--advertise-address=/, `hourglass-${role} runs hourglass start and advertises its own address`);
        assert.match(service.environment.OTEL_EXPORTER_OTLP_ENDPOINT, /^http:\/\/otel-collector:4318$/);
      }
      assert.ok(services['hourglass-frontend'].command.includes('--require-auth'), 'production requires API keys');
      assert.equal(services['hourglass-frontend'].environment.HOURGLASS_TLS, 'true', 'the frontend serves TLS');
      assert.ok(compose.networks.data.internal, 'stores are on an internal network');
    });

    it("Prometheus scrapes the server's metrics endpoint, and the collector receives OTLP", () => {
      const prometheus = parseYaml(readFileSync(path.join(COMPOSE_DIR, 'prometheus.yml'), 'utf8')) as Record<string, any>;
      const targets = (prometheus.scrape_configs as any[]).flatMap((job) => [
        ...(job.static_configs ?? []).flatMap((c: { targets: string[] }) => c.targets),
        ...(job.dns_sd_configs ?? []).flatMap((c: { names: string[]; port: number }) => c.names.map((n) => `${n}:${c.port}`)),
      ]) as string[];
      const services = compose.services as Record<string, any>;
      for (const target of targets) assert.ok(services[target.split(':')[0] as string], `scrape target ${target} is a compose service`);
      for (const role of ROLES) {
        assert.ok(targets.includes(`hourglass-${role}:9090`), `Prometheus scrapes hourglass-${role}`);
        assert.ok(services[`hourglass-${role}`].entrypoint.join(' ').includes('--metrics-address=0.0.0.0:9090'));
      }
      const collector = parseYaml(readFileSync(path.join(COMPOSE_DIR, 'otel-collector.yaml'), 'utf8')) as Record<string, any>;
      assert.equal(collector.receivers.otlp.protocols.http.endpoint, '0.0.0.0:4318');
      const pipeline = collector.service.pipelines.traces;
      for (const receiver of pipeline.receivers) assert.ok(collector.receivers[receiver]);
      for (const processor of pipeline.processors) assert.ok(collector.processors[processor]);
      for (const exporter of pipeline.exporters) assert.ok(collector.exporters[exporter]);
    });
  });

  describe('kubernetes', () => {
    const kustomization = parseYaml(readFileSync(path.join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    const objects = kustomization.resources.flatMap((resource) => documents(path.join(K8S_DIR, resource)));
    const exampleSecrets = documents(path.join(K8S_DIR, 'secrets.example.yaml'));
    const MODELS: Record<string, string> = {
      'v1/Namespace': 'kubernetes-models/v1/Namespace',
      'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
      'v1/Secret': 'kubernetes-models/v1/Secret',
      'v1/Service': 'kubernetes-models/v1/Service',
      'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
      'batch/v1/Job': 'kubernetes-models/batch/v1/Job',
      'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
    };

    it('lists files that exist, and every object validates against its Kubernetes schema', async () => {
      for (const resource of kustomization.resources) assert.ok(existsSync(path.join(K8S_DIR, resource)), resource);
      for (const object of [...objects, ...exampleSecrets]) {
        const kind = `${object.apiVersion}/${object.kind}`;
        const module = MODELS[kind];
        assert.ok(module, `a schema for ${kind}`);
        const exported = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
        const Model = exported[object.kind as string];
        assert.ok(Model, `${module} exports ${object.kind}`);
        assert.doesNotThrow(() => new Model(object).validate(), `${kind} ${object.metadata?.name} is valid`);
      }
      // The schema check is real: a port that is not a number is refused.
      const { Deployment } = (await import('kubernetes-models/apps/v1/Deployment')) as { Deployment: new (data: unknown) => { validate(): void } };
      assert.throws(() => new Deployment({ metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 'x' }] }] } } } }).validate());
    });

    it('has a Deployment per role, the frontends\' Service, the migration Job and PodDisruptionBudgets that fit together', () => {
      const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
      const deployments = byKind('Deployment');
      assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ROLES.map((r) => `hourglass-${r}`).sort());
      assert.ok(byKind('Job').length === 1 && byKind('Service').length === 1);
      const labelsOf = (d: any) => d.spec.template.metadata.labels as Record<string, string>;
      const matches = (labels: Record<string, string>, selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
      for (const deployment of deployments) {
        assert.ok(matches(labelsOf(deployment), deployment.spec.selector.matchLabels), `${deployment.metadata.name} selects its own pods`);
        for (const other of deployments) if (other !== deployment) assert.ok(!matches(labelsOf(other), deployment.spec.selector.matchLabels), `${deployment.metadata.name} does not select ${other.metadata.name}'s pods`);
        const container = deployment.spec.template.spec.containers[0];
        const role = String(deployment.metadata.name).replace('hourglass-', '');
        assert.deepEqual(container.args.slice(0, 1), ['start']);
        assert.equal(container.args[container.args.indexOf('--services') + 1], role, `${deployment.metadata.name} runs its role`);
        assert.equal(container.args[container.args.indexOf('--advertise-address') + 1], '$(POD_IP):7235', 'each pod advertises its own address');
        assert.ok(container.env.some((e: any) => e.name === 'POD_IP' && e.valueFrom?.fieldRef?.fieldPath === 'status.podIP'));
      }
      const frontend = deployments.find((d) => d.metadata.name === 'hourglass-frontend');
      assert.ok(matches(labelsOf(frontend), byKind('Service')[0]!.spec.selector), 'the Service selects the frontends');
      for (const pdb of byKind('PodDisruptionBudget')) assert.ok(deployments.some((d) => matches(labelsOf(d), pdb.spec.selector.matchLabels)), `${pdb.metadata.name} covers a role's pods`);
      const secrets = new Set(exampleSecrets.map((s) => s.metadata.name as string));
      const configMaps = new Set(byKind('ConfigMap').map((c) => c.metadata.name as string));
      const podSpecs = [...deployments.map((d) => d.spec.template.spec), byKind('Job')[0]!.spec.template.spec] as any[];
      for (const pod of podSpecs) {
        for (const container of pod.containers as any[]) {
          assert.ok(container.resources?.requests?.cpu && container.resources?.requests?.memory, `${container.name} requests CPU and memory`);
          assert.equal(container.securityContext?.allowPrivilegeEscalation, false, `${container.name} cannot escalate`);
          const ports = new Set((container.ports ?? []).map((p: { name: string }) => p.name));
          for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
            const port = container[probe]?.httpGet?.port ?? container[probe]?.tcpSocket?.port;
            if (container[probe]) assert.ok(ports.has(port), `${container.name} ${probe} names its port ${port}`);
          }
          for (const env of container.env ?? []) {
            const ref = env.valueFrom?.secretKeyRef;
            if (ref) assert.ok(secrets.has(ref.name), `${container.name}: secret ${ref.name} is described in secrets.example.yaml`);
          }
        }
        for (const volume of pod.volumes ?? []) {
          if (volume.secret) assert.ok(secrets.has(volume.secret.secretName), `secret ${volume.secret.secretName} is described`);
          if (volume.configMap) assert.ok(configMaps.has(volume.configMap.name), `config map ${volume.configMap.name} exists`);
        }
      }
      for (const deployment of deployments) {
        const server = deployment.spec.template.spec.containers[0];
        assert.ok(server.readinessProbe && server.livenessProbe, `${deployment.metadata.name} has readiness and liveness probes`);
      }
      assert.deepEqual(byKind('Job')[0]!.spec.template.spec.containers[0].args, ['db', 'migrate']);
      const config = parseYaml(byKind('ConfigMap')[0]!.data['hourglass.yaml'] as string) as Record<string, unknown>;
      assert.equal(config.requireAuth, true);
      assert.equal(config.metricsAddress, '0.0.0.0:9090');
      assert.ok(!kustomization.resources.includes('secrets.example.yaml'), 'placeholder secrets are never applied');
    });
  });
});
