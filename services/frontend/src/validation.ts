/** Request checks at the edge: every failure is INVALID_ARGUMENT with a message naming the field and value. */
import { InvalidArgumentError, payloadsSize, temporal, type Failure, type Payloads } from '@hourglass/common';
import type { FrontendConfig } from './config';

export class RequestValidator {
  constructor(private readonly config: Pick<FrontendConfig, 'blobSizeLimitBytes' | 'maxIdLength'>) {}

  /** A required identifier: non-empty, not too long. */
  id(value: string | null | undefined, field: string): string {
    if (!value) throw new InvalidArgumentError(`${field} is not set`);
    if (value.length > this.config.maxIdLength) {
      throw new InvalidArgumentError(`${field} is ${value.length} characters long, more than the limit of ${this.config.maxIdLength}`);
    }
    return value;
  }

  /** Optional request id (idempotency key). */
  requestId(value: string | null | undefined): void {
    if (value && value.length > 255) throw new InvalidArgumentError(`requestId is ${value.length} characters long, more than the limit of 255`);
  }

  namespace(value: string | null | undefined): string {
    return this.id(value, 'namespace');
  }

  payloads(value: Payloads | null | undefined, field: string): void {
    this.size(payloadsSize(value), field);
  }

  failure(value: Failure | null | undefined, field: string): void {
    if (!value) return;
    this.size(temporal.api.failure.v1.Failure.encode(value).len, field);
  }

  memo(value: temporal.api.common.v1.IMemo | null | undefined, field: string): void {
    if (!value) return;
    this.size(temporal.api.common.v1.Memo.encode(value).len, field);
  }

  searchAttributes(value: temporal.api.common.v1.ISearchAttributes | null | undefined, field: string): void {
    if (!value) return;
    this.size(temporal.api.common.v1.SearchAttributes.encode(value).len, field);
    for (const name of Object.keys(value.indexedFields ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
        throw new InvalidArgumentError(`search attribute name ${JSON.stringify(name)} is invalid: use letters, digits and _ (at most 64 characters)`);
      }
    }
  }

  header(value: temporal.api.common.v1.IHeader | null | undefined, field: string): void {
    if (!value) return;
    this.size(temporal.api.common.v1.Header.encode(value).len, field);
  }

  private size(bytes: number, field: string): void {
    if (bytes > this.config.blobSizeLimitBytes) {
      throw new InvalidArgumentError(`${field} is ${formatBytes(bytes)}, more than the ${formatBytes(this.config.blobSizeLimitBytes)} limit`);
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KB`;
  return `${bytes} bytes`;
}
