'use client';
import Link from 'next/link';
import { useState, type ReactNode } from 'react';
import { ConfirmButton, ErrorText, Json, Loading, time } from '../../../../../components/ui';
import { gql, useQuery } from '../../../../../lib/client';

interface Summary {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string | null;
  closeTime: string | null;
  taskQueue: string;
  historyLength: number;
  searchAttributes: unknown;
  memo: unknown;
}
interface Detail {
  summary: Summary;
  parent: { workflowId: string; runId: string } | null;
  pendingActivities: { activityId: string; activityType: string; state: string; attempt: number; lastFailure: string | null; lastHeartbeatTime: string | null; heartbeatDetails: unknown; lastWorkerIdentity: string | null }[];
  pendingChildren: { workflowId: string; runId: string; workflowType: string }[];
  runs: { runId: string; status: string; startTime: string | null; closeTime: string | null }[];
}
interface HistoryEvent {
  eventId: number;
  eventTime: string | null;
  eventType: string;
  attributes: unknown;
  billableActions: { action: string; count: number }[];
}

const SUMMARY = 'workflowId runId type status startTime closeTime taskQueue historyLength searchAttributes memo';

export default function WorkflowDetail({ namespace, workflowId, runId }: { namespace: string; workflowId: string; runId: string | undefined }): ReactNode {
  const vars = { namespace, workflowId, runId: runId ?? null };
  const detail = useQuery<{ workflow: Detail }>(
    `query Wf($namespace: String!, $workflowId: String!, $runId: String) { workflow(namespace: $namespace, workflowId: $workflowId, runId: $runId) { summary { ${SUMMARY} } parent { workflowId runId } pendingActivities { activityId activityType state attempt lastFailure lastHeartbeatTime heartbeatDetails lastWorkerIdentity } pendingChildren { workflowId runId workflowType } runs { runId status startTime closeTime } } }`,
    vars,
  );
  const [pageToken, setPageToken] = useState<string | null>(null);
  const [earlier, setEarlier] = useState<HistoryEvent[]>([]);
  const history = useQuery<{ workflowHistory: { events: HistoryEvent[]; nextPageToken: string | null } }>(
    'query H($namespace: String!, $workflowId: String!, $runId: String, $pageToken: String) { workflowHistory(namespace: $namespace, workflowId: $workflowId, runId: $runId, pageSize: 200, pageToken: $pageToken) { events { eventId eventTime eventType attributes billableActions { action count } } nextPageToken } }',
    { ...vars, pageToken },
  );
  const [message, setMessage] = useState<string>();
  const reload = () => {
    detail.reload();
    setEarlier([]);
    setPageToken(null);
    history.reload();
  };
  const s = detail.data?.workflow.summary;
  const running = s?.status === 'Running';
  const target = { namespace, workflowId, runId: s?.runId ?? runId ?? null };
  const events = [...earlier, ...(history.data?.workflowHistory.events ?? [])];
  const resetPoints = events.filter((e) => e.eventType === 'WorkflowTaskCompleted');
  return (
    <>
      <p>
        <Link href={`/workflows?namespace=${encodeURIComponent(namespace)}`}>← Workflows of {namespace}</Link>
      </p>
      <h1>
        Workflow <code>{workflowId}</code>
      </h1>
      <Loading loading={detail.loading} />
      <ErrorText error={detail.error} />
      {message ? (
        <p role="status" className="ok">
          {message}
        </p>
      ) : null}
      {s ? (
        <>
          <h2>Summary</h2>
          <dl className="summary" aria-label="Summary">
            <dt>Status</dt>
            <dd data-testid="workflow-status">{s.status}</dd>
            <dt>Type</dt>
            <dd>{s.type}</dd>
            <dt>Run id</dt>
            <dd>
              <code>{s.runId}</code>
            </dd>
            <dt>Task queue</dt>
            <dd>{s.taskQueue}</dd>
            <dt>Started</dt>
            <dd>{time(s.startTime)}</dd>
            <dt>Closed</dt>
            <dd>{time(s.closeTime)}</dd>
            <dt>History events</dt>
            <dd>{s.historyLength}</dd>
            {detail.data?.workflow.parent ? (
              <>
                <dt>Parent</dt>
                <dd>
                  <Link href={`/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(detail.data.workflow.parent.workflowId)}?runId=${encodeURIComponent(detail.data.workflow.parent.runId)}`}>{detail.data.workflow.parent.workflowId}</Link>
                </dd>
              </>
            ) : null}
          </dl>
          <h2>Actions</h2>
          <Actions namespace={namespace} target={target} running={running} resetPoints={resetPoints} onDone={(m) => { setMessage(m); reload(); }} />
          <h2>Pending work</h2>
          {detail.data && detail.data.workflow.pendingActivities.length + detail.data.workflow.pendingChildren.length === 0 ? <p className="muted">Nothing pending.</p> : null}
          {detail.data?.workflow.pendingActivities.length ? (
            <div className="table-wrap">
              <table>
                <caption>Pending activities</caption>
                <thead>
                  <tr>
                    <th scope="col">Activity</th>
                    <th scope="col">State</th>
                    <th scope="col" className="num">Attempt</th>
                    <th scope="col">Last failure</th>
                    <th scope="col">Heartbeat</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.data.workflow.pendingActivities.map((a) => (
                    <tr key={a.activityId}>
                      <td>
                        {a.activityType} <span className="muted">#{a.activityId}</span>
                      </td>
                      <td>{a.state}</td>
                      <td className="num">{a.attempt}</td>
                      <td>{a.lastFailure ?? '—'}</td>
                      <td>
                        {time(a.lastHeartbeatTime)} <Json value={a.heartbeatDetails} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {detail.data?.workflow.pendingChildren.length ? (
            <ul aria-label="Pending child workflows">
              {detail.data.workflow.pendingChildren.map((c) => (
                <li key={c.runId}>
                  <Link href={`/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(c.workflowId)}?runId=${encodeURIComponent(c.runId)}`}>{c.workflowId}</Link> ({c.workflowType})
                </li>
              ))}
            </ul>
          ) : null}
          {detail.data && detail.data.workflow.runs.length > 1 ? (
            <>
              <h2>Runs</h2>
              <ul>
                {detail.data.workflow.runs.map((r) => (
                  <li key={r.runId}>
                    <Link href={`/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(workflowId)}?runId=${encodeURIComponent(r.runId)}`}>{r.runId}</Link> {r.status} {time(r.startTime)}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {s.searchAttributes || s.memo ? (
            <>
              <h2>Search attributes and memo</h2>
              <Json value={{ searchAttributes: s.searchAttributes, memo: s.memo }} />
            </>
          ) : null}
        </>
      ) : null}
      <h2>History</h2>
      <ErrorText error={history.error} />
      <div className="table-wrap">
        <table aria-label="History">
          <thead>
            <tr>
              <th scope="col" className="num">Id</th>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Attributes</th>
              <th scope="col">Billable actions</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.eventId}>
                <td className="num">{e.eventId}</td>
                <td>{time(e.eventTime)}</td>
                <td>{e.eventType}</td>
                <td>
                  <Json value={e.attributes} />
                </td>
                <td>{e.billableActions.map((b) => `${b.action} × ${b.count}`).join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {history.data?.workflowHistory.nextPageToken ? (
        <button
          type="button"
          onClick={() => {
            setEarlier(events);
            setPageToken(history.data?.workflowHistory.nextPageToken ?? null);
          }}
        >
          More events
        </button>
      ) : null}
    </>
  );
}

function Actions({ namespace, target, running, resetPoints, onDone }: { namespace: string; target: { namespace: string; workflowId: string; runId: string | null }; running: boolean; resetPoints: HistoryEvent[]; onDone: (message: string) => void }): ReactNode {
  const [reason, setReason] = useState('');
  const [signalName, setSignalName] = useState('');
  const [signalInput, setSignalInput] = useState('');
  const [resetEvent, setResetEvent] = useState('');
  const why = reason.trim() || 'from the Hourglass console';
  return (
    <div className="panel">
      <label htmlFor="action-reason">Reason (recorded in the history)</label>
      <input id="action-reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="from the Hourglass console" />
      <div className="row">
        <ConfirmButton
          label="Terminate"
          confirmLabel="Terminate workflow"
          onConfirm={async () => {
            await gql('mutation T($namespace: String!, $workflowId: String!, $runId: String, $reason: String!) { terminateWorkflow(namespace: $namespace, workflowId: $workflowId, runId: $runId, reason: $reason) }', { ...target, reason: why });
            onDone('Terminated.');
          }}
        >
          <p>
            The workflow stops at once, without running any cleanup. Reason: <q>{why}</q>
          </p>
        </ConfirmButton>
        <ConfirmButton
          label="Cancel"
          confirmLabel="Request cancellation"
          onConfirm={async () => {
            await gql('mutation C($namespace: String!, $workflowId: String!, $runId: String, $reason: String!) { cancelWorkflow(namespace: $namespace, workflowId: $workflowId, runId: $runId, reason: $reason) }', { ...target, reason: why });
            onDone('Cancellation requested.');
          }}
        >
          <p>The workflow is asked to cancel; its code decides how.</p>
        </ConfirmButton>
      </div>
      {!running ? <p className="muted">The run is closed: terminate and cancel are refused; reset starts a new run.</p> : null}
      <div className="row">
        <div>
          <label htmlFor="signal-name">Signal name</label>
          <input id="signal-name" value={signalName} onChange={(e) => setSignalName(e.target.value)} />
        </div>
        <div>
          <label htmlFor="signal-input">Input (JSON, optional)</label>
          <input id="signal-input" value={signalInput} onChange={(e) => setSignalInput(e.target.value)} placeholder='{"approved": true}' />
        </div>
        <ConfirmButton
          label="Signal"
          confirmLabel="Send signal"
          danger={false}
          onConfirm={async () => {
            if (!signalName.trim()) throw new Error('name the signal first');
            let input: unknown = null;
            if (signalInput.trim()) {
              try {
                input = JSON.parse(signalInput) as unknown;
              } catch {
                throw new Error('the input is not JSON');
              }
            }
            await gql('mutation S($namespace: String!, $workflowId: String!, $runId: String, $signalName: String!, $input: JSON) { signalWorkflow(namespace: $namespace, workflowId: $workflowId, runId: $runId, signalName: $signalName, input: $input) }', { ...target, signalName, input });
            onDone(`Signal ${signalName} sent.`);
          }}
        >
          <p>
            Send <code>{signalName || '(no name)'}</code> to {namespace}/{target.workflowId}?
          </p>
        </ConfirmButton>
      </div>
      <div className="row">
        <div>
          <label htmlFor="reset-event">Reset to the end of workflow task</label>
          <select id="reset-event" value={resetEvent} onChange={(e) => setResetEvent(e.target.value)}>
            <option value="">choose an event</option>
            {resetPoints.map((e) => (
              <option key={e.eventId} value={e.eventId}>
                event {e.eventId} ({e.eventType})
              </option>
            ))}
          </select>
        </div>
        <ConfirmButton
          label="Reset"
          confirmLabel="Reset workflow"
          onConfirm={async () => {
            if (!resetEvent) throw new Error('choose the workflow task to reset to');
            const r = await gql<{ resetWorkflow: string }>('mutation R($namespace: String!, $workflowId: String!, $runId: String, $id: Int!, $reason: String!) { resetWorkflow(namespace: $namespace, workflowId: $workflowId, runId: $runId, workflowTaskFinishEventId: $id, reason: $reason) }', { ...target, id: Number(resetEvent), reason: why });
            onDone(`Reset: new run ${r.resetWorkflow}.`);
          }}
        >
          <p>A new run continues from event {resetEvent || '(none chosen)'}; the current run is terminated.</p>
        </ConfirmButton>
      </div>
    </div>
  );
}
