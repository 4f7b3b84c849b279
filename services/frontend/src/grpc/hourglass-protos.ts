/**
 * Hourglass's own protos (the repository's `proto/` folder), loaded once with protobufjs: the
 * operator API today. Temporal's protos never come from here: they are @temporalio/proto's.
 */
import path from 'node:path';
import protobuf from 'protobufjs';

/** `proto/` of the repository, from this file's place in `services/frontend/{src,dist}/grpc`. */
export const PROTO_DIR = path.resolve(__dirname, '../../../../proto');

export const OPERATOR_API = 'hourglass.operator.v1.OperatorApi';

let root: protobuf.Root | undefined;

export function hourglassProtoRoot(): protobuf.Root {
  root ??= protobuf.loadSync(path.join(PROTO_DIR, 'hourglass/operator/v1/operator_service.proto'));
  return root;
}
