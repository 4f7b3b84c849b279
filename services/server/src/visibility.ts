/**
 * The visibility pipeline of one deployable: the bus history publishes to, the indexer that applies
 * records to the index, and the search the frontend queries. Embedded default: in-process bus
 * into the SQL index of the configured store (SQLite or MySQL).
 */
import type { Logger } from '@hourglass/common';
import type { NamespaceRegistry } from '@hourglass/history';
import type { Persistence } from '@hourglass/persistence';
import {
  ElasticsearchVisibilityStore,
  InProcessVisibilityBus,
  KafkaVisibilityBus,
  SqlSearchBackend,
  VisibilityIndexer,
  VisibilitySearch,
  type VisibilityBus,
  type VisibilityIndex,
  type VisibilitySearchBackend,
} from '@hourglass/visibility';

export interface VisibilityConfig {
  visibilityStore: 'sql' | 'elasticsearch';
  kafkaBrokers: string[];
  elasticsearchUrl: string;
}

export interface RunningVisibility {
  bus: VisibilityBus;
  indexer: VisibilityIndexer;
  search: VisibilitySearch;
  stop(): Promise<void>;
}

/**
 * `consume` (default true): this process indexes what the bus carries. `hourglass start` turns it
 * off where a process only publishes (history with Kafka: the indexer role consumes) or only searches
 * (a frontend).
 */
export async function startVisibility(deps: { persistence: Persistence; logger: Logger; config: VisibilityConfig; consume?: boolean }): Promise<RunningVisibility> {
  const { config, logger } = deps;
  let index: VisibilityIndex & VisibilitySearchBackend;
  let closeIndex = async (): Promise<void> => undefined;
  if (config.visibilityStore === 'elasticsearch') {
    const es = await ElasticsearchVisibilityStore.open({ url: config.elasticsearchUrl, logger });
    index = es;
    closeIndex = () => es.close();
  } else {
    const sql = new SqlSearchBackend(deps.persistence.visibility);
    index = { upsert: (r) => deps.persistence.visibility.upsert(r), delete: (d) => deps.persistence.visibility.delete(d), list: (q, o) => sql.list(q, o), count: (q, o) => sql.count(q, o) };
  }
  const bus: VisibilityBus = config.kafkaBrokers.length > 0 ? new KafkaVisibilityBus({ brokers: config.kafkaBrokers, logger }) : new InProcessVisibilityBus();
  const indexer = new VisibilityIndexer(index);
  if (deps.consume ?? true) bus.subscribe(indexer.consume);
  try {
    await bus.start();
  } catch (err) {
    await closeIndex();
    throw err;
  }
  const custom = config.kafkaBrokers.length > 0 || config.visibilityStore === 'elasticsearch';
  logger[custom ? 'info' : 'debug'](
    { bus: config.kafkaBrokers.length > 0 ? 'kafka' : 'in-process', index: config.visibilityStore === 'elasticsearch' ? 'elasticsearch' : `sql (${deps.persistence.backend})` },
    'visibility pipeline started',
  );
  return {
    bus,
    indexer,
    search: new VisibilitySearch(index),
    stop: async () => {
      await bus.stop();
      await closeIndex();
    },
  };
}

/**
 * The custom search attributes Temporal's development server registers in every namespace, so
 * samples and tests written against it run unchanged. Given to start-dev's namespaces once (a
 * namespace whose attributes were changed keeps its own).
 */
export const DEV_SEARCH_ATTRIBUTES: Readonly<Record<string, string>> = {
  CustomKeywordField: 'Keyword',
  CustomStringField: 'Text',
  CustomTextField: 'Text',
  CustomIntField: 'Int',
  CustomDoubleField: 'Double',
  CustomBoolField: 'Bool',
  CustomDatetimeField: 'Datetime',
};

export async function registerDevSearchAttributes(namespaces: NamespaceRegistry, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const namespace = await namespaces.getByName(name);
    if (namespace.searchAttributes !== undefined) continue;
    await namespaces.updateSearchAttributes(namespace.id, (current) => ({ ...DEV_SEARCH_ATTRIBUTES, ...current }));
  }
}
