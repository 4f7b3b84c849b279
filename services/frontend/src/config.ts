/**
 * What the frontend deployable is configured with. Limits (message size, id length, payload sizes)
 * are not here: they are settings (`Limits.*` in @hourglass/common), read per namespace.
 */
export interface FrontendConfig {
  host: string;
  /** The plaintext listener's port; 0 picks a free one. */
  port: number;
  /**
   * A second listener with TLS on the same host, serving the same services through the same chain;
   * absent: plaintext only. The official SDKs turn TLS on whenever they are given an API key.
   */
  tls?: FrontendTlsConfig;
  /** Reported by GetSystemInfo. */
  serverVersion: string;
}

export interface FrontendTlsConfig {
  /** 0 picks a free one. */
  port: number;
  /** PEM: the server certificate, followed by any intermediates clients need. */
  certChain: Buffer;
  /** PEM: the certificate's private key. */
  privateKey: Buffer;
}

export const DEFAULT_FRONTEND_CONFIG: FrontendConfig = {
  host: '127.0.0.1',
  port: 7233,
  serverVersion: '0.1.0',
};
