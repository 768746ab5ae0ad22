import { describe, expect, it } from 'vitest';
import type { AzureInventory, DiskInfo } from '../../../../core/clients/arm/inventory.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { formatRecommendations, gatherRecommendations } from '../../../../core/recommendations/recommend.js';
import { CSI_PV_TAG } from '../../../../core/recommendations/rules.js';
import { testDeps } from '../../../helpers/deps.js';

const NOW = new Date('2026-11-26T12:00:00Z');
const SUB = '11111111-2222-3333-4444-555555555555';
const disk = (name: string, tags: Record<string, string> = {}): DiskInfo => ({
  id: `/subscriptions/${SUB}/resourceGroups/rg-x/providers/Microsoft.Compute/disks/${name}`,
  name,
  resourceGroup: 'rg-x',
  location: 'westeurope',
  sku: 'StandardSSD_LRS',
  sizeGb: 8,
  state: 'Unattached',
  managedBy: undefined,
  timeCreated: new Date('2026-11-01T00:00:00Z'),
  tags,
});

/** An in-memory inventory: these tests are about gathering and wording, not the SDK (see the integration tests). */
function inventory(over: Partial<AzureInventory> = {}): AzureInventory {
  const none = async () => {
    throw new Error('not expected in this test');
  };
  return {
    subscriptionId: SUB,
    listDisks: async () => [disk('plain'), disk('pv-disk', { [CSI_PV_TAG]: 'pvc-1' })],
    getDisk: none,
    deleteDisk: none,
    setDiskSku: none,
    listSnapshots: async () => [],
    getSnapshot: none,
    deleteSnapshot: none,
    listPublicIps: async () => [],
    getPublicIp: none,
    deletePublicIp: none,
    listAgentPools: async () => [{ name: 'system', count: 2, vmSize: 'Standard_B2s', mode: 'System', enableAutoScaling: false, minCount: undefined, maxCount: undefined }],
    listVmSizes: async () => [],
    ...over,
  };
}

describe('gathering recommendations', () => {
  it('without a readable cluster: no pool advice, disks of PersistentVolumes only as advice, and says why', async () => {
    const d = testDeps({ now: NOW });
    const report = await gatherRecommendations('prod', {
      inventory: inventory(),
      reader: { costByResource: async () => [] },
      kubeConfig: async () => {
        throw new AppError('AKS_KUBERNETES_NOT_CONFIGURED', { environment: 'prod', reason: 'neither kubernetes.kubeconfigPath nor kubernetes.kubeconfig is set' });
      },
      config: d.config,
      log: d.log,
      now: NOW,
    });
    expect(report.recommendations.map((r) => `${r.resourceName}:${r.apply.automatic}`).sort()).toEqual(['plain:true', 'pv-disk:false']);
    expect(report.notes.join('\n')).toMatch(/could not be read[\s\S]*AKS_KUBERNETES_NOT_CONFIGURED/);
    expect(report.notes.join('\n')).toMatch(/No cost rows/);
    expect(report.costDays).toBe(25.5);
    const text = formatRecommendations(report);
    expect(text).toMatch(/^prod: 2 recommendations, about \$1\.20 per month/);
    expect(text).toMatch(/advice only: not deleted automatically: the cluster could not be read/);
    expect(text).toContain('apply: cost apply --env prod --id disk-orphaned-');
  });

  it('an Azure failure is not hidden as a note: it fails the command with its code', async () => {
    const d = testDeps({ now: NOW });
    const failing = inventory({
      listVmSizes: async () => {
        throw new AppError('AKS_AZURE_REQUEST_FAILED', { operation: 'GET resource SKUs', status: 500, azureCode: 'InternalServerError' });
      },
    });
    await expect(
      gatherRecommendations('prod', { inventory: failing, reader: { costByResource: async () => [] }, kubeConfig: async () => Promise.reject(new Error('x')), config: d.config, log: d.log, now: NOW }),
    ).rejects.toMatchObject({ code: 'AKS_AZURE_REQUEST_FAILED' });
  });
});
