// A Nexus service and a workflow that calls it. Hourglass has no Nexus: the workflow's
// ScheduleNexusOperation is refused (its workflow task fails with FEATURE_DISABLED, attempts paced).
import * as nexus from 'nexus-rpc';
import { createNexusServiceClient } from '@temporalio/workflow';

export const echoService = nexus.service('hourglass-echo', { echo: nexus.operation<string, string>() });

/** Calls the echo operation through an endpoint; never completes on a server without Nexus. */
export async function callNexusEcho(endpoint: string, value: string): Promise<string> {
  const client = createNexusServiceClient({ endpoint, service: echoService });
  return client.executeOperation('echo', value, { scheduleToCloseTimeout: '1 minute' });
}
