export * from './metrics';
export * from './rate-limited-log';
export * from './tracing';
