import { describe, expect, it } from 'vitest';
import type { KubernetesVersionInfo } from '../../../../core/clients/arm/types.js';
import { describeCluster, describeSubscription, describeVersionSupport } from '../../../../core/health/describe.js';
import { billingPeriod } from '../../../../core/cost/period.js';

const versions: KubernetesVersionInfo[] = [
  { minor: '1.31', isPreview: false, supportPlans: ['KubernetesOfficial', 'AKSLongTermSupport'], patches: ['1.31.9', '1.31.10'] },
  { minor: '1.32', isPreview: false, supportPlans: ['KubernetesOfficial'], patches: ['1.32.7'] },
  { minor: '1.33', isPreview: false, supportPlans: ['KubernetesOfficial'], patches: ['1.33.2'] },
  { minor: '1.34', isPreview: true, supportPlans: ['KubernetesOfficial'], patches: ['1.34.0'] },
];

describe('describeVersionSupport', () => {
  it.each([
    { version: '1.32.7', expected: /^Kubernetes 1\.32\.7 is supported in westeurope \(supported minors 1\.31–1\.33\)\.$/ },
    { version: '1.31.10', expected: /1\.31 is the oldest supported minor \(long-term support is available for it\)/ },
    { version: '1.32.3', expected: /Patch 1\.32\.3 is no longer offered \(newest 1\.32\.7\)/ },
    { version: '1.29.4', expected: /outside AKS's supported versions in westeurope \(1\.31–1\.33\): upgrade it/ },
    { version: '1.34.0', expected: /outside AKS's supported versions/ },
  ])('$version', ({ version, expected }) => {
    expect(describeVersionSupport(version, 'westeurope', versions)).toMatch(expected);
  });

  it('picks the newest patch numerically', () => {
    expect(describeVersionSupport('1.31.2', 'westeurope', versions)).toContain('newest 1.31.10');
  });
});

describe('describeSubscription and describeCluster', () => {
  const period = billingPeriod(new Date('2026-11-20T00:00:00Z'), 14);
  const sub = { subscriptionId: 's', displayName: 'VS', state: 'Enabled' as const, spendingLimit: 'Off' as const, quotaId: 'MSDN_2014-09-01' };
  it('warns that a removed spending limit bills the card', () => {
    expect(describeSubscription(sub, period).join(' ')).toMatch(/spending limit is removed/);
  });
  it('asks for a reconcile of a Failed cluster on an Enabled subscription', () => {
    const lines = describeCluster('aks', { name: 'aks', provisioningState: 'Failed', powerState: 'Running', kubernetesVersion: '1.32.7', currentKubernetesVersion: '1.32.7', agentPools: [] }, sub);
    expect(lines.join(' ')).toMatch(/needs a reconcile/);
  });
});
