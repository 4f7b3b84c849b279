export interface FrontendConfig {
  host: string;
  port: number;
  /** Largest payload (input, result, details…) accepted in one field; Temporal's blob size error limit. */
  blobSizeLimitBytes: number;
  /** Longest accepted workflow id, activity id, type and task queue name. */
  maxIdLength: number;
  /** Largest gRPC message accepted; payload limits are enforced separately with clear errors. */
  maxReceiveMessageBytes: number;
  /** Reported by GetSystemInfo. */
  serverVersion: string;
}

export const DEFAULT_FRONTEND_CONFIG: FrontendConfig = {
  host: '127.0.0.1',
  port: 7233,
  blobSizeLimitBytes: 2 * 1024 * 1024,
  maxIdLength: 1000,
  maxReceiveMessageBytes: 128 * 1024 * 1024,
  serverVersion: '0.1.0',
};
