export * from './common';
export * from './history-service';
export * from './matching-service';
export * from './task-token';
