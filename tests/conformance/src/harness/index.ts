export * from './server';
export * from './eventually';
export * from './sdk';
export * from './history';
export * from './env';
export * from './mysql';
export * from './raw-service';
export * from './cloud-scenario';
