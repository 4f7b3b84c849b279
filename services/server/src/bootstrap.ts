/**
 * `hourglass admin bootstrap`: outside development nothing is created silently, so the first
 * operator key of a deployment is made here, once, straight in its store (there is no key yet to
 * call the operator API with). Refused when an operator key exists already: further keys come
 * from an operator.
 */
import { SystemClock, createLogger } from '@hourglass/common';
import { IdentityService, bootstrapPrincipal } from '@hourglass/identity';
import type { DevServerConfig } from './config';
import { openConfiguredPersistence } from './persistence';

export async function bootstrapOperatorKey(config: DevServerConfig): Promise<{ keyId: string; token: string }> {
  const clock = new SystemClock();
  const persistence = await openConfiguredPersistence(config, clock);
  try {
    const identity = new IdentityService({ store: persistence.identity, namespaces: persistence.namespaces, clock, logger: createLogger({ level: 'silent', name: 'bootstrap' }) });
    const ctx = { principal: bootstrapPrincipal(), operation: 'Bootstrap' };
    const existing = await identity.listOperatorKeys(ctx);
    if (existing.length > 0) {
      throw new Error(`this deployment already has ${existing.length} operator key(s) (${existing.map((k) => k.id).join(', ')}): an operator issues further ones`);
    }
    const created = await identity.createOperatorKey(ctx, 'first operator key (hourglass admin bootstrap)');
    return { keyId: created.result.key.id, token: created.result.token };
  } finally {
    await persistence.close();
  }
}
