export * from './types';
export { MatchingEngine } from './matching-engine';
export { InProcessPartitionRouter, ServicePartitionRouter, parentPartition, type PartitionRouter } from './partitions';
