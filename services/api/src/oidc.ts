/**
 * Single sign-on: an OpenID Connect provider's ID token, verified here, is exchanged for a portal
 * session of the Hourglass user with the token's email (a user must have been invited with that
 * email: the provider proves who the person is, Hourglass decides what they may do).
 *
 * The issuer and client id come from HOURGLASS_OIDC_ISSUER and HOURGLASS_OIDC_CLIENT_ID (the portal
 * console's provider uses the same variables). The issuer's keys are found through its discovery
 * document and cached by jose (refetched when a token names an unknown key). A token is accepted only
 * when its signature, issuer, audience (our client id) and lifetime check out and its email is not
 * marked unverified.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { UnauthenticatedError } from '@hourglass/common';

export interface OidcSettings {
  issuer: string;
  clientId: string;
}

/** The OIDC settings the environment configures; undefined when single sign-on is not set up. */
export function oidcSettingsFromEnv(env: NodeJS.ProcessEnv): OidcSettings | undefined {
  const issuer = env.HOURGLASS_OIDC_ISSUER?.trim();
  const clientId = env.HOURGLASS_OIDC_CLIENT_ID?.trim();
  if (!issuer || !clientId) return undefined;
  return { issuer: issuer.replace(/\/$/, ''), clientId };
}

/** The identity an ID token proves. */
export interface OidcIdentity {
  subject: string;
  email: string;
}

const MAX_ID_TOKEN_LENGTH = 16 * 1024;
const DISCOVERY_TIMEOUT_MS = 5000;

export class OidcVerifier {
  private keys: Promise<JWTVerifyGetKey> | undefined;

  constructor(private readonly settings: OidcSettings) {}

  async verify(idToken: string): Promise<OidcIdentity> {
    const refused = (why: string): UnauthenticatedError => new UnauthenticatedError(`single sign-on refused: ${why}`);
    if (idToken.length === 0 || idToken.length > MAX_ID_TOKEN_LENGTH) throw refused(`an ID token is 1 to ${MAX_ID_TOKEN_LENGTH} characters (${idToken.length} given)`);
    let payload;
    try {
      ({ payload } = await jwtVerify(idToken, await this.jwks(), { issuer: [this.settings.issuer, `${this.settings.issuer}/`], audience: this.settings.clientId }));
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) throw refused(`the ID token is not valid (${err.code}: ${err.message.slice(0, 120)})`);
      throw err;
    }
    const email = typeof payload.email === 'string' ? payload.email : '';
    if (!email) throw refused('the ID token carries no email (ask the provider for the "email" scope)');
    if (payload.email_verified === false) throw refused('the provider has not verified this email');
    return { subject: payload.sub ?? '', email };
  }

  /** The issuer's key set, found through its discovery document once (again after a failure). */
  private jwks(): Promise<JWTVerifyGetKey> {
    this.keys ??= this.discover().catch((err: unknown) => {
      this.keys = undefined;
      throw err;
    });
    return this.keys;
  }

  private async discover(): Promise<JWTVerifyGetKey> {
    const url = `${this.settings.issuer}/.well-known/openid-configuration`;
    let jwksUri: unknown;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      jwksUri = ((await response.json()) as { jwks_uri?: unknown }).jwks_uri;
    } catch (err) {
      throw new UnauthenticatedError(`single sign-on is unavailable: the provider's discovery document ${url} could not be read (${(err as Error).message.slice(0, 120)})`);
    }
    if (typeof jwksUri !== 'string') throw new UnauthenticatedError(`single sign-on is unavailable: ${url} names no jwks_uri`);
    return createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: DISCOVERY_TIMEOUT_MS });
  }
}
