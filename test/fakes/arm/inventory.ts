/**
 * The FAKE ARM's compute and network inventory (part of test/fakes/arm/server.ts, kept apart so the cost endpoints
 * and these can change independently). Real REST paths, api-versions as the SDKs send them, JSON shapes with
 * `properties`, paging with `nextLink`, and long-running DELETE/PATCH the way Azure answers them: 202 Accepted with
 * `Azure-AsyncOperation` (the status monitor: {status: InProgress|Succeeded}) and `Location` (202 while running,
 * then the resource for a PATCH or 204 for a DELETE). The change itself lands when the operation completes.
 *
 * - GET    /subscriptions/{id}/providers/Microsoft.Compute/disks | snapshots            (paged)
 * - GET/PATCH/DELETE .../resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}
 * - GET/DELETE       .../resourceGroups/{rg}/providers/Microsoft.Compute/snapshots/{name}
 * - GET    /subscriptions/{id}/providers/Microsoft.Network/publicIPAddresses               (paged)
 * - GET/DELETE       .../resourceGroups/{rg}/providers/Microsoft.Network/publicIPAddresses/{name}
 * - GET    /subscriptions/{id}/providers/Microsoft.Compute/skus?$filter=location eq '{loc}'
 *
 * Refusals as Azure words them: deleting or re-SKUing an attached disk is 409 OperationNotAllowed, deleting an
 * associated public IP is 400 PublicIPAddressInUse, a missing resource is 404 ResourceNotFound (a DELETE of a
 * missing resource is 204, as ARM deletes are idempotent).
 */

export interface FakeDisk {
  name: string;
  resourceGroup: string;
  location: string;
  sku: 'Premium_LRS' | 'Premium_ZRS' | 'StandardSSD_LRS' | 'StandardSSD_ZRS' | 'Standard_LRS';
  sizeGb: number;
  state: 'Unattached' | 'Attached' | 'Reserved';
  /** The VM (or VMSS VM) id when attached. */
  managedBy?: string;
  timeCreated: string;
  tags?: Record<string, string>;
}

export interface FakeSnapshot {
  name: string;
  resourceGroup: string;
  location: string;
  sku: 'Standard_LRS' | 'Standard_ZRS' | 'Premium_LRS';
  sizeGb: number;
  timeCreated: string;
  sourceResourceId?: string;
  incremental: boolean;
  tags?: Record<string, string>;
}

export interface FakePublicIp {
  name: string;
  resourceGroup: string;
  location: string;
  sku: 'Standard' | 'Basic';
  allocation: 'Static' | 'Dynamic';
  ipAddress?: string;
  /** The NIC or load balancer frontend ipConfiguration using it: set means associated. */
  ipConfigurationId?: string;
  fqdn?: string;
  tags?: Record<string, string>;
}

export interface FakeVmSku {
  name: string;
  family: string;
  vCpus: number;
  memoryGb: number;
  /** Not offered to this subscription in the location (NotAvailableForSubscription). */
  restricted?: boolean;
}

export const DEFAULT_VM_SKUS: FakeVmSku[] = [
  { name: 'Standard_B2s', family: 'standardBSFamily', vCpus: 2, memoryGb: 4 },
  { name: 'Standard_B2ms', family: 'standardBSFamily', vCpus: 2, memoryGb: 8 },
  { name: 'Standard_B4ms', family: 'standardBSFamily', vCpus: 4, memoryGb: 16 },
  { name: 'Standard_B8ms', family: 'standardBSFamily', vCpus: 8, memoryGb: 32 },
  { name: 'Standard_D2s_v5', family: 'standardDSv5Family', vCpus: 2, memoryGb: 8 },
  { name: 'Standard_D4s_v5', family: 'standardDSv5Family', vCpus: 4, memoryGb: 16 },
  { name: 'Standard_D8s_v5', family: 'standardDSv5Family', vCpus: 8, memoryGb: 32 },
  { name: 'Standard_D16s_v5', family: 'standardDSv5Family', vCpus: 16, memoryGb: 64, restricted: true },
];

export interface InventoryResponse {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

export interface FakeInventory {
  setDisk(subscriptionId: string, d: FakeDisk): void;
  disk(subscriptionId: string, resourceGroup: string, name: string): FakeDisk | undefined;
  removeDisk(subscriptionId: string, resourceGroup: string, name: string): void;
  setSnapshot(subscriptionId: string, s: FakeSnapshot): void;
  snapshot(subscriptionId: string, resourceGroup: string, name: string): FakeSnapshot | undefined;
  setPublicIp(subscriptionId: string, p: FakePublicIp): void;
  publicIp(subscriptionId: string, resourceGroup: string, name: string): FakePublicIp | undefined;
  setVmSkus(skus: FakeVmSku[]): void;
  /** Items per page of the list endpoints (Azure pages at about 1000); default 100. */
  setListPageSize(n: number): void;
  /** How many status polls a long-running operation answers InProgress before Succeeded (default 1). */
  setLroPolls(n: number): void;
  /** Empties disks, snapshots and public IPs. */
  reset(): void;
}

const COMPUTE_API = '2025-01-02';
const NETWORK_API = '2025-05-01';

interface Operation {
  provider: 'Compute' | 'Network';
  pollsLeft: number;
  done: boolean;
  complete: () => void;
  /** The resource after a PATCH; undefined for a DELETE (204). */
  result: () => unknown;
  started: string;
}

const err = (status: number, code: string, message: string): InventoryResponse => ({ status, json: { error: { code, message } } });

export function createFakeInventory(opts: { baseUrl: () => string; subscriptionExists: (id: string) => boolean; now: () => Date }) {
  const disks = new Map<string, FakeDisk>();
  const snapshots = new Map<string, FakeSnapshot>();
  const ips = new Map<string, FakePublicIp>();
  const ops = new Map<string, Operation>();
  let skus = DEFAULT_VM_SKUS;
  let pageSize = 100;
  let lroPolls = 1;

  const key = (sub: string, rg: string, name: string) => `${sub}/${rg}/${name}`.toLowerCase();
  const subOf = (k: string) => k.split('/')[0] as string;
  const rid = (sub: string, rg: string, type: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/${type}/${name}`;

  const diskJson = (sub: string, d: FakeDisk) => ({
    id: rid(sub, d.resourceGroup, 'Microsoft.Compute/disks', d.name),
    name: d.name,
    type: 'Microsoft.Compute/disks',
    location: d.location,
    tags: d.tags ?? {},
    ...(d.managedBy ? { managedBy: d.managedBy } : {}),
    sku: { name: d.sku, tier: d.sku.startsWith('Premium') ? 'Premium' : 'Standard' },
    properties: {
      creationData: { createOption: 'Empty' },
      diskSizeGB: d.sizeGb,
      diskSizeBytes: d.sizeGb * 1024 ** 3,
      diskIOPSReadWrite: 500,
      diskMBpsReadWrite: d.sku.startsWith('Premium') ? 100 : 60,
      encryption: { type: 'EncryptionAtRestWithPlatformKey' },
      networkAccessPolicy: 'AllowAll',
      publicNetworkAccess: 'Enabled',
      timeCreated: d.timeCreated,
      provisioningState: 'Succeeded',
      diskState: d.state,
      uniqueId: crypto.randomUUID(),
    },
  });

  const snapshotJson = (sub: string, s: FakeSnapshot) => ({
    id: rid(sub, s.resourceGroup, 'Microsoft.Compute/snapshots', s.name),
    name: s.name,
    type: 'Microsoft.Compute/snapshots',
    location: s.location,
    tags: s.tags ?? {},
    sku: { name: s.sku, tier: 'Standard' },
    properties: {
      creationData: s.sourceResourceId ? { createOption: 'Copy', sourceResourceId: s.sourceResourceId } : { createOption: 'Empty' },
      diskSizeGB: s.sizeGb,
      incremental: s.incremental,
      timeCreated: s.timeCreated,
      provisioningState: 'Succeeded',
      diskState: 'Unattached',
    },
  });

  const ipJson = (sub: string, p: FakePublicIp) => ({
    id: rid(sub, p.resourceGroup, 'Microsoft.Network/publicIPAddresses', p.name),
    name: p.name,
    type: 'Microsoft.Network/publicIPAddresses',
    location: p.location,
    etag: `W/"${crypto.randomUUID()}"`,
    tags: p.tags ?? {},
    sku: { name: p.sku, tier: 'Regional' },
    properties: {
      provisioningState: 'Succeeded',
      publicIPAddressVersion: 'IPv4',
      publicIPAllocationMethod: p.allocation,
      idleTimeoutInMinutes: 4,
      ...(p.ipAddress ? { ipAddress: p.ipAddress } : {}),
      ...(p.ipConfigurationId ? { ipConfiguration: { id: p.ipConfigurationId } } : {}),
      ...(p.fqdn ? { dnsSettings: { domainNameLabel: p.fqdn.split('.')[0], fqdn: p.fqdn } } : {}),
      ipTags: [],
    },
  });

  const skuJson = (s: FakeVmSku, location: string) => ({
    resourceType: 'virtualMachines',
    name: s.name,
    tier: 'Standard',
    size: s.name.replace(/^Standard_/, ''),
    family: s.family,
    locations: [location],
    locationInfo: [{ location, zones: ['1', '2', '3'], zoneDetails: [] }],
    capabilities: [
      { name: 'vCPUs', value: String(s.vCpus) },
      { name: 'MemoryGB', value: String(s.memoryGb) },
      { name: 'MaxDataDiskCount', value: String(s.vCpus * 2) },
      { name: 'PremiumIO', value: 'True' },
    ],
    restrictions: s.restricted
      ? [{ type: 'Location', values: [location], restrictionInfo: { locations: [location] }, reasonCode: 'NotAvailableForSubscription' }]
      : [],
  });

  /** One page of a list, with a nextLink carrying the offset as $skiptoken (opaque to the client, like Azure's). */
  function page(path: string, search: URLSearchParams, items: unknown[]): InventoryResponse {
    const token = search.get('$skiptoken');
    const offset = token === null ? 0 : Number(token);
    if (!Number.isInteger(offset) || offset < 0) return err(400, 'InvalidSkipToken', 'The $skiptoken is invalid.');
    const end = offset + pageSize;
    const next = new URLSearchParams({ 'api-version': search.get('api-version') ?? '', $skiptoken: String(end) });
    return { status: 200, json: { value: items.slice(offset, end), ...(end < items.length ? { nextLink: `${opts.baseUrl()}${path}?${next.toString()}` } : {}) } };
  }

  /** 202 Accepted with both headers, as Compute and Network answer a DELETE or a PATCH that takes a while. */
  function accepted(sub: string, location: string, provider: Operation['provider'], complete: () => void, result: () => unknown, json?: unknown): InventoryResponse {
    const id = crypto.randomUUID();
    ops.set(id, { provider, pollsLeft: lroPolls, done: false, complete, result, started: opts.now().toISOString() });
    const base = `${opts.baseUrl()}/subscriptions/${sub}/providers/Microsoft.${provider}/locations/${location}`;
    const [status, results, api] = provider === 'Compute' ? ['DiskOperations', 'DiskOperations', COMPUTE_API] : ['operations', 'operationResults', NETWORK_API];
    return {
      status: 202,
      // Disks_Update documents its 202 with the disk as it is while the change runs; DELETEs have no body.
      ...(json === undefined ? {} : { json }),
      headers: {
        'azure-asyncoperation': `${base}/${status}/${id}?api-version=${api}`,
        location: `${base}/${results}/${id}?${provider === 'Compute' ? 'monitor=true&' : ''}api-version=${api}`,
        'retry-after': '0',
      },
    };
  }

  /** Advances an operation by one poll; true when it has completed. */
  function advance(op: Operation): boolean {
    if (!op.done) {
      if (op.pollsLeft > 0) op.pollsLeft -= 1;
      else {
        op.complete();
        op.done = true;
      }
    }
    return op.done;
  }

  function operation(kind: 'status' | 'result', id: string): InventoryResponse {
    const op = ops.get(id);
    if (!op) return err(404, 'ResourceNotFound', `The operation '${id}' was not found.`);
    const done = advance(op);
    if (kind === 'status') {
      return { status: 200, json: { name: id, status: done ? 'Succeeded' : 'InProgress', startTime: op.started, ...(done ? { endTime: opts.now().toISOString() } : {}) } };
    }
    if (!done) return { status: 202, headers: { 'retry-after': '0' } };
    const body = op.result();
    return body === undefined ? { status: 204 } : { status: 200, json: body };
  }

  async function route(method: string, path: string, search: URLSearchParams, body: unknown): Promise<InventoryResponse | undefined> {
    const lower = path.toLowerCase();
    const sub = /^\/subscriptions\/([^/]+)\//.exec(lower)?.[1];
    if (!sub) return undefined;
    const unknownSub = () => err(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);

    let m = /^\/subscriptions\/[^/]+\/providers\/microsoft\.(compute|network)\/locations\/([^/]+)\/(diskoperations|operations|operationresults)\/([^/]+)$/.exec(lower);
    if (m && method === 'GET') {
      const monitor = search.get('monitor') === 'true' || m[3] === 'operationresults';
      return operation(monitor ? 'result' : 'status', m[4] as string);
    }
    m = /^\/subscriptions\/[^/]+\/providers\/microsoft\.compute\/(disks|snapshots)$/.exec(lower);
    if (m && method === 'GET') {
      if (!opts.subscriptionExists(sub)) return unknownSub();
      const items = m[1] === 'disks'
        ? [...disks.entries()].filter(([k]) => subOf(k) === sub).map(([, d]) => diskJson(sub, d))
        : [...snapshots.entries()].filter(([k]) => subOf(k) === sub).map(([, s]) => snapshotJson(sub, s));
      return page(path, search, items);
    }
    m = /^\/subscriptions\/[^/]+\/providers\/microsoft\.network\/publicipaddresses$/.exec(lower);
    if (m && method === 'GET') {
      if (!opts.subscriptionExists(sub)) return unknownSub();
      return page(path, search, [...ips.entries()].filter(([k]) => subOf(k) === sub).map(([, p]) => ipJson(sub, p)));
    }
    m = /^\/subscriptions\/[^/]+\/providers\/microsoft\.compute\/skus$/.exec(lower);
    if (m && method === 'GET') {
      if (!opts.subscriptionExists(sub)) return unknownSub();
      const filter = /^location eq '([^']+)'$/.exec(search.get('$filter') ?? '');
      const locations = filter ? [filter[1] as string] : ['westeurope', 'northeurope'];
      const vm = locations.flatMap((l) => skus.map((s) => skuJson(s, l)));
      const diskSku = { resourceType: 'disks', name: 'Premium_LRS', tier: 'Premium', size: 'P10', locations, capabilities: [], restrictions: [] };
      return { status: 200, json: { value: [diskSku, ...vm] } };
    }

    m = /^\/subscriptions\/[^/]+\/resourcegroups\/([^/]+)\/providers\/microsoft\.(compute\/disks|compute\/snapshots|network\/publicipaddresses)\/([^/]+)$/.exec(lower);
    if (!m) return undefined;
    if (!opts.subscriptionExists(sub)) return unknownSub();
    const [, rg, type, name] = m as unknown as [string, string, string, string];
    const k = key(sub, rg, name);
    const typeName = { 'compute/disks': 'Microsoft.Compute/disks', 'compute/snapshots': 'Microsoft.Compute/snapshots', 'network/publicipaddresses': 'Microsoft.Network/publicIPAddresses' }[type];
    const notFound = () => err(404, 'ResourceNotFound', `The Resource '${typeName}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);

    if (type === 'compute/disks') {
      const d = disks.get(k);
      if (method === 'GET') return d ? { status: 200, json: diskJson(sub, d) } : notFound();
      if (method === 'DELETE') {
        if (!d) return { status: 204 };
        if (d.state === 'Attached' || d.managedBy) return err(409, 'OperationNotAllowed', `Disk ${d.name} is attached to VM ${d.managedBy ?? 'unknown'}.`);
        return accepted(sub, d.location, 'Compute', () => disks.delete(k), () => undefined);
      }
      if (method === 'PATCH') {
        if (!d) return notFound();
        const patch = body as { sku?: { name?: string } } | undefined;
        const skuName = patch?.sku?.name;
        if (skuName !== undefined && !['Premium_LRS', 'Premium_ZRS', 'StandardSSD_LRS', 'StandardSSD_ZRS', 'Standard_LRS'].includes(skuName)) {
          return err(400, 'InvalidParameter', `The value '${skuName}' of parameter 'sku.name' is not valid.`);
        }
        if (skuName && d.managedBy) {
          return err(409, 'OperationNotAllowed', `Cannot change account type of disk ${d.name} while it is attached to running VM ${d.managedBy}.`);
        }
        return accepted(sub, d.location, 'Compute', () => {
          if (skuName) d.sku = skuName as FakeDisk['sku'];
        }, () => diskJson(sub, d), diskJson(sub, d));
      }
    }
    if (type === 'compute/snapshots') {
      const s = snapshots.get(k);
      if (method === 'GET') return s ? { status: 200, json: snapshotJson(sub, s) } : notFound();
      if (method === 'DELETE') return s ? accepted(sub, s.location, 'Compute', () => snapshots.delete(k), () => undefined) : { status: 204 };
    }
    if (type === 'network/publicipaddresses') {
      const p = ips.get(k);
      if (method === 'GET') return p ? { status: 200, json: ipJson(sub, p) } : notFound();
      if (method === 'DELETE') {
        if (!p) return { status: 204 };
        if (p.ipConfigurationId) {
          return err(400, 'PublicIPAddressInUse', `Public IP address ${ipJson(sub, p).id} can not be deleted since it is still allocated to resource ${p.ipConfigurationId}.`);
        }
        return accepted(sub, p.location, 'Network', () => ips.delete(k), () => undefined);
      }
    }
    return err(405, 'MethodNotAllowed', `The fake ARM does not serve ${method} ${path}.`);
  }

  const state: FakeInventory = {
    setDisk: (s, d) => disks.set(key(s, d.resourceGroup, d.name), d),
    disk: (s, rg, n) => disks.get(key(s, rg, n)),
    removeDisk: (s, rg, n) => disks.delete(key(s, rg, n)),
    setSnapshot: (s, x) => snapshots.set(key(s, x.resourceGroup, x.name), x),
    snapshot: (s, rg, n) => snapshots.get(key(s, rg, n)),
    setPublicIp: (s, p) => ips.set(key(s, p.resourceGroup, p.name), p),
    publicIp: (s, rg, n) => ips.get(key(s, rg, n)),
    setVmSkus: (v) => {
      skus = v;
    },
    setListPageSize: (n) => {
      pageSize = n;
    },
    setLroPolls: (n) => {
      lroPolls = n;
    },
    reset: () => {
      disks.clear();
      snapshots.clear();
      ips.clear();
      skus = DEFAULT_VM_SKUS;
      pageSize = 100;
      lroPolls = 1;
    },
  };
  return { state, route };
}
