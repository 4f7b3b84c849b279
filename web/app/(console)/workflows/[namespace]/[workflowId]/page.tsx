import type { ReactNode } from 'react';
import WorkflowDetail from './detail';

export const dynamic = 'force-dynamic';

export default async function WorkflowPage({ params, searchParams }: { params: Promise<{ namespace: string; workflowId: string }>; searchParams: Promise<{ runId?: string }> }): Promise<ReactNode> {
  const { namespace, workflowId } = await params;
  const { runId } = await searchParams;
  return <WorkflowDetail namespace={decodeURIComponent(namespace)} workflowId={decodeURIComponent(workflowId)} runId={runId} />;
}
