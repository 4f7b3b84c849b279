export * from './membership';
export * from './rendezvous';
