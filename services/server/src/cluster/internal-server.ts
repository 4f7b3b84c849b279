/**
 * The internal gRPC listener of one `hourglass start` process: what other hosts of the cluster call
 * (the history and matching APIs of the roles this process runs) and what probes ask
 * (grpc.health.v1.Health, from grpc-node's grpc-health-check). Health answers SERVING for the
 * whole process ('') and for each role it runs by name (`history`, `matching`…) once the role is
 * up, and NOT_SERVING from the moment the process starts leaving, so routers stop sending calls
 * before the listener closes.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { ServiceRole } from '../config';

/** Health service name of a role on the internal port: its bare name (`history`), what a probe asks for. */
export function roleHealthName(role: ServiceRole): string {
  return role;
}

export class InternalServer {
  /** The grpc-js server: role services are added to it before `listen`. */
  readonly server = new Server({ 'grpc.keepalive_permit_without_calls': 1 });
  private readonly health: HealthImplementation;
  private readonly names: string[];
  private boundPort: number | undefined;

  constructor(roles: readonly ServiceRole[]) {
    this.names = ['', ...roles.map(roleHealthName)];
    // NOT_SERVING until each role says it is up (a probe during start must not route calls here).
    this.health = new HealthImplementation(Object.fromEntries(this.names.map((n) => [n, 'NOT_SERVING' as ServingStatus])));
    this.health.addToServer(this.server);
  }

  /** Binds `host:port` (port 0: a free one) and answers the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      this.server.bindAsync(target, ServerCredentials.createInsecure(), (err, bound) => {
        if (err) return reject(new Error(`cannot serve internal gRPC on ${target}: ${err.message}`, { cause: err }));
        this.boundPort = bound;
        resolve(bound);
      });
    });
  }

  get port(): number | undefined {
    return this.boundPort;
  }

  /** A role is up (or going away). The overall status is SERVING once every role is. */
  setServing(role: ServiceRole, serving: boolean): void {
    this.health.setStatus(roleHealthName(role), serving ? 'SERVING' : 'NOT_SERVING');
  }

  setOverall(serving: boolean): void {
    this.health.setStatus('', serving ? 'SERVING' : 'NOT_SERVING');
  }

  /** Everything NOT_SERVING: the first step of leaving. */
  notServing(): void {
    for (const name of this.names) this.health.setStatus(name, 'NOT_SERVING');
  }

  /** Stops accepting calls, lets running ones finish for up to `graceMs`, then cuts the rest. */
  stop(graceMs: number): Promise<void> {
    this.notServing();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
