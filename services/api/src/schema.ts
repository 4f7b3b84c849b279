/**
 * The GraphQL schema, schema-first: every type and field carries its description (what GraphiQL,
 * Apollo Sandbox and generated clients show). docs/portal-api.md walks through it with examples.
 */
export const typeDefs = /* GraphQL */ `
"""
An instant, as an ISO 8601 string in UTC, e.g. "2026-12-06T14:00:00.000Z".
"""
scalar DateTime

"""
Any JSON value: decoded payloads, event attributes, search attribute values.
"""
scalar JSON

"""
What the caller may read. Every field checks the caller's rights: an account's data is never
visible to another account's users or keys.

Example: \`{ viewer { email role account { id name } } }\`
"""
type Query {
  "The caller: the signed-in user or the API key's owner, and its account."
  viewer: Viewer!
  "Users of the caller's account (any member may list them). Example: \`{ users { email role } }\`"
  users: [User!]!
  "Service accounts of the caller's account."
  serviceAccounts: [ServiceAccount!]!
  "API keys: every key of the account for owners and admins, the caller's own otherwise."
  apiKeys: [ApiKey!]!
  "The account's audit log between \`from\` and \`to\` (owners and admins), newest last, at most \`limit\` (1 to 1,000) records."
  auditLog(from: DateTime!, to: DateTime!, limit: Int = 100): [AuditEntry!]!
  "Namespaces of the account the caller may use (all of them for owners and admins)."
  namespaces: [Namespace!]!
  "One namespace by name. Example: \`{ namespace(name: \\"default\\") { retentionDays limits { rps } } }\`"
  namespace(name: String!): Namespace!
  """
  Workflow executions of a namespace matching a list filter (Temporal's query language, e.g.
  \`WorkflowType = 'order' AND ExecutionStatus = 'Running'\`), newest first, one page at a time.
  Example: \`{ workflows(namespace: "default", query: "ExecutionStatus = 'Failed'", pageSize: 20) { executions { workflowId status } nextPageToken } }\`
  """
  workflows(namespace: String!, query: String = "", pageSize: Int = 50, pageToken: String): WorkflowPage!
  """
  The caller's own saved searches in a namespace, by name: saved queries are per user (or per
  service account, for its keys); nobody else's are listed. Needs namespace read.
  Example: \`{ savedViews(namespace: "default") { name query } }\`
  """
  savedViews(namespace: String!): [SavedView!]!
  "Counts of the executions matching a list filter, by status."
  workflowCounts(namespace: String!, query: String = ""): WorkflowCounts!
  "One execution (the latest run of the workflow id when \`runId\` is omitted)."
  workflow(namespace: String!, workflowId: String!, runId: String): WorkflowDetail!
  """
  A page of an execution's history, oldest event first, each event's attributes with payloads
  decoded and the billable actions it counted.
  """
  workflowHistory(namespace: String!, workflowId: String!, runId: String, pageSize: Int = 200, pageToken: String): HistoryPage!
  """
  Usage per namespace per UTC day in [from, to) (finance admins, admins and owners). Example:
  \`{ usage(from: "2026-12-01T00:00:00Z", to: "2026-12-08T00:00:00Z") { day namespace actions } }\`
  """
  usage(from: DateTime!, to: DateTime!, namespace: String): [UsageDay!]!
  "The invoice of a calendar month (\`YYYY-MM\`), priced from the account's usage (finance admins, admins and owners)."
  invoice(month: String!): Invoice!
  "A billing report created earlier, with a fresh download URL."
  billingReport(id: String!): BillingReport!
}

"""
What the caller may change. Each change is checked against the same permissions as the gRPC
APIs and recorded in the account's audit log.
"""
type Mutation {
  """
  Signs a portal user in with email and password and returns a session token, sent afterwards as
  \`Authorization: Bearer <token>\`. \`accountId\` picks the account when the email is a user of
  several. Example: \`mutation { signIn(email: "dev@hourglass.localhost", password: "…") { token expiresAt } }\`
  """
  signIn(email: String!, password: String!, accountId: String): Session!
  """
  Signs a portal user in with an OpenID Connect ID token from the provider this server is
  configured with (HOURGLASS_OIDC_ISSUER, HOURGLASS_OIDC_CLIENT_ID): its signature, issuer, audience
  and lifetime are checked, and its email names the Hourglass user (invited beforehand). The portal
  console calls this after its single sign-on; FAILED_PRECONDITION when single sign-on is not set up.
  """
  signInWithOidc(idToken: String!, accountId: String): Session!
  "Ends the caller's portal session (the token stops working at once)."
  signOut: Boolean!
  "Changes the signed-in user's password (at least 12 characters); other sessions stay open."
  changePassword(currentPassword: String!, newPassword: String!): Boolean!
  """
  Invites a user into the caller's account (owners and admins) and returns a one-time initial
  password to hand over. \`namespaceAccess\` grants namespace permissions.
  """
  inviteUser(email: String!, role: AccountRole!, namespaceAccess: [NamespaceAccessInput!] = []): InvitedUser!
  "Changes a user's account role (only an owner gives or takes the owner role)."
  setUserRole(userId: ID!, role: AccountRole!): User!
  "Grants (or, with \`permission: null\`, removes) a user's permission on a namespace."
  setUserNamespaceAccess(userId: ID!, namespace: String!, permission: NamespacePermission): User!
  "Removes a user with its API keys, grants, password and sessions. The last owner cannot be removed."
  removeUser(userId: ID!): Boolean!
  "Creates a service account with an account role, or scoped to one namespace with \`scopedNamespace\`."
  createServiceAccount(name: String!, description: String = "", role: AccountRole, scopedNamespace: NamespaceAccessInput): ServiceAccount!
  "Deletes a service account and its API keys."
  deleteServiceAccount(id: ID!): Boolean!
  """
  Creates an API key for the caller (or, with \`serviceAccountId\`, for a service account it
  manages). The token is in the answer once and never again.
  """
  createApiKey(displayName: String!, description: String = "", expiresAt: DateTime!, serviceAccountId: ID): CreatedApiKey!
  "Disables (or with \`disabled: false\` enables) an API key; calls with a disabled key are refused."
  setApiKeyDisabled(id: ID!, disabled: Boolean!): ApiKey!
  "Deletes an API key."
  deleteApiKey(id: ID!): Boolean!
  "Creates a namespace \`<name>.<account id>\` (developers, admins, owners)."
  createNamespace(name: String!, retentionDays: Int = 30, description: String = ""): Namespace!
  "Changes a namespace's retention (whole days, 1 to 90) and description (namespace admins)."
  updateNamespace(name: String!, retentionDays: Int, description: String): Namespace!
  "Deletes a namespace: its workflows are no longer served."
  deleteNamespace(name: String!): Boolean!
  "Registers custom search attributes on a namespace (namespace admins)."
  addSearchAttributes(namespace: String!, attributes: [SearchAttributeInput!]!): [SearchAttribute!]!
  """
  Saves (or replaces) one of the caller's own named workflow searches in a namespace (per user:
  another user's search of the same name is a different one, left untouched). Needs namespace
  write. The query must be a valid list filter. At most 100 saved views per user per namespace.
  Example: \`mutation { saveView(namespace: "default", name: "failed", query: "ExecutionStatus = 'Failed'") { name } }\`
  """
  saveView(namespace: String!, name: String!, query: String!): SavedView!
  "Deletes one of the caller's own saved views (namespace write); another user's of the same name stays. NOT_FOUND when the caller has none of that name."
  deleteView(namespace: String!, name: String!): Boolean!
  "Sends a signal to a running execution; \`input\` is sent as one JSON payload."
  signalWorkflow(namespace: String!, workflowId: String!, runId: String, signalName: String!, input: JSON): Boolean!
  "Requests cancellation of an execution; the reason is recorded in its history."
  cancelWorkflow(namespace: String!, workflowId: String!, runId: String, reason: String!): Boolean!
  "Terminates an execution; the reason is recorded in its history."
  terminateWorkflow(namespace: String!, workflowId: String!, runId: String, reason: String!): Boolean!
  """
  Resets an execution to the end of a workflow task (\`workflowTaskFinishEventId\`, a
  WorkflowTaskCompleted, failed or timed-out event id): a new run continues from there. The reason
  is recorded. Returns the new run's id.
  """
  resetWorkflow(namespace: String!, workflowId: String!, runId: String, workflowTaskFinishEventId: Int!, reason: String!): String!
  "Creates a billing report of [from, to) at a granularity (finance admins, admins, owners)."
  createBillingReport(from: DateTime!, to: DateTime!, granularity: UsageGranularity = DAILY, description: String = ""): BillingReport!
}

"Temporal Cloud's account roles."
enum AccountRole {
  "Everything, including other owners."
  owner
  "Everything but the owner role."
  admin
  "Creates namespaces and uses those granted."
  developer
  "Usage and billing."
  financeAdmin
  "Reads what it is granted."
  read
  "Reads metrics only."
  metricsRead
}

"Permissions inside one namespace: admin includes write includes read."
enum NamespacePermission {
  "Change the namespace, grant access."
  admin
  "Start, signal, cancel, terminate, reset; run workers."
  write
  "List, describe, read histories."
  read
}

"Periods of a billing report."
enum UsageGranularity {
  "One row per namespace per hour."
  HOURLY
  "One row per namespace per day."
  DAILY
  "One row per namespace per month."
  MONTHLY
}

"A namespace permission to grant."
input NamespaceAccessInput {
  "The namespace's full name."
  namespace: String!
  "The permission granted."
  permission: NamespacePermission!
}

"A custom search attribute to register."
input SearchAttributeInput {
  "Its name, e.g. CustomerId."
  name: String!
  "Its type: Keyword, Text, Int, Double, Bool, Datetime or KeywordList."
  type: String!
}

"A portal session."
type Session {
  "The bearer token; keep it secret. Only its hash is stored."
  token: String!
  "When it stops working."
  expiresAt: DateTime!
  "Who signed in."
  viewer: Viewer!
}

"The caller."
type Viewer {
  "user or serviceAccount."
  type: String!
  "The user's or service account's id."
  id: ID!
  "The user's email; the service account's name."
  name: String!
  "The account role (null for a namespace-scoped service account)."
  role: AccountRole
  "The caller's account."
  account: Account!
  "How the caller authenticated: apiKey or session."
  authenticatedWith: String!
  "Namespaces the caller holds a permission on (owners and admins: every one)."
  namespaceAccess: [NamespaceAccess!]!
}

"An account: the tenant that owns namespaces, users and keys."
type Account {
  "Its id, the suffix of its namespaces' names."
  id: ID!
  "Its name."
  name: String!
  "active, suspended or deleted."
  state: String!
}

"A user of an account."
type User {
  "Its id."
  id: ID!
  "Its email (lower-cased)."
  email: String!
  "Its account role."
  role: AccountRole!
  "Its namespace permissions."
  namespaceAccess: [NamespaceAccess!]!
  "Whether it has a portal password."
  hasPassword: Boolean!
  "When it was created."
  createdAt: DateTime!
}

"A user just invited, with its initial password."
type InvitedUser {
  "The user."
  user: User!
  "A one-time initial password for the portal: shown once, stored only hashed."
  initialPassword: String!
}

"A permission on a namespace."
type NamespaceAccess {
  "The namespace's name."
  namespace: String!
  "The permission."
  permission: NamespacePermission!
}

"A non-human identity with API keys."
type ServiceAccount {
  "Its id."
  id: ID!
  "Its name."
  name: String!
  "Its description."
  description: String!
  "Its account role (null when scoped to a namespace)."
  role: AccountRole
  "The namespace of a namespace-scoped service account."
  scopedNamespace: String
  "Its namespace permissions."
  namespaceAccess: [NamespaceAccess!]!
}

"An API key (never its secret)."
type ApiKey {
  "The key id (the public part of the token)."
  id: ID!
  "user or serviceAccount."
  ownerType: String!
  "The owning user's or service account's id."
  ownerId: ID!
  "Its display name."
  displayName: String!
  "Its description."
  description: String!
  "When it stops working (null: never)."
  expiresAt: DateTime
  "Whether calls with it are refused."
  disabled: Boolean!
  "When it was last used (recorded at most once a minute)."
  lastUsedAt: DateTime
  "When it was created."
  createdAt: DateTime!
}

"A key just created, with its token."
type CreatedApiKey {
  "The key."
  key: ApiKey!
  "The token \`hgk_<id>_<secret>\`: shown this once, stored only hashed."
  token: String!
}

"One change recorded in the audit log."
type AuditEntry {
  "Its id (sorts in time order)."
  id: ID!
  "When."
  time: DateTime!
  "The operation, e.g. CreateApiKey, PortalSignIn, TerminateWorkflowExecution."
  operation: String!
  "Who: user, serviceAccount or operator, and its name."
  principal: String!
  "The API key used, if any."
  apiKeyId: String
  "OK or ERROR."
  status: String!
  "What changed, as JSON."
  details: JSON
}

"A namespace."
type Namespace {
  "Its id."
  id: ID!
  "Its full name."
  name: String!
  "Its description."
  description: String!
  "registered, deprecated or deleted."
  state: String!
  "Closed executions are kept this many days."
  retentionDays: Float!
  "The limits rate limiting applies to it."
  limits: NamespaceLimits!
  "Its search attributes, built-in and custom."
  searchAttributes: [SearchAttribute!]!
  "The caller's permission on it."
  myPermission: NamespacePermission
  "When it was created."
  createdAt: DateTime!
}

"Rate limits of a namespace."
type NamespaceLimits {
  "Requests per second."
  rps: Float!
  "Actions per second."
  aps: Float!
  "Concurrent long polls."
  maxConcurrentPolls: Float!
}

"A search attribute."
type SearchAttribute {
  "Its name."
  name: String!
  "Its type (Keyword, Text, Int, Double, Bool, Datetime, KeywordList)."
  type: String!
  "Whether it is one of the namespace's custom attributes."
  custom: Boolean!
}

"A page of executions."
type WorkflowPage {
  "The executions of this page."
  executions: [WorkflowSummary!]!
  "Pass as \`pageToken\` for the next page; null after the last."
  nextPageToken: String
}

"A saved workflow search of one user (or service account) in one namespace."
type SavedView {
  "Its name, unique among its owner's saved views in the namespace."
  name: String!
  "The list filter, e.g. ExecutionStatus = 'Failed'."
  query: String!
  "Its owner's email (or service account name) when it was saved last."
  savedBy: String!
  "When it was saved last."
  updatedAt: DateTime!
}

"Counts by status."
type WorkflowCounts {
  "Every matching execution."
  total: Int!
  "Per status (Running, Completed, Failed, Canceled, Terminated, ContinuedAsNew, TimedOut)."
  byStatus: [StatusCount!]!
}

"The count of one status."
type StatusCount {
  "The status."
  status: String!
  "How many."
  count: Int!
}

"An execution as search lists it."
type WorkflowSummary {
  "The workflow id."
  workflowId: String!
  "The run id."
  runId: String!
  "The workflow type."
  type: String!
  "Running, Completed, Failed, Canceled, Terminated, ContinuedAsNew or TimedOut."
  status: String!
  "When the run started."
  startTime: DateTime
  "When it closed (null while running)."
  closeTime: DateTime
  "Its task queue."
  taskQueue: String!
  "Events in its history."
  historyLength: Int!
  "Search attributes, decoded."
  searchAttributes: JSON
  "Memo, decoded."
  memo: JSON
  "The namespace it runs in (loaded once per page, whatever its size)."
  namespace: Namespace!
}

"One execution in detail."
type WorkflowDetail {
  "Its summary."
  summary: WorkflowSummary!
  "The parent execution of a child workflow."
  parent: ExecutionRef
  "Activities scheduled and not finished."
  pendingActivities: [PendingActivity!]!
  "Child workflows started and not closed."
  pendingChildren: [PendingChild!]!
  "Every run of the workflow id (retries, continue-as-new, resets, cron), newest first."
  runs: [WorkflowSummary!]!
}

"An execution by id."
type ExecutionRef {
  "The workflow id."
  workflowId: String!
  "The run id."
  runId: String!
}

"An activity not finished yet."
type PendingActivity {
  "Its activity id."
  activityId: String!
  "Its activity type."
  activityType: String!
  "SCHEDULED, STARTED or CANCEL_REQUESTED."
  state: String!
  "The attempt (1 first)."
  attempt: Int!
  "The failure of the previous attempt, if any."
  lastFailure: String
  "When it last heartbeat."
  lastHeartbeatTime: DateTime
  "Its last heartbeat details, decoded."
  heartbeatDetails: JSON
  "The worker that runs it."
  lastWorkerIdentity: String
}

"A child workflow not closed yet."
type PendingChild {
  "Its workflow id."
  workflowId: String!
  "Its run id."
  runId: String!
  "Its workflow type."
  workflowType: String!
}

"A page of history events."
type HistoryPage {
  "The events of this page, oldest first."
  events: [HistoryEvent!]!
  "Pass as \`pageToken\` for the next page; null after the last."
  nextPageToken: String
}

"A history event."
type HistoryEvent {
  "Its id (1 first, contiguous)."
  eventId: Int!
  "When it was recorded."
  eventTime: DateTime
  "Its type, e.g. WorkflowExecutionStarted."
  eventType: String!
  "Its attributes; payloads decoded: JSON payloads as their value, others as { encoding, base64 }."
  attributes: JSON
  "The billable actions its recording counted (docs/metering.md)."
  billableActions: [ActionCount!]!
}

"A number of billable actions of one type."
type ActionCount {
  "The action type's record type, e.g. workflow_started, signal."
  action: String!
  "How many."
  count: Int!
}

"Usage of one namespace on one UTC day."
type UsageDay {
  "The day, YYYY-MM-DD."
  day: String!
  "The namespace."
  namespace: String!
  "Billable actions."
  actions: Int!
  "Billable actions by type."
  actionsByType: [ActionCount!]!
  "Active storage, byte-seconds."
  activeStorageByteSeconds: Float!
  "Retained storage, byte-seconds."
  retainedStorageByteSeconds: Float!
}

"A month's invoice."
type Invoice {
  "YYYY-MM."
  month: String!
  "USD."
  currency: String!
  "Priced lines per namespace and type."
  lines: [InvoiceLine!]!
  "Sum of the lines, cents."
  subtotalCents: Int!
  "The plan's minimum, cents."
  planMinimumCents: Int!
  "Added to reach the minimum, cents."
  minimumAdjustmentCents: Int!
  "What is owed, cents."
  totalCents: Int!
  "True while the month is not over."
  incomplete: Boolean!
}

"One priced line of an invoice."
type InvoiceLine {
  "The namespace."
  namespace: String!
  "actions, active_storage or retained_storage."
  type: String!
  "Actions or byte-seconds."
  quantity: Float!
  "actions or byte_seconds."
  unit: String!
  "Cents."
  amountCents: Int!
}

"A billing report (CSV)."
type BillingReport {
  "Its id."
  id: ID!
  "Start of its range."
  from: DateTime!
  "End of its range (exclusive)."
  to: DateTime!
  "HOURLY, DAILY or MONTHLY."
  granularity: UsageGranularity!
  "A signed download URL, valid until downloadUrlExpiresAt."
  downloadUrl: String
  "When the URL stops working."
  downloadUrlExpiresAt: DateTime
}
`;
