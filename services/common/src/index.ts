export * from './errors';
export * from './clock';
export * from './logger';
export * from './hash';
export * from './async';
export * from './proto';
export * from './time-skipping-clock';
