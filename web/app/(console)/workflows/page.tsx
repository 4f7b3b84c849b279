'use client';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { Suspense, useEffect, useState, type ReactNode } from 'react';
import { ErrorText, Loading, time } from '../../../components/ui';
import { gql, useQuery } from '../../../lib/client';

interface Summary {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string | null;
  closeTime: string | null;
  taskQueue: string;
  historyLength: number;
}
interface Counts {
  total: number;
  byStatus: { status: string; count: number }[];
}
interface SavedView {
  name: string;
  query: string;
  savedBy: string;
  updatedAt: string;
}

const EXAMPLES = ["ExecutionStatus = 'Running'", "WorkflowType = 'greetAndAdd' AND ExecutionStatus = 'Completed'", "WorkflowId = 'order-42'", "StartTime > '2026-12-01T00:00:00Z'", "ExecutionStatus IN ('Failed', 'TimedOut') ORDER BY StartTime DESC"];
const PAGE_SIZE = 20;

function Workflows(): ReactNode {
  const router = useRouter();
  const params = useSearchParams();
  const namespaces = useQuery<{ namespaces: { name: string }[] }>('{ namespaces { name } }');
  const namespace = params.get('namespace') ?? namespaces.data?.namespaces[0]?.name ?? '';
  const query = params.get('query') ?? '';
  const [draft, setDraft] = useState(query);
  const [pages, setPages] = useState<(string | null)[]>([null]);
  useEffect(() => {
    setDraft(query);
    setPages([null]);
  }, [query, namespace]);
  const pageToken = pages[pages.length - 1] ?? null;
  const skip = namespace === '';
  const list = useQuery<{ workflows: { executions: Summary[]; nextPageToken: string | null }; workflowCounts: Counts }>(
    'query List($namespace: String!, $query: String, $pageSize: Int, $pageToken: String) { workflows(namespace: $namespace, query: $query, pageSize: $pageSize, pageToken: $pageToken) { executions { workflowId runId type status startTime closeTime taskQueue historyLength } nextPageToken } workflowCounts(namespace: $namespace, query: $query) { total byStatus { status count } } }',
    { namespace, query, pageSize: PAGE_SIZE, pageToken },
    skip,
  );
  const views = useQuery<{ savedViews: SavedView[] }>('query Views($namespace: String!) { savedViews(namespace: $namespace) { name query savedBy updatedAt } }', { namespace }, skip);
  const [viewError, setViewError] = useState<string>();
  const go = (ns: string, q: string) => router.replace(`/workflows?namespace=${encodeURIComponent(ns)}&query=${encodeURIComponent(q)}`);
  return (
    <>
      <h1>Workflows</h1>
      <ErrorText error={namespaces.error} />
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          go(namespace, draft);
        }}
      >
        <div className="row">
          <div>
            <label htmlFor="wf-namespace">Namespace</label>
            <select id="wf-namespace" value={namespace} onChange={(e) => go(e.target.value, query)}>
              {(namespaces.data?.namespaces ?? []).map((n) => (
                <option key={n.name} value={n.name}>
                  {n.name}
                </option>
              ))}
            </select>
          </div>
        </div>
        <label htmlFor="wf-query">List filter</label>
        <input id="wf-query" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="ExecutionStatus = 'Running'" aria-describedby="wf-query-help" list="wf-examples" />
        <datalist id="wf-examples">
          {EXAMPLES.map((x) => (
            <option key={x} value={x} />
          ))}
        </datalist>
        <div className="row">
          <button type="submit" className="primary">
            Search
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft('');
              go(namespace, '');
            }}
          >
            Clear
          </button>
        </div>
        <details id="wf-query-help">
          <summary>Examples</summary>
          <ul>
            {EXAMPLES.map((x) => (
              <li key={x}>
                <button type="button" onClick={() => setDraft(x)}>
                  <code>{x}</code>
                </button>
              </li>
            ))}
          </ul>
        </details>
      </form>
      <ErrorText error={list.error} />
      <Loading loading={list.loading} />
      {list.data ? (
        <>
          <h2>Counts</h2>
          <ul className="counts" aria-label="Counts by status">
            <li data-testid="count-total">
              Total: <strong>{list.data.workflowCounts.total}</strong>
            </li>
            {list.data.workflowCounts.byStatus.map((s) => (
              <li key={s.status} data-testid={`count-${s.status}`}>
                {s.status}: <strong>{s.count}</strong>
              </li>
            ))}
          </ul>
          <div className="table-wrap">
            <table>
              <caption className="muted">Page {pages.length}</caption>
              <thead>
                <tr>
                  <th scope="col">Workflow id</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col">Closed</th>
                  <th scope="col" className="num">Events</th>
                </tr>
              </thead>
              <tbody>
                {list.data.workflows.executions.map((w) => (
                  <tr key={`${w.workflowId}/${w.runId}`}>
                    <td>
                      <Link href={`/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(w.workflowId)}?runId=${encodeURIComponent(w.runId)}`}>{w.workflowId}</Link>
                    </td>
                    <td>{w.type}</td>
                    <td>{w.status}</td>
                    <td>{time(w.startTime)}</td>
                    <td>{time(w.closeTime)}</td>
                    <td className="num">{w.historyLength}</td>
                  </tr>
                ))}
                {list.data.workflows.executions.length === 0 ? (
                  <tr>
                    <td colSpan={6}>No workflow matches.</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          <div className="row">
            <button type="button" disabled={pages.length < 2} onClick={() => setPages((p) => p.slice(0, -1))}>
              Previous page
            </button>
            <button type="button" disabled={!list.data.workflows.nextPageToken} onClick={() => setPages((p) => [...p, list.data?.workflows.nextPageToken ?? null])}>
              Next page
            </button>
          </div>
        </>
      ) : null}
      <section className="panel" aria-labelledby="saved-views">
        <h2 id="saved-views">My saved queries</h2>
        <p className="muted">Only you see these; other users of {namespace || 'the namespace'} keep their own.</p>
        <ErrorText error={views.error ?? viewError} />
        {views.data && views.data.savedViews.length === 0 ? <p>You have no saved queries in this namespace yet.</p> : null}
        <ul>
          {(views.data?.savedViews ?? []).map((v) => (
            <li key={v.name}>
              <button type="button" onClick={() => go(namespace, v.query)}>
                {v.name}
              </button>{' '}
              <code>{v.query}</code>{' '}
              <button
                type="button"
                className="danger"
                aria-label={`Delete saved query ${v.name}`}
                onClick={() => {
                  gql('mutation Del($namespace: String!, $name: String!) { deleteView(namespace: $namespace, name: $name) }', { namespace, name: v.name }).then(views.reload, (err: unknown) => setViewError((err as Error).message));
                }}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const name = String(new FormData(e.currentTarget).get('name'));
            setViewError(undefined);
            gql('mutation Save($namespace: String!, $name: String!, $query: String!) { saveView(namespace: $namespace, name: $name, query: $query) { name } }', { namespace, name, query: draft }).then(views.reload, (err: unknown) =>
              setViewError((err as Error).message),
            );
          }}
        >
          <div className="row">
            <div>
              <label htmlFor="view-name">Save the current filter as</label>
              <input id="view-name" name="name" required />
            </div>
            <button type="submit">Save query</button>
          </div>
        </form>
      </section>
    </>
  );
}

export default function WorkflowsPage(): ReactNode {
  return (
    <Suspense>
      <Workflows />
    </Suspense>
  );
}
