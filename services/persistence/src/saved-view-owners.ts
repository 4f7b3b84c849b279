/**
 * Who gets a saved view written before views were per user (when a view belonged to its namespace
 * and recorded only `saved_by`, the email or service account name of whoever saved it last). Both
 * backends' migrations decide with this one function, so a deployment moved from SQLite to MySQL
 * or back cannot end up with different owners.
 *
 * In order: the live user of the namespace's account whose email is `saved_by` (compared
 * lower-cased, as emails are); else its live service account of that name; else every live owner
 * of the account, each getting a copy (someone who can still see and tidy them; the view was
 * visible to them before). With none of these (an account without owners, a namespace of no
 * account) the row is kept unassigned: owner type and id '' match no caller, so it is listed to
 * nobody but stays in the table for an operator to hand over.
 */
import type { SavedViewOwner } from './portal-types';

/** Someone a legacy view may go to: a live (not deleted) user or service account of the account. */
export interface LegacyViewCandidates {
  users: { id: string; email: string; role: string }[];
  serviceAccounts: { id: string; name: string }[];
}

/** The owners a legacy view goes to; [] keeps it unassigned. */
export function ownersOfLegacyView(savedBy: string, candidates: LegacyViewCandidates): SavedViewOwner[] {
  const byEmail = candidates.users.find((u) => u.email.toLowerCase() === savedBy.toLowerCase());
  if (byEmail) return [{ type: 'user', id: byEmail.id }];
  const byName = candidates.serviceAccounts.find((s) => s.name === savedBy);
  if (byName) return [{ type: 'serviceAccount', id: byName.id }];
  return candidates.users.filter((u) => u.role === 'owner').map((u) => ({ type: 'user', id: u.id }));
}

/**
 * The candidates of an account from the raw `users` and `service_accounts` rows (`id`, and the
 * record as JSON in `data`) of its live principals. Reads only the fields it needs, so a later
 * change of the records' shape does not break this migration.
 */
export function legacyViewCandidates(users: readonly { id: string; data: string }[], serviceAccounts: readonly { id: string; data: string }[]): LegacyViewCandidates {
  const field = (data: string, name: string): string => {
    const value = (JSON.parse(data) as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : '';
  };
  const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    users: users.map((u) => ({ id: u.id, email: field(u.data, 'email'), role: field(u.data, 'role') })).sort(byId),
    serviceAccounts: serviceAccounts.map((s) => ({ id: s.id, name: field(s.data, 'name') })).sort(byId),
  };
}
