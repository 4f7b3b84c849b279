import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '@hourglass/common';
import { ApiServer } from './api-server';
import type { ApiDeps } from './context';

// No field resolver runs in these tests (introspection, refusals before execution), so no service is needed.
const NO_SERVICES = { identity: {} } as unknown as ApiDeps;

async function post(url: string, body: string): Promise<{ status: number; json: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, json: await response.json() };
}

for (const development of [true, false]) {
  describe(`the GraphQL listener (${development ? 'development' : 'production'})`, () => {
    let server: ApiServer;
    let url = '';
    before(async () => {
      server = new ApiServer({ deps: NO_SERVICES, logger: silentLogger(), development });
      url = `http://127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    });
    after(() => server.stop());

    it(development ? 'answers introspection' : 'refuses introspection', async () => {
      const { json } = await post(`${url}/graphql`, JSON.stringify({ query: '{ __schema { queryType { name } } }' }));
      if (development) assert.equal(json.data.__schema.queryType.name, 'Query');
      else {
        assert.equal(json.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
        assert.match(json.errors[0].message, /introspection/i);
      }
    });

    it(development ? 'shows the Apollo Sandbox to a browser' : 'shows no Sandbox to a browser', async () => {
      const page = await (await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } })).text();
      assert.equal(/sandbox/i.test(page), development);
    });

    it('refuses bodies that are not JSON or larger than 1 MB, and serves nothing but /graphql', async () => {
      const notJson = await post(`${url}/graphql`, '{ query');
      assert.equal(notJson.status, 400);
      assert.equal(notJson.json.errors[0].extensions.code, 'BAD_REQUEST');
      const huge = await post(`${url}/graphql`, JSON.stringify({ query: `{ viewer { name } } #${'x'.repeat(1024 * 1024)}` }));
      assert.equal(huge.status, 400);
      assert.match(huge.json.errors[0].message, /larger than 1048576 bytes/);
      assert.equal((await fetch(`${url}/other`)).status, 404);
    });

    it('refuses over-costly queries before running them', async () => {
      const fields = Array.from({ length: 100 }, (_, i) => `a${i}: workflows(namespace: "default") { executions { namespace { limits { rps aps } } } }`).join(' ');
      const { json } = await post(`${url}/graphql`, JSON.stringify({ query: `{ ${fields} }` }));
      assert.equal(json.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.match(json.errors[0].message, /Query Cost limit of 2000 exceeded/);
      assert.equal(json.data, undefined);
    });
  });
}
