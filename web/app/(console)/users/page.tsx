'use client';
import { useState, type ReactNode } from 'react';
import { AccessList, PERMISSIONS, ROLES } from '../../../components/access';
import { Field } from '../../../components/field';
import { ConfirmButton, Dialog, ErrorText, Loading, time } from '../../../components/ui';
import { gql, useQuery } from '../../../lib/client';

interface User {
  id: string;
  email: string;
  role: string;
  namespaceAccess: { namespace: string; permission: string }[];
  hasPassword: boolean;
  createdAt: string;
}

const USER = 'id email role namespaceAccess { namespace permission } hasPassword createdAt';

export default function UsersPage(): ReactNode {
  const { data, error, loading, reload } = useQuery<{ users: User[]; namespaces: { name: string }[] }>(`{ users { ${USER} } namespaces { name } }`);
  const [actionError, setActionError] = useState<string>();
  const [invited, setInvited] = useState<{ email: string; password: string }>();
  const run = (p: Promise<unknown>) => {
    setActionError(undefined);
    p.then(reload, (err: unknown) => setActionError((err as Error).message));
  };
  return (
    <>
      <h1>Users and roles</h1>
      <Loading loading={loading} />
      <ErrorText error={error ?? actionError} />
      {data ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Namespace access</th>
                <th scope="col">Password</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.users.map((u) => (
                <tr key={u.id}>
                  <td>{u.email}</td>
                  <td>
                    <label className="visually-hidden" htmlFor={`role-${u.id}`}>
                      Role of {u.email}
                    </label>
                    <select id={`role-${u.id}`} value={u.role} onChange={(e) => run(gql(`mutation R($id: ID!, $role: AccountRole!) { setUserRole(userId: $id, role: $role) { id } }`, { id: u.id, role: e.target.value }))}>
                      {ROLES.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <AccessList access={u.namespaceAccess} />
                    <form
                      className="row"
                      onSubmit={(e) => {
                        e.preventDefault();
                        const f = new FormData(e.currentTarget);
                        const permission = String(f.get('permission'));
                        run(gql('mutation A($id: ID!, $ns: String!, $p: NamespacePermission) { setUserNamespaceAccess(userId: $id, namespace: $ns, permission: $p) { id } }', { id: u.id, ns: String(f.get('namespace')), p: permission === 'none' ? null : permission }));
                      }}
                    >
                      <select name="namespace" aria-label={`Namespace to grant ${u.email}`}>
                        {data.namespaces.map((n) => (
                          <option key={n.name}>{n.name}</option>
                        ))}
                      </select>
                      <select name="permission" aria-label={`Permission for ${u.email}`}>
                        {PERMISSIONS.map((p) => (
                          <option key={p}>{p}</option>
                        ))}
                        <option value="none">none (remove)</option>
                      </select>
                      <button type="submit">Grant</button>
                    </form>
                  </td>
                  <td>{u.hasPassword ? 'set' : 'none'}</td>
                  <td>{time(u.createdAt)}</td>
                  <td>
                    <ConfirmButton label={`Remove ${u.email}`} confirmLabel="Remove user" onConfirm={() => gql('mutation D($id: ID!) { removeUser(userId: $id) }', { id: u.id }).then(reload)}>
                      <p>The user, its API keys and sessions are removed.</p>
                    </ConfirmButton>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <section className="panel" aria-labelledby="invite">
        <h2 id="invite">Invite a user</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget);
            setActionError(undefined);
            gql<{ inviteUser: { user: { email: string }; initialPassword: string } }>('mutation I($email: String!, $role: AccountRole!) { inviteUser(email: $email, role: $role) { user { email } initialPassword } }', { email: String(f.get('email')), role: String(f.get('role')) }).then(
              (r) => {
                setInvited({ email: r.inviteUser.user.email, password: r.inviteUser.initialPassword });
                reload();
              },
              (err: unknown) => setActionError((err as Error).message),
            );
          }}
        >
          <div className="row">
            <Field id="invite-email" label="Email">
              <input name="email" type="email" required />
            </Field>
            <Field id="invite-role" label="Role">
              <select name="role" defaultValue="developer">
                {ROLES.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </Field>
            <button type="submit" className="primary">
              Invite
            </button>
          </div>
        </form>
      </section>
      <Dialog open={invited !== undefined} title="Initial password" onClose={() => setInvited(undefined)}>
        <p>Hand this one-time password to {invited?.email}; it is not shown again.</p>
        <pre className="secret">{invited?.password}</pre>
        <button type="button" className="primary" onClick={() => setInvited(undefined)}>
          Done
        </button>
      </Dialog>
    </>
  );
}
