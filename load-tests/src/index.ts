export { percentile, summarize, type LatencySummary } from './stats';
