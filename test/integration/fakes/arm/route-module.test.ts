import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryClients, type InventoryClients } from '../../../../core/clients/arm/inventory.js';
import { SUB, vsSubscription } from '../../../fakes/arm/builders.js';
import { registerRoutes } from '../../../fakes/arm/routes.js';
import { collectFreshViolations, startFakeArm, type FakeArm } from '../../../fakes/arm/server.js';

// A route module plugs into the fake ARM through registerRoutes (test/fakes/arm/routes.ts) and gets the same
// checks as the built-in routes, with no checking code of its own. This one serves Compute's disk accesses (an
// operation no other route serves), long-running through the context, and can be told to answer a wrong shape.

interface AccessState {
  readonly created: Map<string, { location: string; provisioningState: string }>;
  wrongShape: boolean;
}

registerRoutes({
  name: 'test-disk-accesses',
  create(ctx) {
    const state: AccessState = { created: new Map(), wrongShape: false };
    const json = (id: string, a: { location: string; provisioningState: string }) => ({
      id,
      name: id.split('/').pop(),
      type: 'Microsoft.Compute/diskAccesses',
      location: a.location,
      properties: { provisioningState: state.wrongShape ? 42 : a.provisioningState },
    });
    return {
      state,
      route: (req) => {
        const m = /^\/subscriptions\/([^/]+)\/resourcegroups\/[^/]+\/providers\/microsoft\.compute\/diskaccesses\/[^/]+$/.exec(req.lower);
        if (!m) return undefined;
        const a = state.created.get(req.lower);
        if (req.method === 'GET') return a ? { status: 200, json: json(req.path, a) } : { status: 404, json: { error: { code: 'ResourceNotFound', message: 'not found' } } };
        if (req.method !== 'PUT') return undefined;
        const created = { location: String((req.body as { location?: string }).location), provisioningState: 'Updating' };
        state.created.set(req.lower, created);
        return ctx.longRunning({
          subscriptionId: m[1] as string,
          provider: 'Microsoft.Compute',
          location: created.location,
          apiVersion: req.search.get('api-version') ?? '',
          status: 202,
          json: json(req.path, created),
          complete: () => (created.provisioningState = 'Succeeded'),
          result: () => json(req.path, created),
        });
      },
    };
  },
});

let arm: FakeArm;
let clients: InventoryClients;

beforeAll(async () => {
  arm = await startFakeArm();
  arm.setSubscription(SUB, vsSubscription());
  clients = createInventoryClients({
    subscriptionId: SUB,
    credential: { getToken: async () => ({ token: 'fake-arm-token', expiresOnTimestamp: Date.now() + 3_600_000 }) },
    endpoint: arm.url,
    ca: arm.ca,
    retry: { maxRetries: 0 },
  });
});

afterAll(async () => {
  await arm.close();
});

describe('a route module registered with registerRoutes', () => {
  it('serves a long-running PUT through the context (202, Location on Compute\'s DiskOperations monitor) to the unmodified SDK', async () => {
    arm.setClusterOperationPolls(1);
    const a = await clients.compute.diskAccesses.beginCreateOrUpdateAndWait('rg-d', 'da1', { location: 'westeurope' }, { updateIntervalInMs: 1 });
    expect(a.provisioningState).toBe('Succeeded');
    expect(arm.module<AccessState>('test-disk-accesses').created.size).toBe(1);
    expect(arm.requests.some((r) => /diskoperations/i.test(r.path))).toBe(true);
    expect(collectFreshViolations()).toEqual([]);
  });

  it('gets its answers checked like the built-in routes: a wrong shape is a violation named by the operation', async () => {
    const state = arm.module<AccessState>('test-disk-accesses');
    state.wrongShape = true;
    await clients.compute.diskAccesses.get('rg-d', 'da1');
    state.wrongShape = false;
    expect(collectFreshViolations()).toEqual(['DiskAccesses_Get 200 response: /properties/provisioningState must be string']);
  });
});
