'use client';
import { useState, type ReactNode } from 'react';
import { Field } from '../../../components/field';
import { ConfirmButton, CopyButton, Dialog, ErrorText, Loading, time } from '../../../components/ui';
import { gql, useQuery } from '../../../lib/client';

interface Key {
  id: string;
  ownerType: string;
  ownerId: string;
  displayName: string;
  description: string;
  expiresAt: string | null;
  disabled: boolean;
  lastUsedAt: string | null;
  createdAt: string;
}
interface ServiceAccount {
  id: string;
  name: string;
}

const KEY_FIELDS = 'id ownerType ownerId displayName description expiresAt disabled lastUsedAt createdAt';

export default function ApiKeysPage(): ReactNode {
  const { data, error, loading, reload } = useQuery<{ apiKeys: Key[]; serviceAccounts: ServiceAccount[] }>(`{ apiKeys { ${KEY_FIELDS} } serviceAccounts { id name } }`);
  const [createError, setCreateError] = useState<string>();
  const [actionError, setActionError] = useState<string>();
  const [token, setToken] = useState<{ name: string; token: string }>();
  const owners = new Map((data?.serviceAccounts ?? []).map((s) => [s.id, s.name]));
  const defaultExpiry = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
  return (
    <>
      <h1>API keys</h1>
      <section className="panel" aria-labelledby="create-key">
        <h2 id="create-key">Create an API key</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const form = new FormData(e.currentTarget);
            const owner = String(form.get('owner') ?? '');
            setCreateError(undefined);
            gql<{ createApiKey: { token: string; key: Key } }>(
              'mutation Create($displayName: String!, $description: String, $expiresAt: DateTime!, $serviceAccountId: ID) { createApiKey(displayName: $displayName, description: $description, expiresAt: $expiresAt, serviceAccountId: $serviceAccountId) { token key { id displayName } } }',
              {
                displayName: String(form.get('displayName')),
                description: String(form.get('description') ?? ''),
                expiresAt: new Date(`${String(form.get('expiresAt'))}T00:00:00Z`).toISOString(),
                ...(owner ? { serviceAccountId: owner } : {}),
              },
            ).then(
              (r) => {
                setToken({ name: r.createApiKey.key.displayName, token: r.createApiKey.token });
                reload();
              },
              (err: unknown) => setCreateError((err as Error).message),
            );
          }}
        >
          <div className="row">
            <Field id="key-name" label="Name">
              <input name="displayName" required />
            </Field>
            <Field id="key-description" label="Description">
              <input name="description" />
            </Field>
            <Field id="key-expires" label="Expires">
              <input name="expiresAt" type="date" required defaultValue={defaultExpiry} />
            </Field>
            <Field id="key-owner" label="For">
              <select name="owner" defaultValue="">
                <option value="">Me</option>
                {(data?.serviceAccounts ?? []).map((s) => (
                  <option key={s.id} value={s.id}>
                    Service account {s.name}
                  </option>
                ))}
              </select>
            </Field>
            <button type="submit" className="primary">
              Create key
            </button>
          </div>
        </form>
        <ErrorText error={createError} />
      </section>
      <Dialog open={token !== undefined} title="Copy your API key now" onClose={() => setToken(undefined)}>
        <p>
          This is the only time the key <strong>{token?.name}</strong> is shown. Store it somewhere safe.
        </p>
        <pre className="secret" data-testid="api-key-token">
          {token?.token}
        </pre>
        <div className="row">
          <CopyButton text={token?.token ?? ''} label="Copy key" />
          <button type="button" className="primary" onClick={() => setToken(undefined)}>
            I have copied it
          </button>
        </div>
      </Dialog>
      <Loading loading={loading} />
      <ErrorText error={error ?? actionError} />
      {data ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Owner</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.apiKeys.map((k) => (
                <tr key={k.id}>
                  <td>{k.displayName}</td>
                  <td>
                    <code>{k.id}</code>
                  </td>
                  <td>{k.ownerType === 'serviceAccount' ? `service account ${owners.get(k.ownerId) ?? k.ownerId}` : 'user'}</td>
                  <td>{time(k.expiresAt)}</td>
                  <td>{time(k.lastUsedAt)}</td>
                  <td>{k.disabled ? 'disabled' : 'active'}</td>
                  <td>
                    <div className="row">
                      <button
                        type="button"
                        aria-label={`${k.disabled ? 'Enable' : 'Disable'} key ${k.displayName}`}
                        onClick={() => {
                          setActionError(undefined);
                          gql('mutation Set($id: ID!, $disabled: Boolean!) { setApiKeyDisabled(id: $id, disabled: $disabled) { id } }', { id: k.id, disabled: !k.disabled }).then(reload, (err: unknown) => setActionError((err as Error).message));
                        }}
                      >
                        {k.disabled ? 'Enable' : 'Disable'}
                      </button>
                      <ConfirmButton label={`Delete key ${k.displayName}`} confirmLabel="Delete" onConfirm={() => gql('mutation Del($id: ID!) { deleteApiKey(id: $id) }', { id: k.id }).then(reload)}>
                        <p>Calls with this key are refused from now on.</p>
                      </ConfirmButton>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
