/**
 * Compressed requests, inflated in one call. The official worker's native connection gzips every
 * request it sends, most of them a few hundred bytes. grpc-js 1.14 inflates each one through a new
 * zlib stream (a Transform with its listeners, a thread-pool round trip, Buffer.concat): under the
 * one-activity benchmark that machinery was about a tenth of the server's busy CPU. A message up to
 * INFLATE_IN_ONE_CALL_BYTES compressed is inflated here with one synchronous zlib call, under the same
 * cap (`grpc.max_receive_message_length` applies to the inflated size) and with the same statuses
 * grpc-js answers (RESOURCE_EXHAUSTED past the cap, INTERNAL for a corrupt message); a larger one
 * keeps grpc-js's own path. Bounded: at most the 4 MB cap is inflated, a few milliseconds.
 *
 * grpc-js offers no hook for this, so the method of its call class is replaced; `installInflate`
 * checks the shape it relies on and leaves grpc-js alone when a version changes it (the
 * `inflate.test.ts` test then fails, so an upgrade cannot lose the saving silently).
 */
import { inflateSync, gunzipSync, type ZlibOptions } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import * as serverInterceptors from '@grpc/grpc-js/build/src/server-interceptors';

/** Compressed messages up to this size are inflated in one synchronous call. */
export const INFLATE_IN_ONE_CALL_BYTES = 64 * 1024;

/** The gRPC message frame: 1 byte compressed flag, 4 bytes length. */
const FRAME_HEADER_BYTES = 5;

type Decompress = (this: CallInternals, message: Buffer, encoding: string) => Buffer | Promise<Buffer>;

interface CallInternals {
  /** grpc-js's receive cap of this call's server; -1 for none. */
  maxReceiveMessageSize: number;
}

interface StatusObject {
  code: status;
  details: string;
}

let installed: 'yes' | 'unsupported' | undefined;

/**
 * Replaces grpc-js's per-message inflation (once per process). Returns whether it could: false when
 * this grpc-js has no `decompressMessage` to replace.
 */
export function installInflate(): boolean {
  if (installed) return installed === 'yes';
  const prototype = (serverInterceptors as unknown as { BaseServerInterceptingCall?: { prototype: Record<string, unknown> } }).BaseServerInterceptingCall?.prototype;
  const original = prototype?.decompressMessage as Decompress | undefined;
  if (!prototype || typeof original !== 'function') {
    installed = 'unsupported';
    return false;
  }
  const replacement: Decompress = function (this: CallInternals, message, encoding) {
    if ((encoding !== 'gzip' && encoding !== 'deflate') || message.length - FRAME_HEADER_BYTES > INFLATE_IN_ONE_CALL_BYTES) {
      return original.call(this, message, encoding);
    }
    const result = inflateMessage(message.subarray(FRAME_HEADER_BYTES), encoding, this.maxReceiveMessageSize);
    return Buffer.isBuffer(result) ? result : Promise.reject(result);
  };
  prototype.decompressMessage = replacement;
  installed = 'yes';
  return true;
}

/** The inflated message, or the status grpc-js would answer for it. */
export function inflateMessage(contents: Buffer, encoding: 'gzip' | 'deflate', maxBytes: number): Buffer | StatusObject {
  const options: ZlibOptions = maxBytes === -1 ? {} : { maxOutputLength: maxBytes };
  try {
    return encoding === 'gzip' ? gunzipSync(contents, options) : inflateSync(contents, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      return { code: status.RESOURCE_EXHAUSTED, details: `Received message that decompresses to a size larger than ${maxBytes}` };
    }
    return { code: status.INTERNAL, details: 'Failed to decompress message' };
  }
}
