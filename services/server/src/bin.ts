#!/usr/bin/env node
/** The `hourglass` command. */
import { Command, Option } from 'commander';
import { createLogger } from '@hourglass/common';
import { parseDevServerConfig } from './config';
import { startDevServer } from './dev-server';
import { describeStore } from './persistence';
import { migrateMysql } from '@hourglass/persistence';

/** Retention of the in-memory test server's namespace: effectively forever. */
const TEST_SERVER_RETENTION_HOURS = 1000 * 365 * 24;

const program = new Command('hourglass').description('Hourglass: durable execution that speaks the Temporal protocol');

program
  .command('start-dev')
  .description('run every service in one process on the embedded SQLite store (gRPC on 127.0.0.1:7233)')
  .addOption(new Option('--ip <address>', 'address to serve gRPC on (env HOURGLASS_IP)'))
  .addOption(new Option('-p, --port <port>', 'gRPC port; 0 picks a free one (env HOURGLASS_PORT)'))
  .addOption(new Option('-f, --db-filename <path>', 'SQLite file (env HOURGLASS_DB_FILENAME)'))
  .addOption(new Option('--in-memory', 'keep everything in memory; lost on exit').default(false))
  .addOption(new Option('-n, --namespace <name...>', 'extra namespaces to create at start'))
  .addOption(new Option('--log-level <level>', 'trace|debug|info|warn|error|silent (env HOURGLASS_LOG_LEVEL)'))
  .addOption(new Option('--num-history-shards <n>', 'history shards, fixed when the store is created (env HOURGLASS_NUM_HISTORY_SHARDS)'))
  .addOption(new Option('--retention-hours <hours>', 'retention of closed executions in namespaces created at start'))
  .addOption(new Option('--store <store>', 'sqlite (default) or mysql (env HOURGLASS_STORE)').choices(['sqlite', 'mysql']))
  .addOption(new Option('--mysql-cluster-dsn <dsn>', 'MySQL cluster database, e.g. mysql://root@127.0.0.1:3306/hourglass (env HOURGLASS_MYSQL_CLUSTER_DSN)'))
  .addOption(new Option('--mysql-shard-dsn <dsn...>', 'MySQL shard databases, one per flag or comma-separated in env HOURGLASS_MYSQL_SHARD_DSNS'))
  .action(async (opts: Record<string, unknown>) => {
    let config;
    try {
      config = parseDevServerConfig(
        {
          ip: opts.ip,
          port: opts.port,
          dbFilename: opts.dbFilename,
          inMemory: opts.inMemory,
          namespaces: opts.namespace ?? [],
          logLevel: opts.logLevel,
          numHistoryShards: opts.numHistoryShards,
          retentionHours: opts.retentionHours,
          store: opts.store,
          mysqlClusterDsn: opts.mysqlClusterDsn,
          mysqlShardDsns: opts.mysqlShardDsn ?? [],
        },
        process.env,
      );
    } catch (err) {
      console.error(`hourglass: ${(err as Error).message}`);
      process.exit(2);
    }
    const logger = createLogger({ level: config.logLevel, name: 'hourglass' });
    let server;
    try {
      server = await startDevServer({ config, logger });
    } catch (err) {
      console.error(`hourglass: could not start: ${(err as Error).message}`);
      process.exit(1);
    }
    console.log(`Hourglass is serving WorkflowService on ${server.address} (store: ${describeStore(config)}, namespace: default)`);
    let signals = 0;
    const shutdown = (signal: string): void => {
      signals += 1;
      if (signals > 1) process.exit(130);
      logger.info({ signal }, 'shutting down');
      server.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });

const db = program.command('db').description('database administration');
db.command('migrate')
  .description('create the MySQL databases if needed and apply pending schema migrations (idempotent)')
  .addOption(new Option('--cluster-dsn <dsn>', 'cluster database (env HOURGLASS_MYSQL_CLUSTER_DSN)'))
  .addOption(new Option('--shard-dsn <dsn...>', 'shard databases (env HOURGLASS_MYSQL_SHARD_DSNS, comma-separated)'))
  .addOption(new Option('--dsn <dsn...>', 'same as --shard-dsn'))
  .action(async (opts: { clusterDsn?: string; shardDsn?: string[]; dsn?: string[] }) => {
    let config;
    try {
      config = parseDevServerConfig(
        { store: 'mysql', mysqlClusterDsn: opts.clusterDsn, mysqlShardDsns: [...(opts.shardDsn ?? []), ...(opts.dsn ?? [])] },
        process.env,
      );
    } catch (err) {
      console.error(`hourglass: ${(err as Error).message}`);
      process.exit(2);
    }
    try {
      await migrateMysql({ clusterDsn: config.mysqlClusterDsn, shardDsns: config.mysqlShardDsns });
    } catch (err) {
      console.error(`hourglass: migration failed: ${(err as Error).message}`);
      process.exit(1);
    }
    console.log(`Hourglass schema is up to date in the cluster database and ${config.mysqlShardDsns.length} shard database(s)`);
  });

program
  .command('test-server')
  .description("a time-skipping test server on 127.0.0.1:<port>, in memory; the launch contract of @temporalio/testing's TestWorkflowEnvironment.createTimeSkipping")
  .argument('<port>', 'port to serve on')
  .option('--enable-time-skipping', 'start with time skipping on (default: locked until a client unlocks it)', false)
  .action(async (port: string, opts: { enableTimeSkipping: boolean }) => {
    // Closed runs stay for the life of the test server: time skipping would otherwise jump straight to their deletion.
    const config = parseDevServerConfig({ port, inMemory: true, logLevel: 'warn', retentionHours: TEST_SERVER_RETENTION_HOURS }, {});
    const logger = createLogger({ level: config.logLevel, name: 'hourglass-test-server' });
    const server = await startDevServer({ config, logger, timeSkipping: { locked: !opts.enableTimeSkipping } });
    console.log(`Hourglass test server (time skipping) is serving on ${server.address}`);
    const stop = (): void => void server.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`hourglass: ${(err as Error).message}`);
  process.exit(1);
});
