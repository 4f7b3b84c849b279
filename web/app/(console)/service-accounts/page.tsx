'use client';
import Link from 'next/link';
import { useState, type ReactNode } from 'react';
import { AccessList, PERMISSIONS, ROLES } from '../../../components/access';
import { Field } from '../../../components/field';
import { ConfirmButton, ErrorText, Loading } from '../../../components/ui';
import { gql, useQuery } from '../../../lib/client';

interface ServiceAccount {
  id: string;
  name: string;
  description: string;
  role: string | null;
  scopedNamespace: string | null;
  namespaceAccess: { namespace: string; permission: string }[];
}

export default function ServiceAccountsPage(): ReactNode {
  const { data, error, loading, reload } = useQuery<{ serviceAccounts: ServiceAccount[]; namespaces: { name: string }[] }>('{ serviceAccounts { id name description role scopedNamespace namespaceAccess { namespace permission } } namespaces { name } }');
  const [actionError, setActionError] = useState<string>();
  const [scope, setScope] = useState('account');
  return (
    <>
      <h1>Service accounts</h1>
      <p>
        Non-human identities for workers and automation. Create their keys on the <Link href="/api-keys">API keys</Link> page.
      </p>
      <Loading loading={loading} />
      <ErrorText error={error ?? actionError} />
      {data ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role or scope</th>
                <th scope="col">Namespace access</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.serviceAccounts.map((s) => (
                <tr key={s.id}>
                  <td>
                    {s.name}
                    {s.description ? <div className="muted">{s.description}</div> : null}
                  </td>
                  <td>{s.role ?? `scoped to ${s.scopedNamespace ?? '—'}`}</td>
                  <td>
                    <AccessList access={s.namespaceAccess} />
                  </td>
                  <td>
                    <ConfirmButton label={`Delete ${s.name}`} confirmLabel="Delete service account" onConfirm={() => gql('mutation D($id: ID!) { deleteServiceAccount(id: $id) }', { id: s.id }).then(reload)}>
                      <p>Its API keys stop working.</p>
                    </ConfirmButton>
                  </td>
                </tr>
              ))}
              {data.serviceAccounts.length === 0 ? (
                <tr>
                  <td colSpan={4}>No service accounts yet.</td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      ) : null}
      <section className="panel" aria-labelledby="create-sa">
        <h2 id="create-sa">Create a service account</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget);
            setActionError(undefined);
            const scoped = scope === 'namespace';
            gql('mutation C($name: String!, $description: String, $role: AccountRole, $scoped: NamespaceAccessInput) { createServiceAccount(name: $name, description: $description, role: $role, scopedNamespace: $scoped) { id } }', {
              name: String(f.get('name')),
              description: String(f.get('description') ?? ''),
              role: scoped ? null : String(f.get('role')),
              scoped: scoped ? { namespace: String(f.get('namespace')), permission: String(f.get('permission')) } : null,
            }).then(reload, (err: unknown) => setActionError((err as Error).message));
          }}
        >
          <div className="row">
            <Field id="sa-name" label="Name">
              <input name="name" required />
            </Field>
            <Field id="sa-description" label="Description">
              <input name="description" />
            </Field>
            <Field id="sa-scope" label="Access">
              <select value={scope} onChange={(e) => setScope(e.target.value)}>
                <option value="account">an account role</option>
                <option value="namespace">one namespace</option>
              </select>
            </Field>
            {scope === 'account' ? (
              <Field id="sa-role" label="Role">
                <select name="role" defaultValue="developer">
                  {ROLES.filter((r) => r !== 'owner').map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </Field>
            ) : (
              <>
                <Field id="sa-namespace" label="Namespace">
                  <select name="namespace">
                    {(data?.namespaces ?? []).map((n) => (
                      <option key={n.name}>{n.name}</option>
                    ))}
                  </select>
                </Field>
                <Field id="sa-permission" label="Permission">
                  <select name="permission" defaultValue="write">
                    {PERMISSIONS.map((p) => (
                      <option key={p}>{p}</option>
                    ))}
                  </select>
                </Field>
              </>
            )}
            <button type="submit" className="primary">
              Create service account
            </button>
          </div>
        </form>
      </section>
    </>
  );
}
