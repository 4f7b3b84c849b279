export * from './types';
export * from './config';
export { MatchingEngine } from './matching-engine';
