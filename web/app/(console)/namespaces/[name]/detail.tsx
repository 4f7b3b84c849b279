'use client';
import Link from 'next/link';
import { useState, type ReactNode } from 'react';
import { Field } from '../../../../components/field';
import { ConfirmButton, CopyButton, ErrorText, Loading, time } from '../../../../components/ui';
import { gql, useQuery } from '../../../../lib/client';

interface NsDetail {
  name: string;
  description: string;
  state: string;
  retentionDays: number;
  myPermission: string | null;
  createdAt: string;
  limits: { rps: number; aps: number; maxConcurrentPolls: number };
  searchAttributes: { name: string; type: string; custom: boolean }[];
}

function snippet(endpoint: string, namespace: string, tls: boolean): string {
  return `${tls ? "import fs from 'node:fs';\n" : ''}import { Client, Connection } from '@temporalio/client';

// An API key from the console's API keys page, e.g. in HOURGLASS_API_KEY.
const connection = await Connection.connect({
  address: '${endpoint}',${tls ? `\n  // start-dev's generated CA: .hourglass/tls/ca.pem\n  tls: { serverRootCACertificate: fs.readFileSync('.hourglass/tls/ca.pem') },` : ''}
  apiKey: process.env.HOURGLASS_API_KEY,
});
const client = new Client({ connection, namespace: '${namespace}' });`;
}

export default function NamespaceDetail({ name, grpcAddress, tlsAddress }: { name: string; grpcAddress: string; tlsAddress: string | undefined }): ReactNode {
  const { data, error, loading, reload } = useQuery<{ namespace: NsDetail }>('query Ns($name: String!) { namespace(name: $name) { name description state retentionDays myPermission createdAt limits { rps aps maxConcurrentPolls } searchAttributes { name type custom } } }', { name });
  const endpoint = tlsAddress ?? grpcAddress;
  const [editError, setEditError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const code = snippet(endpoint, name, tlsAddress !== undefined);
  return (
    <>
      <p>
        <Link href="/namespaces">← Namespaces</Link>
      </p>
      <h1>{name}</h1>
      <Loading loading={loading} />
      <ErrorText error={error} />
      {data ? (
        <>
          <dl className="summary">
            <dt>State</dt>
            <dd>{data.namespace.state}</dd>
            <dt>Description</dt>
            <dd>{data.namespace.description || '—'}</dd>
            <dt>Retention</dt>
            <dd>{data.namespace.retentionDays} days</dd>
            <dt>Your permission</dt>
            <dd>{data.namespace.myPermission ?? '—'}</dd>
            <dt>Limits</dt>
            <dd>
              {data.namespace.limits.rps} requests/s, {data.namespace.limits.aps} actions/s, {data.namespace.limits.maxConcurrentPolls} concurrent polls
            </dd>
            <dt>Created</dt>
            <dd>{time(data.namespace.createdAt)}</dd>
          </dl>
          <p>
            <Link href={`/workflows?namespace=${encodeURIComponent(name)}`}>Workflows of this namespace</Link>
          </p>
          <section className="panel" aria-labelledby="connect">
            <h2 id="connect">Connect</h2>
            <dl className="summary">
              <dt>Endpoint</dt>
              <dd>
                <code data-testid="endpoint">{endpoint}</code> {tlsAddress ? '(TLS)' : '(plaintext)'} <CopyButton text={endpoint} label="Copy endpoint" />
              </dd>
              <dt>Namespace</dt>
              <dd>
                <code data-testid="namespace">{name}</code> <CopyButton text={name} label="Copy namespace" />
              </dd>
            </dl>
            <h3>TypeScript SDK</h3>
            <pre aria-label="SDK snippet">{code}</pre>
            <p>
              <CopyButton text={code} label="Copy snippet" />
            </p>
          </section>
          <section className="panel" aria-labelledby="edit-ns">
            <h2 id="edit-ns">Settings</h2>
            <form
              key={`${data.namespace.retentionDays}/${data.namespace.description}`}
              onSubmit={(e) => {
                e.preventDefault();
                const f = new FormData(e.currentTarget);
                setEditError(undefined);
                setSaved(false);
                gql('mutation U($name: String!, $retentionDays: Int, $description: String) { updateNamespace(name: $name, retentionDays: $retentionDays, description: $description) { name } }', {
                  name,
                  retentionDays: Number(f.get('retentionDays')),
                  description: String(f.get('description') ?? ''),
                }).then(
                  () => {
                    setSaved(true);
                    reload();
                  },
                  (err: unknown) => setEditError((err as Error).message),
                );
              }}
            >
              <div className="row">
                <Field id="edit-retention" label="Retention (days)">
                  <input name="retentionDays" type="number" min={1} max={90} defaultValue={data.namespace.retentionDays} required />
                </Field>
                <Field id="edit-description" label="Description">
                  <input name="description" defaultValue={data.namespace.description} />
                </Field>
                <button type="submit">Save settings</button>
              </div>
            </form>
            <ErrorText error={editError} />
            {saved ? (
              <p role="status" className="ok">
                Saved.
              </p>
            ) : null}
            <ConfirmButton
              label="Delete namespace"
              confirmLabel={`Delete ${name}`}
              onConfirm={async () => {
                await gql('mutation D($name: String!) { deleteNamespace(name: $name) }', { name });
                window.location.href = '/namespaces';
              }}
            >
              <p>Its workflows are no longer served. This cannot be undone.</p>
            </ConfirmButton>
          </section>
          <h2>Search attributes</h2>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Custom</th>
                </tr>
              </thead>
              <tbody>
                {data.namespace.searchAttributes.map((a) => (
                  <tr key={a.name}>
                    <td>{a.name}</td>
                    <td>{a.type}</td>
                    <td>{a.custom ? 'yes' : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </>
  );
}
