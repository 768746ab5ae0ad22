import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createArmClients } from '../../../../../core/clients/arm/clients.js';
import { createAzureReader, MAX_COST_PAGES } from '../../../../../core/clients/arm/reader.js';
import type { AzureReader } from '../../../../../core/clients/arm/types.js';
import { AppError } from '../../../../../core/errors/app-error.js';
import { createLogger } from '../../../../../core/log/logger.js';
import { Redactor } from '../../../../../core/log/redact.js';
import { SUB, dailyCosts, vsSubscription } from '../../../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../../../fakes/arm/server.js';
import { fakeCredential } from '../../../../helpers/errors.js';

/** Cost Management pages its answers with properties.nextLink; the reader follows them (bounded) through the SDK pipeline. */
const NOW = new Date('2026-11-28T12:00:00Z');
const RANGE = { from: new Date('2026-11-14T00:00:00Z'), to: NOW };

let arm: FakeArm;
let reader: AzureReader;

async function errorOf(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('it resolved');
}

const queryPosts = () => arm.requests.filter((r) => r.method === 'POST' && /\/query$/i.test(r.path));

beforeAll(async () => {
  arm = await startFakeArm({ now: () => NOW });
  const clients = createArmClients({ subscriptionId: SUB, credential: fakeCredential(), endpoint: arm.url, ca: arm.ca, retry: { retryDelayInMs: 10, maxRetryDelayInMs: 20, maxRetries: 2 } });
  reader = createAzureReader({ clients, environment: 'prod', log: createLogger({ level: 'silent', redactor: new Redactor() }) });
});
afterAll(async () => arm.close());
beforeEach(() => {
  arm.requests.length = 0;
  arm.clearFaults();
  arm.setQueryPageSize(undefined);
  arm.setSubscription(SUB, vsSubscription());
  arm.setCosts(SUB, dailyCosts('2026-11-14', 14, (i) => 3 + i)); // 14 days × 2 resource groups = 28 daily rows
});

describe('cost query paging', () => {
  it('reads every page by POSTing the same body to each nextLink, and gets what one page would hold', async () => {
    const whole = await reader.dailyCost(RANGE);
    expect(whole).toHaveLength(28);
    arm.requests.length = 0;
    arm.setQueryPageSize(5);
    const paged = await reader.dailyCost(RANGE);
    expect(paged).toEqual(whole);
    const posts = queryPosts();
    expect(posts).toHaveLength(6); // 5+5+5+5+5+3
    expect(posts.map((p) => p.status)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const p of posts.slice(1)) {
      expect(p.body).toEqual(posts[0]!.body); // Azure wants the query definition again with the $skiptoken
      expect(p.apiVersion).toBe(posts[0]!.apiVersion);
    }
  });

  it('pages the by-resource query too', async () => {
    arm.setQueryPageSize(1);
    const rows = await reader.costByResource(RANGE);
    expect(rows.map((r) => r.cost).reduce((a, b) => a + b, 0)).toBeCloseTo(dailyCosts('2026-11-14', 14, (i) => 3 + i).reduce((a, e) => a + e.cost, 0));
    expect(queryPosts()).toHaveLength(2); // two resources, one row a page
  });

  it(`stops with a clear error beyond ${MAX_COST_PAGES} pages instead of looping`, async () => {
    arm.setQueryPageSize(1);
    const e = await errorOf(reader.dailyCost(RANGE));
    expect(e.code).toBe('AKS_AZURE_RESPONSE_INVALID');
    expect(e.message).toContain(`more than ${MAX_COST_PAGES} pages`);
    expect(queryPosts()).toHaveLength(MAX_COST_PAGES);
  });

  it.each([
    ['rows that are not a list', JSON.stringify({ properties: { nextLink: null, columns: [{ name: 'Cost', type: 'Number' }], rows: 'nope' } }), /page 2.*rows/],
    ['a body that is not JSON', '<html>gateway</html>', /not JSON/],
    ['other columns than the first page', JSON.stringify({ properties: { nextLink: null, columns: [{ name: 'Cost', type: 'Number' }], rows: [] } }), /columns \(Cost\) differ/],
  ])('refuses a next page with %s', async (_what, rawBody, message) => {
    arm.setQueryPageSize(5);
    arm.inject({ method: 'POST', path: /\/query$/i, query: /skiptoken/, status: 200, rawBody, times: 1 });
    const e = await errorOf(reader.dailyCost(RANGE));
    expect(e.code).toBe('AKS_AZURE_RESPONSE_INVALID');
    expect(e.message).toMatch(message);
  });

  it('never follows a nextLink off the ARM endpoint (the pipeline would send it the bearer token)', async () => {
    const first = {
      properties: {
        nextLink: `https://evil.example.org/subscriptions/${SUB}/providers/Microsoft.CostManagement/query?$skiptoken=AAAA`,
        columns: [
          { name: 'Cost', type: 'Number' },
          { name: 'UsageDate', type: 'Number' },
        ],
        rows: [[1, 20261114]],
      },
    };
    arm.inject({ method: 'POST', path: /\/query$/i, status: 200, rawBody: JSON.stringify(first), times: 1 });
    const e = await errorOf(reader.dailyCost(RANGE));
    expect(e.code).toBe('AKS_AZURE_RESPONSE_INVALID');
    expect(e.message).toContain('nextLink points to https://evil.example.org');
    expect(queryPosts()).toHaveLength(1);
  });

  it('survives a 429 with Retry-After on a next page through the SDK retry policy', async () => {
    arm.setQueryPageSize(10);
    arm.inject({ method: 'POST', path: /\/query$/i, query: /skiptoken/, status: 429, retryAfterSeconds: 0, times: 1 });
    expect(await reader.dailyCost(RANGE)).toHaveLength(28);
    expect(queryPosts().map((p) => p.status)).toEqual([200, 429, 200, 200]);
  });

  it('a failing next page is a coded Azure error with its status', async () => {
    arm.setQueryPageSize(10);
    arm.inject({ method: 'POST', path: /\/query$/i, query: /skiptoken/, status: 400, rawBody: JSON.stringify({ error: { code: 'BadRequest', message: 'Invalid query definition' } }), times: 1 });
    const e = await errorOf(reader.dailyCost(RANGE));
    expect(e.code).toBe('AKS_AZURE_REQUEST_FAILED');
    expect(e.message).toContain('HTTP 400 (BadRequest)');
  });
});
