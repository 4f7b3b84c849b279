/**
 * temporal.api.operatorservice.v1.OperatorService: served so the CLI and UI get a precise answer.
 * Every method answers UNIMPLEMENTED with its name except what is already true without more
 * machinery: Hourglass has no Nexus endpoints (none can be created yet), so the list is empty.
 */
import type { UnaryHandler } from './interceptors';

export function operatorServiceHandlers(): Record<string, UnaryHandler> {
  return {
    ListNexusEndpoints: async () => ({ endpoints: [] }),
  };
}
