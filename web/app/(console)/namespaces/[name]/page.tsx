import type { ReactNode } from 'react';
import NamespaceDetail from './detail';

export const dynamic = 'force-dynamic';

export default async function NamespacePage({ params }: { params: Promise<{ name: string }> }): Promise<ReactNode> {
  const { name } = await params;
  return <NamespaceDetail name={decodeURIComponent(name)} grpcAddress={process.env.HOURGLASS_GRPC_ADDRESS ?? '127.0.0.1:7233'} tlsAddress={process.env.HOURGLASS_TLS_ADDRESS} />;
}
