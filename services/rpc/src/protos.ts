/**
 * The internal protos (proto/hourglass/internal/v1), parsed into a protobufjs Root built from the
 * descriptors @temporalio/proto ships: Temporal's messages are embedded by their full names and
 * resolve to Temporal's own definitions, never to a copy. Our protobufjs (the version
 * @temporalio/proto itself runs on) builds every type, so a decoded Temporal message has the shape
 * the SDK's and the frontend's decoding gives (Long for int64, Buffer for bytes, defaults on the
 * prototype).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';

/** `proto/` of the repository, from this file's place in `services/rpc/{src,dist}`. */
export const PROTO_DIR = path.resolve(__dirname, '../../../proto');

export const INTERNAL_PACKAGE = 'hourglass.internal.v1';
export const HISTORY_SERVICE = `${INTERNAL_PACKAGE}.HistoryService`;
export const MATCHING_SERVICE = `${INTERNAL_PACKAGE}.MatchingService`;

const FILES = ['hourglass/internal/v1/common.proto', 'hourglass/internal/v1/history_service.proto', 'hourglass/internal/v1/matching_service.proto'];

let root: protobuf.Root | undefined;

/** The root holding Temporal's messages and Hourglass's internal ones, resolved (built once). */
export function internalProtoRoot(): protobuf.Root {
  if (!root) {
    // The json-module is what @temporalio/proto's root is made of (before its namespace patching).
    const temporal = require('@temporalio/proto/protos/json-module') as { toJSON(): protobuf.INamespace };
    const built = protobuf.Root.fromJSON(temporal.toJSON());
    // parse() ignores imports: google.protobuf.* and temporal.* are already in the root.
    for (const file of FILES) protobuf.parse(readFileSync(path.join(PROTO_DIR, file), 'utf8'), built, { keepCase: false });
    built.resolveAll();
    root = built;
  }
  return root;
}

export function lookupType(name: string): protobuf.Type {
  return internalProtoRoot().lookupType(name);
}

/** True for the messages of Hourglass's internal package (converted field by field); Temporal's pass through. */
export function isInternalType(type: protobuf.Type): boolean {
  return type.fullName.startsWith(`.${INTERNAL_PACKAGE}.`);
}
