/**
 * Authentication, first after the call context: who is calling. An API key is sent as
 * `authorization: Bearer <key>` (the official SDKs' `apiKey` option) and is always verified when
 * present. Without one, a call is refused with UNAUTHENTICATED, with two exceptions: methods that
 * need no permission (capability checks), and, on `start-dev`'s plaintext port unless
 * `--require-auth`, the development caller (the dev account's owner on the namespaces start-dev
 * serves), so Temporal's own samples run unmodified.
 */
import { UnauthenticatedError } from '@hourglass/common';
import type { ApiKeyAuthenticator, Principal } from '@hourglass/identity';
import type { CallContext } from '../call-context';
import type { MethodSpec } from '../method-table';
import type { Interceptor } from './chain';

export interface Authenticator {
  /** The caller; undefined only when no identity is configured or the method needs none. */
  authenticate(context: CallContext, spec: MethodSpec): Promise<Principal | undefined>;
}

/** No identity configured (unit tests, the time-skipping test server): every caller is anonymous. */
export const ANONYMOUS_AUTHENTICATOR: Authenticator = { authenticate: () => Promise.resolve(undefined) };

export interface ApiKeyCallAuthenticatorOptions {
  keys: ApiKeyAuthenticator;
  /** The key-less development caller of the plaintext port; undefined: every call needs a key. */
  devPrincipal?: () => Principal | undefined;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export class ApiKeyCallAuthenticator implements Authenticator {
  constructor(private readonly options: ApiKeyCallAuthenticatorOptions) {}

  async authenticate(context: CallContext, spec: MethodSpec): Promise<Principal | undefined> {
    const header = context.metadata.get('authorization')[0];
    if (header !== undefined) {
      const match = BEARER.exec(typeof header === 'string' ? header : header.toString('utf8'));
      if (!match) throw new UnauthenticatedError('the authorization header must be "Bearer <API key>"');
      return this.options.keys.authenticate(match[1] as string);
    }
    if (spec.permission === 'none') return undefined;
    // The key-less dev caller runs workflows; the account and operator APIs always need a key.
    const dataPlane = spec.namespace.kind !== 'account' && spec.permission !== 'operator';
    const dev = dataPlane && context.transport === 'plaintext' ? this.options.devPrincipal?.() : undefined;
    if (dev) return dev;
    throw new UnauthenticatedError('this call needs an API key: send it as "authorization: Bearer <key>" (the SDK\'s apiKey option)');
  }
}

export function authenticationInterceptor(authenticator: Authenticator): Interceptor {
  return {
    name: 'authentication',
    async intercept(call, next) {
      // Not a child logger per call (it costs as much as the authentication): the lines a call logs
      // name its principal themselves (callContext's 'rpc failed').
      call.principal = call.context.authenticated ?? (await authenticator.authenticate(call.context, call.spec));
      return next();
    },
  };
}
