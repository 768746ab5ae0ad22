import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createComputeClient, createDiskSnapshots } from '../../../../../core/clients/arm/compute.js';
import { createLogger } from '../../../../../core/log/logger.js';
import { Redactor } from '../../../../../core/log/redact.js';
import { SUB, vsSubscription } from '../../../../fakes/arm/builders.js';
import { fakeCompute } from '../../../../fakes/arm/compute.js';
import { startFakeArm, type FakeArm } from '../../../../fakes/arm/server.js';
import { MemoryStream } from '../../../../helpers/deps.js';
import { fakeCredential } from '../../../../helpers/errors.js';

// The Compute client of core/clients/arm against the FAKE ARM, through the unmodified @azure/arm-compute: the
// throttling bound, and an ensure that finds what exists.

let arm: FakeArm;
const MC = 'MC_rg-c_aks_westeurope';
const diskId = `/subscriptions/${SUB}/resourceGroups/${MC}/providers/Microsoft.Compute/disks/data`;
const log = createLogger({ level: 'warn', redactor: new Redactor(), destination: new MemoryStream() });

beforeEach(async () => {
  arm = await startFakeArm();
  arm.setSubscription(SUB, vsSubscription());
  arm.inventory.setDisk(SUB, { name: 'data', resourceGroup: MC, location: 'westeurope', sku: 'Premium_LRS', sizeGb: 8, state: 'Attached', timeCreated: '2026-11-01T00:00:00Z' });
});
afterEach(async () => arm.close());

function snapshots(maxRetryAfterSeconds?: number) {
  const compute = createComputeClient({ subscriptionId: SUB, credential: fakeCredential(), endpoint: arm.url, ca: arm.ca, retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 } }, maxRetryAfterSeconds);
  return createDiskSnapshots({ compute, environment: 'prod', log, pollIntervalMs: 5 });
}

const slot = () => {
  const recorded: { url: string; state: string }[] = [];
  return { recorded: undefined, record: async (op: { url: string; state: string }) => void recorded.push(op), ops: recorded };
};

describe('the Compute client', () => {
  it('caps a Retry-After longer than the bound (an hour here would time the test out)', async () => {
    arm.inject({ method: 'PUT', path: /\/snapshots\//, status: 429, retryAfterSeconds: 3600, times: 1 });
    const s = slot();
    const made = await snapshots(0.01).ensureSnapshot('rg-d', 'snap-1', { sourceDiskId: diskId, location: 'westeurope', tags: { a: 'b' } }, s);
    expect(made).toMatchObject({ name: 'snap-1', resourceGroup: 'rg-d', incremental: true, provisioningState: 'Succeeded', sourceResourceId: diskId, tags: { a: 'b' } });
    expect(arm.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([429, 202]);
    // the operation was handed over for the journal before the wait
    expect(s.ops).toHaveLength(1);
    expect(s.ops[0]!.url).toBe(fakeCompute(arm).operations[0]!.statusUrl);
  });

  it('ensure: a snapshot of that name that exists and succeeded is returned without a PUT', async () => {
    const c = snapshots();
    await c.ensureSnapshot('rg-d', 'snap-1', { sourceDiskId: diskId, location: 'westeurope', tags: {} }, slot());
    const s = slot();
    const again = await c.ensureSnapshot('rg-d', 'snap-1', { sourceDiskId: diskId, location: 'westeurope', tags: {} }, s);
    expect(again.provisioningState).toBe('Succeeded');
    expect(fakeCompute(arm).puts.snapshot).toBe(1);
    expect(s.ops).toEqual([]);
  });

  it('a disk from a snapshot lands in the zone asked for, with the SKU asked for', async () => {
    const c = snapshots();
    const snap = await c.ensureSnapshot('rg-d', 'snap-1', { sourceDiskId: diskId, location: 'westeurope', tags: {} }, slot());
    const disk = await c.ensureDiskFromSnapshot('rg-d', 'restored', { snapshotId: snap.id, location: 'westeurope', zone: '2', sku: 'Premium_LRS', tags: { x: 'y' } }, slot());
    expect(disk).toMatchObject({ name: 'restored', zones: ['2'], sku: 'Premium_LRS', sizeGb: 8, sourceResourceId: snap.id, provisioningState: 'Succeeded' });
  });
});
