import { describe, expect, it } from 'vitest';
import { restoredSku } from '../../../../core/snapshots/restore.js';
import { resourceName, snapshotGroup } from '../../../../core/snapshots/tags.js';
import { testConfig } from '../../../helpers/deps.js';

// Azure's rule for disk and snapshot names: 1-80 characters, letters, digits, underscores, periods and hyphens,
// starting with a letter or digit and ending with a letter, digit or underscore.
const AZURE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$/;

describe('snapshot and disk names', () => {
  it('are stable for one claim of one set, and differ between sets, environments, namespaces and kinds', () => {
    const a = resourceName('snap', 'prod', 'run-12', 'rocketchat', 'datadir-rocketchat-mongodb-0');
    expect(resourceName('snap', 'prod', 'run-12', 'rocketchat', 'datadir-rocketchat-mongodb-0')).toBe(a);
    const others = [
      resourceName('snap', 'prod', 'run-13', 'rocketchat', 'datadir-rocketchat-mongodb-0'),
      resourceName('snap', 'staging', 'run-12', 'rocketchat', 'datadir-rocketchat-mongodb-0'),
      resourceName('snap', 'prod', 'run-12', 'other', 'datadir-rocketchat-mongodb-0'),
      resourceName('disk', 'prod', 'run-12', 'rocketchat', 'datadir-rocketchat-mongodb-0'),
    ];
    expect(new Set([a, ...others]).size).toBe(5);
    expect(a.startsWith('datadir-rocketchat-mongodb-0-snap-')).toBe(true);
  });

  it.each(['x', 'a'.repeat(253), 'data.v1', 'claim-with-a-very-long-name-that-goes-on-and-on-and-on-past-fifty-characters'])('keeps Azure\'s name rules for claim %s', (claim) => {
    expect(resourceName('snap', 'prod', '2026-11-26T0200Z', 'ns', claim)).toMatch(AZURE_NAME);
  });
});

describe('the restored disk SKU', () => {
  it.each([
    ['Premium_LRS', false, 'Premium_LRS'],
    ['Premium_LRS', true, 'Premium_ZRS'],
    ['StandardSSD_LRS', true, 'StandardSSD_ZRS'],
    ['Standard_LRS', true, 'StandardSSD_ZRS'],
    ['Premium_ZRS', true, 'Premium_ZRS'],
    [undefined, false, 'StandardSSD_LRS'],
  ] as const)('%s with nodes in several zones=%s is %s', (source, zrs, expected) => {
    expect(restoredSku(source, zrs)).toBe(expected);
  });
});

describe('the snapshot group', () => {
  const yaml = (durable: string, extra = '') => `
environments:
  prod:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: ${durable}, clusterResourceGroup: rg-c, clusterName: aks }
    credit: { monthlyUsd: 150 }${extra}
`;

  it('is the durable group unless snapshots.resourceGroup says otherwise', () => {
    expect(snapshotGroup('prod', testConfig(yaml('rg-d')).environments.prod!)).toBe('rg-d');
    expect(snapshotGroup('prod', testConfig(yaml('rg-d', '\n    snapshots: { resourceGroup: rg-snap }')).environments.prod!)).toBe('rg-snap');
  });

  it.each(['MC_rg-c_aks_westeurope', 'mc_rg', 'Mc_x'])('refuses %s, a node resource group name, at run time', (group) => {
    expect(() => snapshotGroup('prod', testConfig(yaml(group)).environments.prod!)).toThrow(expect.objectContaining({ code: 'AKS_SNAPSHOT_GROUP_REFUSED' }));
  });
});
