export * from './types';
export { MatchingEngine } from './matching-engine';
