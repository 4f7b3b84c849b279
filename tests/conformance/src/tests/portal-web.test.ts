// The portal's web console (web/, Next.js) in a real browser against a real start-dev process:
// sign in with the dev user's email and password using the keyboard alone; create a namespace;
// create an API key in the console, read its copy-once token from the dialog and run a workflow
// with activities with it through the official SDK over TLS; find that workflow with a list filter
// (and see a bad filter's error inline); read its history with the activity's input and result;
// terminate another workflow from its page after confirming; the usage page counts the actions;
// download an invoice. Each main page is screenshot into .test-artifacts/portal/ and checked for
// horizontal overflow at 1280×800 and at 390 px wide.
//
// Chromium is the machine's (/usr/bin/chromium; `make test` installs it when run as root): never
// downloaded. Without it the file is skipped loudly, and fails under CI=true.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { ActivityRecorder, createActivities } from '../activities';
import { eventually, heavyFile, installQuietRuntime, startServer, startWorker, uniqueName, type RunningWorker, type ServerProcess } from '../harness';
import { echoWorkflow, greetAndAdd, sleeper, waitForFinish } from '../workflows';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', '..', '..', '.test-artifacts', 'portal');
const WEB_BUILD = path.resolve(__dirname, '..', '..', '..', '..', 'web', '.next', 'BUILD_ID');
const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (apt-get install -y chromium)` : !existsSync(WEB_BUILD) ? `no web build (${WEB_BUILD}; npm run build makes it)` : undefined;

if (missing && process.env.CI !== 'true') {
  console.warn(`\n${'!'.repeat(78)}\n!! portal-web browser test SKIPPED: ${missing}.\n!! (Under CI=true this is a failure.)\n${'!'.repeat(78)}`);
}

heavyFile('portal-web');

describe('portal web console in Chromium', { skip: missing && process.env.CI !== 'true' ? missing : false }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let base: string;
  let namespace: string;
  let apiKey: string;
  let worker: RunningWorker | undefined;
  let connections: { native: NativeConnection; client: Connection } | undefined;
  let client: Client;
  let taskQueue: string;
  const greetId = uniqueName('console-greet');
  const sleeperId = uniqueName('console-sleeper');

  before(async () => {
    assert.equal(missing, undefined, `CI=true and ${missing}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer({ portalWeb: true });
    base = server.portalUrl.replace(/\/graphql$/, '');
    const { chromium } = await import('playwright-core');
    // No sandbox: the suite runs as root in containers, where Chromium's sandbox cannot start.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  });

  after(async () => {
    await worker?.shutdown().catch(() => undefined);
    await connections?.native.close().catch(() => undefined);
    await connections?.client.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.dispose();
  });

  /** Screenshot, then no horizontal overflow at 1280 and at 390 px wide. */
  async function checkPage(name: string): Promise<void> {
    await page.waitForSelector('h1');
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      const { scrollWidth, innerWidth } = await page.evaluate<{ scrollWidth: number; innerWidth: number }>('({ scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth })');
      assert.ok(scrollWidth <= innerWidth, `${name} at ${width} px: the page scrolls sideways (${scrollWidth} > ${innerWidth})`);
      if (width === 390) await page.screenshot({ path: path.join(ARTIFACTS, `${name}-390.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  it('the start banner names the console and the sign-in', () => {
    const output = server.recentOutput();
    const { portalEmail, portalPassword } = server.devCredentials();
    assert.ok(output.includes(`Hourglass serves the portal console (web) on ${base}/`), output);
    assert.ok(output.includes(`Portal sign-in: ${portalEmail} with password ${portalPassword} (the console at ${base}/, or signIn at ${server.portalUrl}).`), output);
  });

  it('redirects to sign-in, and signs in with the dev credentials using the keyboard alone', async () => {
    await page.goto(`${base}/namespaces`);
    await page.waitForURL(/\/signin/);
    await checkPage('signin');
    const { portalEmail, portalPassword } = server.devCredentials();
    assert.ok(portalEmail && portalPassword, 'the dev credentials carry the portal sign-in');
    // The email field has focus on arrival; Tab to the password, Enter submits.
    assert.equal(await page.evaluate<string | undefined>('document.activeElement?.id'), 'email');
    await page.keyboard.type(portalEmail);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string | undefined>('document.activeElement?.id'), 'password');
    await page.keyboard.type(portalPassword);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/namespaces$/);
    await page.getByRole('heading', { name: 'Namespaces', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'default', exact: true }).waitFor();
    // The browser never holds the Hourglass token: the session it sees has none.
    const session = await page.evaluate<string>("fetch('/api/auth/session').then((r) => r.text())");
    assert.match(session, /dev@hourglass\.localhost/);
    assert.doesNotMatch(session, /hourglassToken|hgs_|"token"/i);
    const providers = await page.evaluate<string>("fetch('/api/auth/providers').then((r) => r.text())");
    assert.deepEqual(Object.keys(JSON.parse(providers) as object), ['credentials'], 'no OIDC provider without its env variables');
    // The console's GraphQL route: nothing without a session, nothing from another origin.
    const body = JSON.stringify({ query: '{ viewer { name } }' });
    assert.equal((await fetch(`${base}/api/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status, 401);
    assert.equal((await fetch(`${base}/api/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://attacker.example' }, body })).status, 403);
  });

  it('creates a namespace and shows its connect panel', async () => {
    await page.getByLabel('Name', { exact: true }).fill('console');
    await page.getByLabel('Retention (days)').fill('7');
    await page.getByRole('button', { name: 'Create namespace' }).click();
    namespace = `console.${server.devCredentials().accountId}`;
    await page.getByRole('status').getByRole('link', { name: namespace }).click();
    await page.getByRole('heading', { name: namespace, level: 1 }).waitFor();
    assert.equal(await page.getByTestId('namespace').textContent(), namespace);
    assert.equal(await page.getByTestId('endpoint').textContent(), server.tlsAddress, 'the endpoint is the TLS listener');
    assert.match((await page.getByLabel('SDK snippet').textContent()) ?? '', new RegExp(`namespace: '${namespace.replace('.', '\\.')}'`));
    await page.getByLabel('Retention (days)').fill('14');
    await page.getByLabel('Description').fill('made in the console');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.getByText('14 days').waitFor();
    await checkPage('namespace');
    await page.goto(`${base}/namespaces`);
    await page.getByRole('link', { name: namespace }).waitFor();
    await checkPage('namespaces');
  });

  it('creates an API key, shows its token once, and the SDK runs a workflow with it over TLS', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('console worker');
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Copy your API key now' });
    await dialog.waitFor();
    apiKey = ((await dialog.getByTestId('api-key-token').textContent()) ?? '').trim();
    assert.match(apiKey, /^hgk_/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'api-key-dialog.png') });
    await dialog.getByRole('button', { name: 'Copy key' }).click();
    await dialog.getByRole('button', { name: 'Copied', exact: true }).waitFor();
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), apiKey, 'the copy button put the token on the clipboard');
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('cell', { name: 'console worker', exact: true }).waitFor();
    assert.equal(await page.getByTestId('api-key-token').count(), 1);
    assert.equal((await page.getByTestId('api-key-token').textContent())?.trim() ?? '', '', 'the token is gone once the dialog is closed');
    await checkPage('api-keys');

    const { tlsAddress, tlsCaFile } = server;
    assert.ok(tlsAddress && tlsCaFile);
    const tls = { serverRootCACertificate: readFileSync(tlsCaFile) };
    installQuietRuntime();
    connections = { native: await NativeConnection.connect({ address: tlsAddress, apiKey, tls }), client: await Connection.connect({ address: tlsAddress, apiKey, tls }) };
    client = new Client({ connection: connections.client, namespace });
    taskQueue = uniqueName('tq-console');
    worker = await startWorker({ connection: connections.native, namespace, taskQueue, activities: createActivities(new ActivityRecorder()) });
    assert.equal(await client.workflow.execute(greetAndAdd, { taskQueue, workflowId: greetId, args: ['Ada', 2, 3] }), 'Hello, Ada! 2+3=5 left/right');
    await client.workflow.start(sleeper, { taskQueue, workflowId: sleeperId, args: [3_600_000] });
  });

  it('finds the workflow with a list filter, and shows a bad filter’s error inline', async () => {
    await page.goto(`${base}/workflows?namespace=${encodeURIComponent(namespace)}`);
    // Keyboard alone: Tab to the search box, type the filter, Enter.
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
    for (let i = 0; i < 30 && (await page.evaluate<string | undefined>('document.activeElement?.id')) !== 'wf-query'; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string | undefined>('document.activeElement?.id'), 'wf-query', 'the search box is reachable with Tab');
    await page.keyboard.type("WorkflowId = '");
    await page.keyboard.press('Enter');
    // (Next's route announcer is an alert too: the console's errors are p.error.)
    const error = page.locator('p.error[role="alert"]');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /invalid query: .* at position \d+/, 'the error names where the filter went wrong');
    await page.getByLabel('List filter').fill(`WorkflowId = '${greetId}'`);
    await page.keyboard.press('Enter');
    // Visibility is eventually consistent: search again until the indexer has caught up.
    await eventually(
      async () => {
        await page.getByRole('button', { name: 'Search', exact: true }).click();
        await page.getByTestId('count-total').waitFor();
        return (await page.getByRole('link', { name: greetId }).count()) === 1;
      },
      { timeoutMs: 15_000, intervalMs: 300, description: 'the workflow listed' },
    );
    assert.match((await page.getByTestId('count-total').textContent()) ?? '', /Total: 1/);
    assert.match((await page.getByTestId('count-Completed').textContent()) ?? '', /Completed: 1/);
    await page.getByLabel('List filter').fill('');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('link', { name: sleeperId }).waitFor();
    await checkPage('workflows');
  });

  it('pages through a long list, 20 a page', async () => {
    const prefix = uniqueName('console-page');
    await Promise.all(Array.from({ length: 21 }, (_, i) => client.workflow.execute(echoWorkflow, { taskQueue, workflowId: `${prefix}-${i}`, args: [String(i)] })));
    await page.goto(`${base}/workflows?namespace=${encodeURIComponent(namespace)}&query=${encodeURIComponent(`WorkflowId STARTS_WITH '${prefix}'`)}`);
    await eventually(
      async () => {
        await page.getByRole('button', { name: 'Search', exact: true }).click();
        await page.getByTestId('count-total').waitFor();
        return /Total: 21/.test((await page.getByTestId('count-total').textContent()) ?? '');
      },
      { timeoutMs: 15_000, intervalMs: 300, description: '21 workflows counted' },
    );
    const rows = page.getByRole('link', { name: new RegExp(`^${prefix}-`) });
    await eventually(async () => (await rows.count()) === 20, { description: 'a first page of 20' });
    const firstPage = await rows.allTextContents();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2').waitFor();
    await eventually(async () => (await rows.count()) === 1, { description: 'a second page of 1' });
    const secondPage = await rows.allTextContents();
    assert.equal(new Set([...firstPage, ...secondPage]).size, 21, 'every workflow once over the two pages');
    assert.ok(await page.getByRole('button', { name: 'Next page' }).isDisabled(), 'no page after the last');
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1').waitFor();
    await eventually(async () => (await rows.count()) === 20, { description: 'back on the first page' });
  });

  it('shows the history with the activity’s input and result', async () => {
    await page.goto(`${base}/workflows?namespace=${encodeURIComponent(namespace)}&query=${encodeURIComponent(`WorkflowId = '${greetId}'`)}`);
    await page.getByRole('link', { name: greetId }).click();
    await page.getByTestId('workflow-status').filter({ hasText: 'Completed' }).waitFor();
    const history = page.getByRole('table', { name: 'History' });
    await history.getByRole('cell', { name: 'ActivityTaskCompleted' }).first().waitFor();
    const text = (await history.textContent()) ?? '';
    assert.match(text, /WorkflowExecutionStarted/);
    assert.match(text, /"Ada"/, "the greet activity's input");
    assert.match(text, /"Hello, Ada!"/, "the greet activity's result");
    assert.match(text, /Hello, Ada! 2\+3=5 left\/right/, "the workflow's result");
    await checkPage('workflow');
  });

  it('terminates another workflow from its page after a confirm step', async () => {
    await page.goto(`${base}/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(sleeperId)}`);
    await page.getByTestId('workflow-status').filter({ hasText: 'Running' }).waitFor();
    await page.getByLabel('Reason (recorded in the history)').fill('stopped by the browser test');
    await page.getByRole('button', { name: 'Terminate', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Terminate?' });
    await confirm.waitFor();
    // Nothing happened before the confirmation.
    assert.equal((await client.workflow.getHandle(sleeperId).describe()).status.name, 'RUNNING');
    await confirm.getByRole('button', { name: 'Terminate workflow' }).click();
    await page.getByTestId('workflow-status').filter({ hasText: 'Terminated' }).waitFor();
    const described = await client.workflow.getHandle(sleeperId).describe();
    assert.equal(described.status.name, 'TERMINATED');
    const history = await client.workflow.getHandle(sleeperId).fetchHistory();
    const terminated = history.events?.find((e) => e.workflowExecutionTerminatedEventAttributes);
    assert.equal(terminated?.workflowExecutionTerminatedEventAttributes?.reason, 'stopped by the browser test');
  });

  it('signals, cancels and resets workflows from their pages, each after a confirm step', async () => {
    const waitId = uniqueName('console-wait');
    const cancelId = uniqueName('console-cancel');
    const waiting = await client.workflow.start(waitForFinish, { taskQueue, workflowId: waitId });
    const cancelling = await client.workflow.start(sleeper, { taskQueue, workflowId: cancelId, args: [3_600_000] });

    await page.goto(`${base}/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(waitId)}`);
    await page.getByTestId('workflow-status').filter({ hasText: 'Running' }).waitFor();
    await page.getByLabel('Signal name').fill('finish');
    await page.getByLabel('Input (JSON, optional)').fill('"from the console"');
    await page.getByRole('button', { name: 'Signal', exact: true }).click();
    await page.getByRole('dialog', { name: 'Signal?' }).getByRole('button', { name: 'Send signal' }).click();
    await page.getByRole('status').filter({ hasText: 'Signal finish sent.' }).waitFor();
    assert.equal(await waiting.result(), 'from the console');

    await page.goto(`${base}/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(cancelId)}`);
    await page.getByTestId('workflow-status').filter({ hasText: 'Running' }).waitFor();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('dialog', { name: 'Cancel?' }).getByRole('button', { name: 'Request cancellation' }).click();
    await page.getByRole('status').filter({ hasText: 'Cancellation requested.' }).waitFor();
    await assert.rejects(cancelling.result());
    assert.equal((await cancelling.describe()).status.name, 'CANCELLED');

    await page.goto(`${base}/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(greetId)}`);
    await page.getByTestId('workflow-status').filter({ hasText: 'Completed' }).waitFor();
    const firstRun = (await client.workflow.getHandle(greetId).describe()).runId;
    const resetTo = page.getByLabel('Reset to the end of workflow task');
    await resetTo.locator('option', { hasText: 'WorkflowTaskCompleted' }).first().waitFor({ state: 'attached' });
    const eventId = await resetTo.locator('option', { hasText: 'WorkflowTaskCompleted' }).first().getAttribute('value');
    await resetTo.selectOption(eventId ?? '');
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await page.getByRole('dialog', { name: 'Reset?' }).getByRole('button', { name: 'Reset workflow' }).click();
    const status = page.getByRole('status').filter({ hasText: 'Reset: new run' });
    await status.waitFor();
    const newRun = /new run ([0-9a-f-]+)/.exec((await status.textContent()) ?? '')?.[1];
    assert.ok(newRun && newRun !== firstRun, `a new run: ${await status.textContent()}`);
    // The new run continues from the chosen task on the worker and completes the same way.
    assert.equal(await client.workflow.getHandle(greetId, newRun).result(), 'Hello, Ada! 2+3=5 left/right');
  });

  it('the usage page counts the actions of the namespace', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const fromApi = async (): Promise<number> => {
      const res = await fetch(server.portalUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query: 'query($from: DateTime!, $to: DateTime!, $ns: String) { usage(from: $from, to: $to, namespace: $ns) { actions } }', variables: { from: `${today}T00:00:00Z`, to: new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString(), ns: namespace } }),
      });
      const body = (await res.json()) as { data?: { usage: { actions: number }[] } };
      return (body.data?.usage ?? []).reduce((n, u) => n + u.actions, 0);
    };
    // Started, 4 activities, a signal-free sleeper started and terminated: several actions at least.
    await eventually(async () => (await fromApi()) >= 6, { timeoutMs: 15_000, description: 'usage folded' });
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    const cell = page.getByTestId(`usage-${today}-${namespace}`);
    // The page shows what the API counts; folds of the run's last actions may still be landing
    // (a shard gathers them up to 100 ms), so the two are compared afresh until they agree.
    let last = { shown: NaN, counted: NaN };
    await eventually(
      async () => {
        await page.reload();
        await cell.waitFor();
        const shown = Number(await cell.textContent());
        last = { shown, counted: await fromApi() };
        return shown >= 6 && shown === last.counted;
      },
      { timeoutMs: 15_000, intervalMs: 300, description: 'the usage page shows the actions the API counts' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: page ${last.shown}, API ${last.counted}`);
    });
    await checkPage('usage');
  });

  it('downloads the month’s invoice as CSV', async () => {
    await page.getByRole('link', { name: 'Invoices' }).click();
    await page.getByRole('heading', { name: 'Invoices', level: 1 }).waitFor();
    const month = new Date().toISOString().slice(0, 7);
    const link = page.getByRole('link', { name: `Download invoice ${month} (CSV)` });
    await link.waitFor();
    await checkPage('invoices');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), `hourglass-invoice-${month}.csv`);
    const file = await download.path();
    const csv = readFileSync(file, 'utf8');
    assert.match(csv, new RegExp(`^# Hourglass invoice ${month}`));
    assert.match(csv, /^namespace,type,quantity,unit,amount_usd$/m);
    assert.match(csv, new RegExp(`^${namespace.replace('.', '\\.')},actions,\\d+,actions,\\d+\\.\\d\\d$`, 'm'), 'a priced line of the namespace');
    assert.match(csv, /^,total,,,\d+\.\d\d$/m);
  });

  it('disables and deletes an API key, and a disabled key is refused', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('throwaway');
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Copy your API key now' });
    const token = ((await dialog.getByTestId('api-key-token').textContent()) ?? '').trim();
    assert.match(token, /^hgk_/);
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    const viewer = async (): Promise<{ data?: unknown; errors?: { extensions?: { code?: string } }[] }> =>
      (await (await fetch(server.portalUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ viewer { name } }' }) })).json()) as {
        errors?: { extensions?: { code?: string } }[];
      };
    assert.equal((await viewer()).errors, undefined, 'the new key works');
    const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'throwaway', exact: true }) });
    await row.getByRole('button', { name: 'Disable key throwaway' }).click();
    await row.getByRole('cell', { name: 'disabled', exact: true }).waitFor();
    await eventually(async () => (await viewer()).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', { timeoutMs: 15_000, intervalMs: 250, description: 'the disabled key refused' });
    await row.getByRole('button', { name: 'Delete key throwaway' }).click();
    await page.getByRole('dialog', { name: 'Delete key throwaway?' }).getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('cell', { name: 'throwaway', exact: true }).waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'console worker', exact: true }).waitFor();
  });

  it('saves a query and applies it, lists users, creates a service account, and shows the audit log', async () => {
    await page.goto(`${base}/workflows?namespace=${encodeURIComponent(namespace)}`);
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
    await page.getByLabel('List filter').fill("ExecutionStatus = 'Terminated'");
    await page.getByLabel('Save the current filter as').fill('terminated');
    await page.getByRole('button', { name: 'Save query' }).click();
    const saved = page.getByRole('region', { name: 'My saved queries', exact: true }).getByRole('button', { name: 'terminated', exact: true });
    await saved.waitFor();
    await page.reload();
    await saved.click();
    await page.waitForURL(/query=ExecutionStatus/);
    await eventually(
      async () => {
        await page.getByRole('button', { name: 'Search', exact: true }).click();
        await page.getByTestId('count-total').waitFor();
        return (await page.getByRole('link', { name: sleeperId }).count()) === 1 && (await page.getByRole('link', { name: greetId }).count()) === 0;
      },
      { timeoutMs: 15_000, intervalMs: 300, description: 'the saved query lists the terminated workflow only' },
    );

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users and roles', level: 1 }).waitFor();
    await page.getByRole('cell', { name: server.devCredentials().portalEmail, exact: true }).waitFor();
    assert.equal(await page.getByLabel(`Role of ${server.devCredentials().portalEmail}`).inputValue(), 'owner');
    await checkPage('users');

    await page.getByRole('link', { name: 'Service accounts' }).click();
    await page.getByRole('heading', { name: 'Service accounts', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('ci-deployer');
    await page.getByRole('button', { name: 'Create service account' }).click();
    await page.getByRole('cell', { name: 'ci-deployer', exact: true }).waitFor();
    await checkPage('service-accounts');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    const audit = page.getByRole('table', { name: 'Audit log, newest first' });
    for (const operation of ['PortalSignIn', 'CreateApiKey', 'CreateServiceAccount']) await audit.getByRole('cell', { name: operation, exact: true }).first().waitFor();
    await checkPage('audit');
  });
});

describe('portal listener with --no-portal-web (what every other test server runs with)', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.dispose();
  });

  it('serves /graphql only: pages answer 404 and the banner names no console', async () => {
    const base = server.portalUrl.replace(/\/graphql$/, '');
    for (const page of ['/', '/signin', '/api/auth/session']) {
      const res = await fetch(`${base}${page}`);
      assert.equal(res.status, 404, page);
      assert.match(await res.text(), /the GraphQL API is at \/graphql/);
    }
    const res = await fetch(server.portalUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    assert.equal(res.status, 200);
    assert.doesNotMatch(server.recentOutput(), /portal console/);
  });
});

/**
 * A small OpenID Connect provider for the test: discovery, an authorization endpoint that signs
 * whoever asks in as `email` at once, a token endpoint that answers with an RS256 ID token, and its
 * key set. `token()` mints ID tokens directly for the GraphQL checks.
 */
async function startFakeOidcProvider(clientId: string): Promise<{ issuer: string; email: string; token(claims: Record<string, unknown>, key?: KeyObject): string; close(): Promise<void> }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const state = { email: 'dev@hourglass.localhost', issuer: '' };
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const token = (claims: Record<string, unknown>, key: KeyObject = privateKey): string => {
    const now = Math.floor(Date.now() / 1000);
    const body = `${b64({ alg: 'RS256', kid: 'test-key', typ: 'JWT' })}.${b64({ iss: state.issuer, aud: clientId, sub: 'user-1', email: state.email, email_verified: true, iat: now, exp: now + 300, ...claims })}`;
    return `${body}.${cryptoSign('RSA-SHA256', Buffer.from(body), key).toString('base64url')}`;
  };
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', state.issuer);
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: state.issuer,
        authorization_endpoint: `${state.issuer}/authorize`,
        token_endpoint: `${state.issuer}/token`,
        jwks_uri: `${state.issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (url.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (url.pathname === '/authorize') {
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', 'test-code');
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      res.end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      req.resume();
      req.on('end', () => json(200, { access_token: 'test-access-token', token_type: 'Bearer', expires_in: 300, id_token: token({}) }));
      return;
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { issuer: state.issuer, email: state.email, token, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('portal console with single sign-on through an OIDC provider configured by env', { skip: missing && process.env.CI !== 'true' ? missing : false }, () => {
  const CLIENT_ID = 'hourglass-console';
  let server: ServerProcess;
  let provider: Awaited<ReturnType<typeof startFakeOidcProvider>>;
  let browser: Browser | undefined;
  before(async () => {
    provider = await startFakeOidcProvider(CLIENT_ID);
    server = await startServer({
      portalWeb: true,
      env: { HOURGLASS_OIDC_ISSUER: provider.issuer, HOURGLASS_OIDC_CLIENT_ID: CLIENT_ID, HOURGLASS_OIDC_CLIENT_SECRET: 'not-a-real-secret', HOURGLASS_OIDC_NAME: 'Example SSO' },
    });
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.dispose();
    await provider?.close();
  });

  async function signInWithOidc(idToken: string): Promise<{ token?: string; code?: string; message?: string }> {
    const res = await fetch(server.portalUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation($t: String!) { signInWithOidc(idToken: $t) { token viewer { name } } }', variables: { t: idToken } }),
    });
    const body = (await res.json()) as { data?: { signInWithOidc?: { token: string; viewer: { name: string } } }; errors?: { message: string; extensions?: { code?: string } }[] };
    return { token: body.data?.signInWithOidc?.token, code: body.errors?.[0]?.extensions?.code, message: body.errors?.[0]?.message };
  }

  it('offers the OIDC provider beside email and password', async () => {
    const base = server.portalUrl.replace(/\/graphql$/, '');
    const providers = (await (await fetch(`${base}/api/auth/providers`)).json()) as Record<string, { id: string; type: string; name: string }>;
    assert.deepEqual(Object.values(providers).map((p) => [p.id, p.type, p.name]), [['credentials', 'credentials', 'Email and password'], ['oidc', 'oauth', 'Example SSO']]);
    assert.match(await (await fetch(`${base}/signin`)).text(), /Sign in with <!-- -->Example SSO|Sign in with Example SSO/);
  });

  it('the API turns a valid ID token into a session of the user with its email, and refuses forged, foreign, expired and unknown ones', async () => {
    const good = await signInWithOidc(provider.token({}));
    assert.match(good.token ?? '', /^hgs_/, JSON.stringify(good));
    // The session works like a password sign-in's.
    const viewer = await fetch(server.portalUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${good.token}` }, body: JSON.stringify({ query: '{ viewer { name } }' }) });
    assert.deepEqual(((await viewer.json()) as { data: unknown }).data, { viewer: { name: provider.email } });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const cases: [string, string, RegExp][] = [
      ['signed by another key', provider.token({}, other), /signature/i],
      ['for another client', provider.token({ aud: 'someone-else' }), /aud/i],
      ['expired', provider.token({ exp: Math.floor(Date.now() / 1000) - 600 }), /exp/i],
      ['from another issuer', provider.token({ iss: 'https://evil.example.test' }), /iss/i],
      ['with an unverified email', provider.token({ email_verified: false }), /not verified/],
      ['of an email that is no user', provider.token({ email: 'stranger@example.test' }), /stranger@example\.test is not a user/],
      ['that is not a token', 'not-a-jwt', /not valid/],
    ];
    for (const [what, idToken, reason] of cases) {
      const answer = await signInWithOidc(idToken);
      assert.equal(answer.token, undefined, `${what}: a session was opened`);
      assert.equal(answer.code, 'UNAUTHENTICATED', `${what}: ${JSON.stringify(answer)}`);
      assert.match(answer.message ?? '', reason, what);
    }
  });

  it('signs in through the provider in the browser and shows the account\'s namespaces', async () => {
    const base = server.portalUrl.replace(/\/graphql$/, '');
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    await page.goto(`${base}/namespaces`);
    await page.waitForURL(/\/signin/);
    await page.getByRole('button', { name: /Example SSO/ }).click();
    await page.waitForURL(/\/namespaces$/);
    await page.getByRole('link', { name: 'default', exact: true }).waitFor();
    const session = await page.evaluate<string>("fetch('/api/auth/session').then((r) => r.text())");
    assert.match(session, /dev@hourglass\.localhost/);
    assert.doesNotMatch(session, /hourglassToken|hgs_|"token"/i);
  });
});

describe('single sign-on is refused where it is not configured', () => {
  it('signInWithOidc answers FAILED_PRECONDITION without touching any provider', async () => {
    const server = await startServer();
    try {
      const res = await fetch(server.portalUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'mutation { signInWithOidc(idToken: "x") { token } }' }) });
      const body = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
      assert.equal(body.errors?.[0]?.extensions?.code, 'FAILED_PRECONDITION');
      assert.match(body.errors?.[0]?.message ?? '', /single sign-on is not configured/);
    } finally {
      await server.dispose();
    }
  });
});
