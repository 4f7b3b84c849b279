/**
 * The development account of `hourglass start-dev`. At first start it creates an account with an
 * owner user, puts `default` (and the `-n` namespaces) in it, issues the owner an API key and the
 * operator an operator key, and writes them to the dev credentials file (mode 0600) so that tools
 * and tests can use them; later starts find the account through `default` and reuse the keys in
 * the file while they still work, issuing new ones otherwise (a secret is never stored in the
 * database, only its hash, so a lost file cannot be recovered, only replaced).
 *
 * Namespaces created before accounts existed (their account is '') join the development account.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@hourglass/common';
import { bootstrapPrincipal, devPrincipal, parseToken, verifySecret, type IdentityService, type Principal } from '@hourglass/identity';
import type { NamespaceRegistry } from '@hourglass/history';
import type { AccountRecord, Persistence, UserRecord } from '@hourglass/persistence';

export const DEV_OWNER_EMAIL = 'dev@hourglass.localhost';
const DEV_ACCOUNT_NAME = 'Development account (hourglass start-dev)';

/** What start-dev writes for its users: addresses, the CA to trust, the account and its keys. */
export interface DevCredentials {
  address: string;
  tlsAddress?: string;
  caCertFile?: string;
  accountId: string;
  namespace: string;
  ownerApiKey: string;
  operatorApiKey: string;
  /** The portal sign-in of the owner (GraphQL signIn; the web portal later). */
  portalEmail: string;
  portalPassword: string;
  /** The GraphQL API, `http://host:port/graphql`; absent with --portal-address off. */
  portalUrl?: string;
}

export interface DevIdentity {
  account: AccountRecord;
  owner: UserRecord;
  /** The key-less caller of the plaintext port (unless --require-auth). */
  principal: Principal;
  /** The keys, to be written with the addresses once the server listens. */
  keys: Pick<DevCredentials, 'accountId' | 'namespace' | 'ownerApiKey' | 'operatorApiKey' | 'portalEmail' | 'portalPassword'>;
  /** Writes the credentials file (when there is one) and returns what it holds. */
  publish(addresses: DevAddresses): DevCredentials;
  /** Where the credentials are written; undefined for in-memory stores. */
  credentialsFile: string | undefined;
}

export interface DevAddresses {
  address: string;
  portalUrl?: string;
  tlsAddress?: string;
  caCertFile?: string;
}

export interface DevIdentityOptions {
  persistence: Persistence;
  identity: IdentityService;
  namespaces: NamespaceRegistry;
  /** `default` first, then the `-n` names. */
  namespaceNames: string[];
  retentionMs: number;
  credentialsFile: string | undefined;
  logger: Logger;
  /** Sets the owner's portal password (the portal's own hashing). */
  portal: {
    setPassword(accountId: string, userId: string, email: string, password: string): Promise<void>;
    checkPassword(accountId: string, userId: string, password: string): Promise<boolean>;
    newPassword(): string;
  };
}

const BOOTSTRAP = { principal: bootstrapPrincipal('start-dev'), operation: 'StartDev' };

export async function bootstrapDevIdentity(options: DevIdentityOptions): Promise<DevIdentity> {
  const { persistence, identity } = options;
  const store = persistence.identity;
  const existingDefault = await persistence.namespaces.getNamespaceByName('default');
  let account = existingDefault?.accountId ? await store.getAccount(existingDefault.accountId) : undefined;
  let owner: UserRecord | undefined;
  let ownerApiKey: string | undefined;
  if (!account || account.state === 'deleted') {
    const created = await identity.createAccount({ ...BOOTSTRAP, operation: 'CreateAccount' }, { name: DEV_ACCOUNT_NAME, ownerEmail: DEV_OWNER_EMAIL });
    account = created.result.account;
    owner = created.result.owner;
    ownerApiKey = created.result.ownerKey.token;
    options.logger.info({ accountId: account.id }, 'created the development account');
  } else {
    owner = await store.getUserByEmail(account.id, DEV_OWNER_EMAIL);
  }
  if (!owner) throw new Error(`the development account ${account.id} has no user ${DEV_OWNER_EMAIL}: remove the store to start over`);

  for (const name of options.namespaceNames) {
    const found = await persistence.namespaces.getNamespaceByName(name);
    if (!found) {
      await options.namespaces.register({ accountId: account.id, name, retentionMs: options.retentionMs, description: 'created by start-dev' });
    } else if (found.accountId === '') {
      const joined = { ...found, accountId: account.id, resourceVersion: found.resourceVersion + 1, updatedAt: Math.max(Date.now(), found.updatedAt + 1) };
      await persistence.namespaces.updateNamespace(joined);
      options.namespaces.remember(joined);
    }
  }

  const previous = readCredentials(options.credentialsFile);
  const reuse = previous && previous.accountId === account.id;
  if (!ownerApiKey) ownerApiKey = reuse && (await stillValid(persistence, previous.ownerApiKey)) ? previous.ownerApiKey : undefined;
  if (!ownerApiKey) {
    ownerApiKey = (await identity.issueApiKey({ ...BOOTSTRAP, operation: 'IssueApiKey' }, { accountId: account.id, ownerType: 'user', ownerId: owner.id, displayName: 'start-dev owner key' })).result.token;
  }
  let operatorApiKey = reuse && (await stillValid(persistence, previous.operatorApiKey)) ? previous.operatorApiKey : undefined;
  operatorApiKey ??= (await identity.createOperatorKey({ ...BOOTSTRAP, operation: 'CreateOperatorKey' }, 'start-dev operator key')).result.token;

  // The owner's portal password: the one in the file while it still signs in, else a new one.
  let portalPassword = reuse && previous.portalPassword && (await options.portal.checkPassword(account.id, owner.id, previous.portalPassword)) ? previous.portalPassword : undefined;
  if (!portalPassword) {
    portalPassword = options.portal.newPassword();
    await options.portal.setPassword(account.id, owner.id, owner.email, portalPassword);
  }

  const keys = { accountId: account.id, namespace: 'default', ownerApiKey, operatorApiKey, portalEmail: owner.email, portalPassword };
  return {
    account,
    owner,
    principal: devPrincipal(account, { id: owner.id, email: owner.email }, options.namespaceNames),
    keys,
    publish: (addresses) => {
      const credentials: DevCredentials = { ...addresses, ...keys };
      if (options.credentialsFile) writeCredentials(options.credentialsFile, credentials);
      return credentials;
    },
    credentialsFile: options.credentialsFile,
  };
}

/** A key from an earlier start that still authenticates (present, not disabled, deleted or expired, right secret). */
async function stillValid(persistence: Persistence, token: string | undefined): Promise<boolean> {
  if (!token) return false;
  try {
    const { keyId, secret } = parseToken(token);
    const key = await persistence.identity.getApiKey(keyId);
    if (!key || key.deleted || key.disabled || (key.expiresAt !== undefined && key.expiresAt <= Date.now())) return false;
    return await verifySecret(secret, key.secretHash);
  } catch {
    return false;
  }
}

function readCredentials(file: string | undefined): Partial<DevCredentials> | undefined {
  if (!file || !existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<DevCredentials>;
  } catch {
    return undefined;
  }
}

/** Write-then-rename with mode 0600: another user on the machine never reads the keys. */
function writeCredentials(file: string, credentials: DevCredentials): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}
