import { describe, expect, it } from 'vitest';
import { sharedArmContract } from '../../../fakes/arm/contract.js';

const SUB = '11111111-2222-3333-4444-555555555555';
const cluster = `/subscriptions/${SUB}/resourceGroups/rg-c/providers/Microsoft.ContainerService/managedClusters/aks`;
const q = (s: string) => new URLSearchParams(s);

describe('the Azure definitions as a checker (test/fakes/arm/contract.ts)', () => {
  const c = sharedArmContract();

  it('finds the operation of a path case-insensitively, including {scope} spanning segments', () => {
    expect(c.operationId('GET', cluster.toLowerCase())).toBe('ManagedClusters_Get');
    expect(c.operationId('POST', `${cluster}/listClusterUserCredential`)).toBe('ManagedClusters_ListClusterUserCredentials');
    expect(c.operationId('POST', `/subscriptions/${SUB}/providers/Microsoft.CostManagement/query`)).toBe('Query_Usage');
    expect(c.operationId('PUT', `/subscriptions/${SUB}/resourceGroups/rg-d/providers/Microsoft.Compute/snapshots/s1`)).toBe('Snapshots_CreateOrUpdate');
  });

  it('accepts a request the definition allows and names what is wrong otherwise', () => {
    const good = { location: 'westeurope', properties: { dnsPrefix: 'aks', agentPoolProfiles: [{ name: 'system', count: 1, vmSize: 'Standard_B2s', mode: 'System' }] } };
    expect(c.checkRequest({ method: 'PUT', path: cluster, search: q('api-version=2026-04-01'), body: good })).toEqual([]);
    expect(c.checkRequest({ method: 'PUT', path: cluster, search: q('api-version=2026-04-01'), body: undefined })).toEqual(['ManagedClusters_CreateOrUpdate: the required request body is missing']);
    expect(c.checkRequest({ method: 'GET', path: cluster, search: q(''), body: undefined })).toEqual(
      expect.arrayContaining(["ManagedClusters_Get: api-version null is not the definition's 2026-04-01", 'ManagedClusters_Get: required query parameter api-version is missing']),
    );
    expect(c.checkRequest({ method: 'GET', path: `/subscriptions/not-a-uuid/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks`, search: q('api-version=2026-04-01'), body: undefined })).toEqual([
      'ManagedClusters_Get path parameter subscriptionId: / must match format "uuid"',
    ]);
    expect(c.checkRequest({ method: 'GET', path: cluster, search: q('api-version=2026-04-01'), body: { x: 1 } })).toEqual(['ManagedClusters_Get: takes no request body']);
  });

  it('checks the status against the documented ones, errors against the default schema, and bodyless answers', () => {
    expect(c.checkResponse('DELETE', cluster, 202, undefined)).toEqual([]);
    expect(c.checkResponse('DELETE', cluster, 200, undefined)).toEqual(['ManagedClusters_Delete: status 200 is not documented (documented: 202, 204, default)']);
    expect(c.checkResponse('DELETE', cluster, 204, { id: 'x' })).toEqual(['ManagedClusters_Delete: the 204 response is documented without a body']);
    expect(c.checkResponse('GET', cluster, 429, { error: { code: 'TooManyRequests', message: 'slow down' } })).toEqual([]);
    expect(c.checkResponse('GET', cluster, 500, 'gateway')).toEqual(['ManagedClusters_Get 500 response: / must be object']);
  });

  it('checks the operation monitors against the common OperationStatusResult, and lists operations without a copied definition', () => {
    const monitor = `/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westeurope/operations/abc`;
    expect(c.checkResponse('GET', monitor, 200, { name: 'abc', status: 'InProgress' })).toEqual([]);
    expect(c.checkResponse('GET', monitor, 200, { name: 'abc' })).toEqual(["ContainerService_OperationStatus 200 response: / must have required property 'status'"]);
    expect(c.resolve('GET', `/subscriptions/${SUB}/providers/Microsoft.Network/publicIPAddresses`)).toEqual({ kind: 'undefined-in-copies', operationId: 'PublicIPAddresses_ListAll' });
  });
});
