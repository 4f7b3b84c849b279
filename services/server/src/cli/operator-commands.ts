/**
 * `hourglass operator namespace list|describe|create|update`, as `temporal operator namespace`:
 * WorkflowService's namespace methods (ListNamespaces, DescribeNamespace, RegisterNamespace,
 * UpdateNamespace) through the official client's connection, with the caller's key; and
 * `hourglass operator search-attribute list|create|remove`, as `temporal operator search-attribute`:
 * OperatorService's ListSearchAttributes, AddSearchAttributes and RemoveSearchAttributes for the
 * --namespace.
 */
import { status } from '@grpc/grpc-js';
import { msToNumber } from '@temporalio/common/lib/time';
import { msToDuration, temporal } from '@hourglass/common';
import { Option, type Command } from 'commander';
import { CliError, EXIT_USAGE, collect, failureText, formatRecord, formatTable, grpcCode, print, withClient, withConnectionOptions, type ConnectionFlags, type Session } from './cli-support';

type DescribeNamespaceResponse = temporal.api.workflowservice.v1.IDescribeNamespaceResponse;
const { IndexedValueType } = temporal.api.enums.v1;

/** The temporal CLI's --type names of search attributes, with their IndexedValueType. */
const ATTRIBUTE_TYPES: Record<string, number> = {
  Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** `--type keyword` → Keyword's number (any case); a usage error naming the allowed types otherwise. */
function attributeType(value: string): number {
  const name = Object.keys(ATTRIBUTE_TYPES).find((t) => t.toLowerCase() === value.toLowerCase());
  if (name === undefined) {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    throw new CliError(`--type ${JSON.stringify(shown)} is not a search attribute type: use one of ${Object.keys(ATTRIBUTE_TYPES).join(', ')}`, EXIT_USAGE);
  }
  return ATTRIBUTE_TYPES[name] as number;
}

function attributeTypeName(value: number): string {
  return Object.entries(ATTRIBUTE_TYPES).find(([, v]) => v === value)?.[0] ?? String(value);
}

interface SearchAttributeFlags extends ConnectionFlags {
  name?: string[];
  type?: string[];
}

function seconds(duration: { seconds?: unknown } | null | undefined): number | undefined {
  return duration?.seconds === undefined || duration.seconds === null ? undefined : Number(duration.seconds);
}

/** A namespace as the commands print it. */
function namespaceView(d: DescribeNamespaceResponse): Record<string, unknown> {
  const retention = seconds(d.config?.workflowExecutionRetentionTtl);
  return {
    name: d.namespaceInfo?.name,
    id: d.namespaceInfo?.id,
    state: temporal.api.enums.v1.NamespaceState[d.namespaceInfo?.state ?? 0]?.replace(/^NAMESPACE_STATE_/, '').toLowerCase(),
    description: d.namespaceInfo?.description || undefined,
    ownerEmail: d.namespaceInfo?.ownerEmail || undefined,
    retention: retention === undefined ? undefined : retention % 86_400 === 0 ? `${retention / 86_400}d` : `${retention / 3600}h`,
  };
}

/** `72h`, `3d`, `1 day` → a Duration; a clear usage error otherwise. */
function retentionDuration(value: string): ReturnType<typeof msToDuration> {
  const normalized = /^\d+d$/.test(value.trim()) ? `${parseInt(value, 10) * 24}h` : value;
  let ms: number;
  try {
    ms = msToNumber(normalized as `${number}h`);
  } catch {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0) throw new CliError(`--retention must be a duration such as 72h or 3d, got ${JSON.stringify(value.slice(0, 40))}`, EXIT_USAGE);
  return msToDuration(Math.round(ms / 1000) * 1000);
}

interface NamespaceFlags extends ConnectionFlags {
  retention?: string;
  description?: string;
  email?: string;
}

/** The namespace a command is about: its argument, else --namespace. */
function target(name: string | undefined, flags: ConnectionFlags): string {
  return name ?? flags.namespace;
}

function explain(err: unknown, name: string): CliError {
  if (err instanceof CliError) return err;
  if (grpcCode(err) === status.NOT_FOUND) return new CliError(`namespace ${JSON.stringify(name)} not found: ${failureText(err)}`);
  return new CliError(failureText(err));
}

async function describe(session: Session, name: string): Promise<DescribeNamespaceResponse> {
  return session.connection.workflowService.describeNamespace({ namespace: name });
}

export function registerOperatorCommands(program: Command, onError: (err: CliError) => never): void {
  const operator = program.command('operator').description('cluster and namespace administration (as `temporal operator`)');
  const namespace = operator.command('namespace').description('list, describe, create and update namespaces');
  const run = (name: string, fn: (session: Session) => Promise<void>, flags: ConnectionFlags) =>
    withClient(flags, (session) => fn(session).catch((err: unknown) => Promise.reject(explain(err, name)))).catch((err: unknown) =>
      onError(err instanceof CliError ? err : new CliError(failureText(err))),
    );

  withConnectionOptions(namespace.command('list').description('the namespaces the caller may see')).action((flags: ConnectionFlags) =>
    run('', async (session) => {
      const namespaces: Record<string, unknown>[] = [];
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await session.connection.workflowService.listNamespaces({ pageSize: 100, ...(nextPageToken ? { nextPageToken } : {}) });
        namespaces.push(...(page.namespaces ?? []).map(namespaceView));
        nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
      } while (nextPageToken);
      print(flags.output, { namespaces }, () => formatTable(['name', 'state', 'retention', 'description'], namespaces.map((n) => [n.name, n.state, n.retention, n.description])));
    }, flags),
  );

  withConnectionOptions(namespace.command('describe').argument('[name]', 'the namespace (default: --namespace)').description('one namespace: id, state, retention, description, owner')).action(
    (name: string | undefined, flags: ConnectionFlags) => {
      const ns = target(name, flags);
      return run(ns, async (session) => {
        const view = namespaceView(await describe(session, ns));
        print(flags.output, view, () => formatRecord(view));
      }, flags);
    },
  );

  withConnectionOptions(namespace.command('create').argument('[name]', 'the new namespace (default: --namespace)').description('register a namespace'))
    .addOption(new Option('--retention <duration>', 'how long closed executions are kept (e.g. 72h, 3d)').default('72h'))
    .addOption(new Option('--description <text>', 'what it is for'))
    .addOption(new Option('--email <address>', "its owner's email"))
    .action((name: string | undefined, flags: NamespaceFlags) => {
      const ns = target(name, flags);
      return run(ns, async (session) => {
        const retention = retentionDuration(flags.retention ?? '72h');
        await session.connection.workflowService.registerNamespace({
          namespace: ns,
          workflowExecutionRetentionPeriod: retention,
          ...(flags.description ? { description: flags.description } : {}),
          ...(flags.email ? { ownerEmail: flags.email } : {}),
        });
        const view = namespaceView(await describe(session, ns));
        print(flags.output, view, () => formatRecord(view));
      }, flags);
    });

  withConnectionOptions(namespace.command('update').argument('[name]', 'the namespace (default: --namespace)').description("change a namespace's retention, description or owner email"))
    .addOption(new Option('--retention <duration>', 'how long closed executions are kept (e.g. 72h, 3d)'))
    .addOption(new Option('--description <text>', 'what it is for'))
    .addOption(new Option('--email <address>', "its owner's email"))
    .action((name: string | undefined, flags: NamespaceFlags) => {
      const ns = target(name, flags);
      return run(ns, async (session) => {
        if (flags.retention === undefined && flags.description === undefined && flags.email === undefined) throw new CliError('nothing to update: give --retention, --description or --email', EXIT_USAGE);
        const retention = flags.retention === undefined ? undefined : retentionDuration(flags.retention);
        await session.connection.workflowService.updateNamespace({
          namespace: ns,
          ...(flags.description !== undefined || flags.email !== undefined
            ? { updateInfo: { ...(flags.description !== undefined ? { description: flags.description } : {}), ...(flags.email !== undefined ? { ownerEmail: flags.email } : {}) } }
            : {}),
          ...(retention ? { config: { workflowExecutionRetentionTtl: retention } } : {}),
        });
        const view = namespaceView(await describe(session, ns));
        print(flags.output, view, () => formatRecord(view));
      }, flags);
    });

  const searchAttribute = operator.command('search-attribute').description("list, create and remove a namespace's custom search attributes");

  withConnectionOptions(searchAttribute.command('list').description("the namespace's search attributes, custom and system: name and type")).action((flags: ConnectionFlags) =>
    run(flags.namespace, async (session) => {
      const res = await session.connection.operatorService.listSearchAttributes({ namespace: session.namespace });
      const rows = (kind: string, attributes: Record<string, unknown> | null | undefined) =>
        Object.entries(attributes ?? {})
          .map(([name, type]) => ({ name, type: attributeTypeName(Number(type)), kind }))
          .sort((a, b) => a.name.localeCompare(b.name));
      const searchAttributes = [...rows('custom', res.customAttributes), ...rows('system', res.systemAttributes)];
      print(flags.output, { namespace: session.namespace, searchAttributes }, () => formatTable(['name', 'type', 'kind'], searchAttributes.map((a) => [a.name, a.type, a.kind])));
    }, flags),
  );

  withConnectionOptions(searchAttribute.command('create').description('register custom search attributes: --name and --type, repeated in pairs for more'))
    .addOption(new Option('--name <name>', 'the attribute name; repeat for more').argParser(collect).makeOptionMandatory())
    .addOption(new Option('--type <type>', `its type: ${Object.keys(ATTRIBUTE_TYPES).join(', ')}; one per --name`).argParser(collect).makeOptionMandatory())
    .action((flags: SearchAttributeFlags) => {
      try {
        const names = flags.name ?? [];
        const types = (flags.type ?? []).map(attributeType);
        if (names.length !== types.length) throw new CliError(`give one --type for each --name (${names.length} --name, ${types.length} --type)`, EXIT_USAGE);
        return run(flags.namespace, async (session) => {
          await session.connection.operatorService.addSearchAttributes({ namespace: session.namespace, searchAttributes: Object.fromEntries(names.map((n, i) => [n, types[i] as number])) });
          const created = names.map((name, i) => ({ name, type: attributeTypeName(types[i] as number) }));
          print(flags.output, { namespace: session.namespace, created }, () => created.map((a) => `created search attribute ${a.name} (${a.type}) in namespace ${session.namespace}`).join('\n'));
        }, flags);
      } catch (err) {
        return onError(err instanceof CliError ? err : new CliError(failureText(err)));
      }
    });

  withConnectionOptions(searchAttribute.command('remove').description('remove custom search attributes from the namespace'))
    .addOption(new Option('--name <name>', 'the attribute name; repeat for more').argParser(collect).makeOptionMandatory())
    .addOption(new Option('-y, --yes', 'accepted for the temporal CLI\'s sake: hourglass does not ask for confirmation'))
    .action((flags: SearchAttributeFlags) =>
      run(flags.namespace, async (session) => {
        const names = flags.name ?? [];
        await session.connection.operatorService.removeSearchAttributes({ namespace: session.namespace, searchAttributes: names });
        print(flags.output, { namespace: session.namespace, removed: names }, () => names.map((n) => `removed search attribute ${n} from namespace ${session.namespace}`).join('\n'));
      }, flags),
    );
}
