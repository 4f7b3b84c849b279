/**
 * Protobuf blobs inside the JSON-serialised mutable state are kept as base64 of their encoding,
 * so payload bytes survive the round trip exactly.
 */
import { temporal } from '@hourglass/common';

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(data: Uint8Array): T;
}

function blobCodec<T>(codec: Codec<T>) {
  return {
    pack(message: T | null | undefined): string | null {
      if (message === null || message === undefined) return null;
      return Buffer.from(codec.encode(message).finish()).toString('base64');
    },
    unpack(blob: string | null | undefined): T | undefined {
      if (!blob) return undefined;
      return codec.decode(Buffer.from(blob, 'base64'));
    },
  };
}

export const payloadsBlob = blobCodec<temporal.api.common.v1.IPayloads>(temporal.api.common.v1.Payloads);
export const failureBlob = blobCodec<temporal.api.failure.v1.IFailure>(temporal.api.failure.v1.Failure);
export const memoBlob = blobCodec<temporal.api.common.v1.IMemo>(temporal.api.common.v1.Memo);
export const searchAttributesBlob = blobCodec<temporal.api.common.v1.ISearchAttributes>(temporal.api.common.v1.SearchAttributes);
export const headerBlob = blobCodec<temporal.api.common.v1.IHeader>(temporal.api.common.v1.Header);
export const eventBlob = blobCodec<temporal.api.history.v1.IHistoryEvent>(temporal.api.history.v1.HistoryEvent);
