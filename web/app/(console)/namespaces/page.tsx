'use client';
import Link from 'next/link';
import { useState, type ReactNode } from 'react';
import { Field } from '../../../components/field';
import { ErrorText, Loading, time } from '../../../components/ui';
import { gql, useQuery } from '../../../lib/client';

interface Ns {
  name: string;
  description: string;
  state: string;
  retentionDays: number;
  myPermission: string | null;
  createdAt: string;
}

export default function NamespacesPage(): ReactNode {
  const { data, error, loading, reload } = useQuery<{ namespaces: Ns[] }>('{ namespaces { name description state retentionDays myPermission createdAt } }');
  const [createError, setCreateError] = useState<string>();
  const [created, setCreated] = useState<string>();
  return (
    <>
      <h1>Namespaces</h1>
      <Loading loading={loading} />
      <ErrorText error={error} />
      {data ? (
        <div className="table-wrap">
          <table>
            <caption className="muted">{data.namespaces.length} namespaces you may use</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col" className="num">Retention (days)</th>
                <th scope="col">Your permission</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {data.namespaces.map((ns) => (
                <tr key={ns.name}>
                  <td>
                    <Link href={`/namespaces/${encodeURIComponent(ns.name)}`}>{ns.name}</Link>
                    {ns.description ? <div className="muted">{ns.description}</div> : null}
                  </td>
                  <td>{ns.state}</td>
                  <td className="num">{ns.retentionDays}</td>
                  <td>{ns.myPermission ?? '—'}</td>
                  <td>{time(ns.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <section className="panel" aria-labelledby="create-ns">
        <h2 id="create-ns">Create a namespace</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const form = new FormData(e.currentTarget);
            setCreateError(undefined);
            setCreated(undefined);
            gql<{ createNamespace: { name: string } }>('mutation Create($name: String!, $retentionDays: Int, $description: String) { createNamespace(name: $name, retentionDays: $retentionDays, description: $description) { name } }', {
              name: String(form.get('name')),
              retentionDays: Number(form.get('retentionDays')),
              description: String(form.get('description') ?? ''),
            }).then(
              (r) => {
                setCreated(r.createNamespace.name);
                reload();
              },
              (err: unknown) => setCreateError((err as Error).message),
            );
          }}
        >
          <div className="row">
            <Field id="ns-name" label="Name">
              <input name="name" required placeholder="payments" aria-describedby="ns-name-help" />
            </Field>
            <Field id="ns-retention" label="Retention (days)">
              <input name="retentionDays" type="number" min={1} max={90} defaultValue={30} required />
            </Field>
            <Field id="ns-description" label="Description">
              <input name="description" />
            </Field>
            <button type="submit" className="primary">
              Create namespace
            </button>
          </div>
          <p id="ns-name-help" className="muted">
            The namespace is named <code>&lt;name&gt;.&lt;account id&gt;</code>.
          </p>
        </form>
        <ErrorText error={createError} />
        {created ? (
          <p role="status" className="ok">
            Created <Link href={`/namespaces/${encodeURIComponent(created)}`}>{created}</Link>.
          </p>
        ) : null}
      </section>
    </>
  );
}
