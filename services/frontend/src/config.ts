/**
 * What the frontend deployable is configured with. Limits (message size, id length, payload sizes)
 * are not here: they are settings (`Limits.*` in @hourglass/common), read per namespace.
 */
export interface FrontendConfig {
  host: string;
  port: number;
  /** Reported by GetSystemInfo. */
  serverVersion: string;
}

export const DEFAULT_FRONTEND_CONFIG: FrontendConfig = {
  host: '127.0.0.1',
  port: 7233,
  serverVersion: '0.1.0',
};
