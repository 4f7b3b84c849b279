/**
 * The interceptor chain every RPC passes before its handler, in one fixed order (see CHAIN_ORDER in
 * index.ts). Each interceptor reads the method's row of the method table (`call.spec`) and may add
 * to the call what later steps need (the resolved namespace, the caller's claims, a decoded task
 * token). A handler sees the result through HandlerContext and never resolves or checks any of it.
 */
import { InvariantViolationError, type Logger } from '@hourglass/common';
import type { TaskToken } from '@hourglass/contracts';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { CallContext } from '../call-context';
import type { MethodSpec } from '../method-table';
import type { Principal } from '@hourglass/identity';

/** One RPC on its way through the chain. */
export interface Call {
  /** Full service name, e.g. temporal.api.workflowservice.v1.WorkflowService. */
  readonly service: string;
  readonly method: string;
  /** `/service/Method`: what Temporal's CallTarget.APIName carries. */
  readonly fullMethod: string;
  readonly spec: MethodSpec;
  readonly request: unknown;
  readonly context: CallContext;
  /** Carries method and namespace on every line (set by the call-context interceptor). */
  logger: Logger;
  /** The namespace the request names; '' for cluster-scoped methods. */
  namespaceName: string;
  /** Resolved by the namespace interceptor for methods whose row says `resolve`. */
  namespace: NamespaceRecord | undefined;
  /** Who is calling, from authentication (undefined: anonymous, where no identity is configured). */
  principal: Principal | undefined;
  /** Decoded and checked by validation for task-token-addressed methods. */
  taskToken: TaskToken | undefined;
}

export type Next = () => Promise<unknown>;

export interface Interceptor {
  readonly name: string;
  intercept(call: Call, next: Next): Promise<unknown>;
}

export type CallHandler = (call: Call) => Promise<unknown>;

export class InterceptorChain {
  constructor(readonly interceptors: readonly Interceptor[]) {}

  get names(): string[] {
    return this.interceptors.map((i) => i.name);
  }

  run(call: Call, handler: CallHandler): Promise<unknown> {
    const step = (index: number): Promise<unknown> => {
      const interceptor = this.interceptors[index];
      if (!interceptor) return handler(call);
      return interceptor.intercept(call, () => step(index + 1));
    };
    return step(0);
  }
}

/** What a handler receives besides its request. */
export interface HandlerContext extends CallContext {
  readonly method: string;
  readonly logger: Logger;
  /** The resolved namespace. Reading it on a method whose row resolves none is a bug (invariant error). */
  readonly namespace: NamespaceRecord;
  /** The namespace the request names ('' for cluster-scoped methods). */
  readonly namespaceName: string;
  /** Who is calling (undefined: anonymous, where no identity is configured). */
  readonly principal: Principal | undefined;
  /** The checked task token of token-addressed methods (invariant error on others). */
  readonly taskToken: TaskToken;
}

/** request → response; the chain already ran. */
export type UnaryHandler = (request: any, context: HandlerContext) => Promise<unknown>;

export function handlerContext(call: Call): HandlerContext {
  return {
    deadline: call.context.deadline,
    get signal(): AbortSignal {
      return call.context.signal;
    },
    metadata: call.context.metadata,
    transport: call.context.transport,
    method: call.method,
    logger: call.logger,
    namespaceName: call.namespaceName,
    principal: call.principal,
    get namespace(): NamespaceRecord {
      if (!call.namespace) throw new InvariantViolationError(`${call.method} has no resolved namespace: its method-table row resolves none`);
      return call.namespace;
    },
    get taskToken(): TaskToken {
      if (!call.taskToken) throw new InvariantViolationError(`${call.method} has no validated task token`);
      return call.taskToken;
    },
  };
}
