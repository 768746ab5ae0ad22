/**
 * The FAKE ARM's disk snapshots and disks made from them (part of test/fakes/arm/server.ts), as DiskRP 2025-01-02
 * defines them and @azure/arm-compute sends them:
 *
 * - PUT    .../resourceGroups/{rg}/providers/Microsoft.Compute/snapshots/{name}   Snapshots_CreateOrUpdate
 *          {location, tags, properties: {creationData: {createOption: Copy, sourceResourceId: <disk id>}, incremental}}
 * - GET the same path (DELETE: inventory.ts); GET .../resourceGroups/{rg}/providers/Microsoft.Compute/snapshots (paged)
 * - PUT    .../resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}       Disks_CreateOrUpdate
 *          {location, zones?, sku, properties: {creationData: {createOption: Copy, sourceResourceId: <snapshot id>}}}
 * - GET    .../disks/{name}
 *
 * Creates are long-running the way Compute answers them: 202 Accepted (the resource as it is being created) with
 * Azure-AsyncOperation (the status
 * monitor .../locations/{loc}/DiskOperations/{id}: InProgress, then Succeeded or Failed with an error) and Location
 * (the same with monitor=true). The resource shows provisioningState Creating meanwhile and Succeeded (or Failed)
 * when the operation completes; the SDK then reads the resource itself (final state of a PUT: the request URL).
 * Refusals as Azure words them: a missing source is 404 ResourceNotFound in the body's words, an incremental
 * snapshot in another region than its disk or an unknown createOption or SKU is 400 InvalidParameter. It shares
 * its disks and snapshots with the inventory (inventory.ts), so subscription lists and deletes see them too.
 *
 * Its operations are its own rather than the server's shared long-running helper: tests hold one operation
 * InProgress while another completes (a run dying between two steps) and make one end Failed with Azure's error,
 * which the shared helper does not offer. Registered through routes.ts; tests reach it with fakeCompute(arm).
 */
import type { FakeDisk, FakeInventory, FakeSnapshot, InventoryResponse } from './inventory.js';
import { registerRoutes } from './routes.js';

export interface FakeComputeContext {
  readonly baseUrl: () => string;
  readonly subscriptionExists: (id: string) => boolean;
  readonly now: () => Date;
}

/** The snapshot and disk state of a fake ARM, for tests (the state of the route module "compute"). */
export function fakeCompute(arm: { module<T>(name: string): T }): FakeCompute {
  return arm.module<FakeCompute>('compute');
}

const COMPUTE_API = '2025-01-02';
const DISK_SKUS = ['Standard_LRS', 'Premium_LRS', 'StandardSSD_LRS', 'UltraSSD_LRS', 'Premium_ZRS', 'StandardSSD_ZRS', 'PremiumV2_LRS'];
const SNAPSHOT_SKUS = ['Standard_LRS', 'Premium_LRS', 'Standard_ZRS'];

/** A create the fake accepted, for tests that check what was started and polled. */
export interface FakeComputeOperation {
  readonly id: string;
  readonly kind: 'snapshot' | 'disk';
  /** Subscription/group/name, lowercase. */
  readonly resource: string;
  readonly statusUrl: string;
  /** Status polls still answered InProgress (Infinity: until the test sets it lower). */
  pollsLeft: number;
  polls: number;
  done: boolean;
  /** When set, the operation ends Failed with this error. */
  failWith: { code: string; message: string } | undefined;
}

export interface FakeCompute {
  /** PUTs received per kind, whatever their answer: a resumed run must not add one. */
  readonly puts: { snapshot: number; disk: number };
  readonly operations: FakeComputeOperation[];
  /** How many status polls a new operation answers InProgress before it completes (default 1). */
  setOperationPolls(n: number): void;
  /** The next `times` creates whose resource name matches end Failed with this error. */
  failNext(match: RegExp, error: { code: string; message: string }, times?: number): void;
  /** provisioningState of a snapshot or disk this fake created (undefined for ones set through the inventory). */
  state(kind: 'snapshot' | 'disk', subscriptionId: string, resourceGroup: string, name: string): string | undefined;
  /** A snapshot that exists already (e.g. an old one for retention), listed by its group too. */
  addSnapshot(subscriptionId: string, s: FakeSnapshot): void;
  /** The zones and source of a disk this fake created. */
  diskExtras(subscriptionId: string, resourceGroup: string, name: string): { zones: string[]; sourceResourceId: string } | undefined;
  reset(): void;
}

interface Extras {
  provisioningState: string;
  zones: string[];
  sourceResourceId?: string;
  incrementalFamily?: string;
}

const err = (status: number, code: string, message: string): InventoryResponse => ({ status, json: { error: { code, message } } });

export function createFakeCompute(opts: FakeComputeContext & { inventory: FakeInventory; pageSize?: number }) {
  const inv = opts.inventory;
  const extras = new Map<string, Extras>();
  const ops = new Map<string, FakeComputeOperation & { complete: (ok: boolean) => void; started: string }>();
  const operations: FakeComputeOperation[] = [];
  const puts = { snapshot: 0, disk: 0 };
  /** The snapshots a group lists: those PUT here or added through addSnapshot (the inventory keeps the data). */
  const names = new Set<string>();
  const failures: { match: RegExp; error: { code: string; message: string }; times: number }[] = [];
  let polls = 1;

  const key = (kind: string, sub: string, rg: string, name: string) => `${kind}:${sub}/${rg}/${name}`.toLowerCase();
  const rid = (sub: string, rg: string, type: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/${type}/${name}`;

  function snapshotJson(sub: string, s: FakeSnapshot) {
    const x = extras.get(key('snapshot', sub, s.resourceGroup, s.name));
    return {
      id: rid(sub, s.resourceGroup, 'snapshots', s.name),
      name: s.name,
      type: 'Microsoft.Compute/snapshots',
      location: s.location,
      tags: s.tags ?? {},
      sku: { name: s.sku, tier: 'Standard' },
      properties: {
        creationData: s.sourceResourceId ? { createOption: 'Copy', sourceResourceId: s.sourceResourceId } : { createOption: 'Empty' },
        diskSizeGB: s.sizeGb,
        diskSizeBytes: s.sizeGb * 1024 ** 3,
        incremental: s.incremental,
        ...(x?.incrementalFamily ? { incrementalSnapshotFamilyId: x.incrementalFamily } : {}),
        timeCreated: s.timeCreated,
        provisioningState: x?.provisioningState ?? 'Succeeded',
        diskState: 'Unattached',
        encryption: { type: 'EncryptionAtRestWithPlatformKey' },
        networkAccessPolicy: 'AllowAll',
        publicNetworkAccess: 'Enabled',
        ...(s.incremental ? { completionPercent: x?.provisioningState === 'Succeeded' || !x ? 100 : 0 } : {}),
      },
    };
  }

  function diskJson(sub: string, d: FakeDisk) {
    const x = extras.get(key('disk', sub, d.resourceGroup, d.name));
    return {
      id: rid(sub, d.resourceGroup, 'disks', d.name),
      name: d.name,
      type: 'Microsoft.Compute/disks',
      location: d.location,
      tags: d.tags ?? {},
      ...(x?.zones.length ? { zones: x.zones } : {}),
      ...(d.managedBy ? { managedBy: d.managedBy } : {}),
      sku: { name: d.sku, tier: d.sku.startsWith('Premium') ? 'Premium' : 'Standard' },
      properties: {
        creationData: x?.sourceResourceId ? { createOption: 'Copy', sourceResourceId: x.sourceResourceId } : { createOption: 'Empty' },
        diskSizeGB: d.sizeGb,
        diskSizeBytes: d.sizeGb * 1024 ** 3,
        timeCreated: d.timeCreated,
        provisioningState: x?.provisioningState ?? 'Succeeded',
        diskState: d.state,
        encryption: { type: 'EncryptionAtRestWithPlatformKey' },
        networkAccessPolicy: 'AllowAll',
        publicNetworkAccess: 'Enabled',
      },
    };
  }

  /** 202 Accepted with the resource as it is being created (DiskRP defines the 202's body), the status monitor and the Location. */
  function accepted(kind: FakeComputeOperation['kind'], sub: string, resource: string, name: string, location: string, complete: (ok: boolean) => void, json: unknown): InventoryResponse {
    const id = crypto.randomUUID();
    const base = `${opts.baseUrl()}/subscriptions/${sub}/providers/Microsoft.Compute/locations/${location.toLowerCase()}/DiskOperations/${id}`;
    const fail = failures.find((f) => f.times > 0 && f.match.test(name));
    if (fail) fail.times -= 1;
    const op = { id, kind, resource, statusUrl: `${base}?p=${id}&api-version=${COMPUTE_API}`, pollsLeft: polls, polls: 0, done: false, failWith: fail?.error, complete, started: opts.now().toISOString() };
    ops.set(id, op);
    operations.push(op);
    return { status: 202, json, headers: { 'azure-asyncoperation': op.statusUrl, location: `${base}?p=${id}&monitor=true&api-version=${COMPUTE_API}`, 'retry-after': '0' } };
  }

  function poll(id: string, monitor: boolean): InventoryResponse {
    const op = ops.get(id);
    if (!op) return err(404, 'ResourceNotFound', `The operation '${id}' was not found.`);
    op.polls += 1;
    if (!op.done) {
      if (op.pollsLeft > 0) op.pollsLeft -= 1;
      else {
        op.done = true;
        op.complete(!op.failWith);
      }
    }
    if (monitor) return op.done ? { status: 200, json: op.failWith ? { error: op.failWith } : undefined } : { status: 202, headers: { 'retry-after': '0' } };
    const status = !op.done ? 'InProgress' : op.failWith ? 'Failed' : 'Succeeded';
    return {
      status: 200,
      json: { name: id, status, startTime: op.started, ...(op.done ? { endTime: opts.now().toISOString() } : {}), ...(op.failWith ? { error: op.failWith } : {}) },
    };
  }

  type Body = { location?: unknown; tags?: unknown; zones?: unknown; sku?: { name?: unknown }; properties?: { creationData?: { createOption?: unknown; sourceResourceId?: unknown }; incremental?: unknown } };

  function putSnapshot(sub: string, rg: string, name: string, body: Body): InventoryResponse {
    puts.snapshot += 1;
    const cd = body.properties?.creationData;
    if (typeof body.location !== 'string' || !body.location) return err(400, 'InvalidParameter', "Required parameter 'location' is missing (null).");
    if (cd?.createOption !== 'Copy') return err(400, 'InvalidParameter', `The value '${String(cd?.createOption)}' of parameter 'creationData.createOption' is not supported by the fake; use Copy.`);
    const src = typeof cd.sourceResourceId === 'string' ? /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/disks\/([^/]+)$/i.exec(cd.sourceResourceId) : null;
    if (!src) return err(400, 'InvalidParameter', "Parameter 'creationData.sourceResourceId' must be the id of a managed disk.");
    const disk = inv.disk(src[1]!, src[2]!, src[3]!);
    if (!disk) return err(404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/disks/${src[3]}' under resource group '${src[2]}' was not found.`);
    if (body.properties?.incremental !== true) return err(400, 'InvalidParameter', 'The fake only makes incremental snapshots (properties.incremental: true).');
    if (disk.location.toLowerCase() !== body.location.toLowerCase()) {
      return err(400, 'InvalidParameter', `An incremental snapshot must be in the region of its disk (${disk.location}); copy it across regions with CopyStart.`);
    }
    const sku = body.sku?.name ?? 'Standard_LRS';
    if (typeof sku !== 'string' || !SNAPSHOT_SKUS.includes(sku)) return err(400, 'InvalidParameter', `The value '${String(sku)}' of parameter 'sku.name' is not valid.`);
    const k = key('snapshot', sub, rg, name);
    const x: Extras = { provisioningState: 'Creating', zones: [], incrementalFamily: `family-${src[3]!.toLowerCase()}` };
    extras.set(k, x);
    names.add(k);
    inv.setSnapshot(sub, {
      name,
      resourceGroup: rg,
      location: body.location,
      sku: sku as FakeSnapshot['sku'],
      sizeGb: disk.sizeGb,
      timeCreated: opts.now().toISOString(),
      sourceResourceId: cd.sourceResourceId as string,
      incremental: true,
      tags: (body.tags ?? {}) as Record<string, string>,
    });
    return accepted('snapshot', sub, k, name, body.location, (ok) => {
      x.provisioningState = ok ? 'Succeeded' : 'Failed';
    }, snapshotJson(sub, inv.snapshot(sub, rg, name)!));
  }

  function putDisk(sub: string, rg: string, name: string, body: Body): InventoryResponse {
    puts.disk += 1;
    const cd = body.properties?.creationData;
    if (typeof body.location !== 'string' || !body.location) return err(400, 'InvalidParameter', "Required parameter 'location' is missing (null).");
    if (cd?.createOption !== 'Copy') return err(400, 'InvalidParameter', `The value '${String(cd?.createOption)}' of parameter 'creationData.createOption' is not supported by the fake; use Copy.`);
    const src = typeof cd.sourceResourceId === 'string' ? /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/snapshots\/([^/]+)$/i.exec(cd.sourceResourceId) : null;
    if (!src) return err(400, 'InvalidParameter', "Parameter 'creationData.sourceResourceId' must be the id of a snapshot.");
    const snap = inv.snapshot(src[1]!, src[2]!, src[3]!);
    if (!snap) return err(404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/snapshots/${src[3]}' under resource group '${src[2]}' was not found.`);
    if (snap.location.toLowerCase() !== body.location.toLowerCase()) return err(400, 'InvalidParameter', `The disk must be in the region of its snapshot (${snap.location}).`);
    const sku = body.sku?.name ?? 'Standard_LRS';
    if (typeof sku !== 'string' || !DISK_SKUS.includes(sku)) return err(400, 'InvalidParameter', `The value '${String(sku)}' of parameter 'sku.name' is not valid.`);
    const zones = Array.isArray(body.zones) ? body.zones.map(String) : [];
    if (zones.length > 1 || zones.some((z) => !['1', '2', '3'].includes(z))) return err(400, 'InvalidParameter', 'A disk has at most one zone, 1, 2 or 3.');
    if (zones.length && sku.endsWith('_ZRS')) return err(400, 'InvalidParameter', 'A zone-redundant disk (ZRS) takes no zone.');
    const k = key('disk', sub, rg, name);
    const x: Extras = { provisioningState: 'Creating', zones, sourceResourceId: cd.sourceResourceId as string };
    extras.set(k, x);
    inv.setDisk(sub, { name, resourceGroup: rg, location: body.location, sku: sku as FakeDisk['sku'], sizeGb: snap.sizeGb, state: 'Unattached', timeCreated: opts.now().toISOString(), tags: (body.tags ?? {}) as Record<string, string> });
    return accepted('disk', sub, k, name, body.location, (ok) => {
      x.provisioningState = ok ? 'Succeeded' : 'Failed';
    }, diskJson(sub, inv.disk(sub, rg, name)!));
  }

  async function route(method: string, path: string, search: URLSearchParams, body: unknown): Promise<InventoryResponse | undefined> {
    const lower = path.toLowerCase();
    let m = /^\/subscriptions\/[^/]+\/providers\/microsoft\.compute\/locations\/[^/]+\/diskoperations\/([^/]+)$/.exec(lower);
    if (m && method === 'GET' && ops.has(m[1]!)) return poll(m[1]!, search.get('monitor') === 'true');
    m = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.compute\/snapshots$/.exec(lower);
    if (m && method === 'GET') {
      const [, sub, rg] = m as unknown as [string, string, string];
      if (!opts.subscriptionExists(sub)) return err(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
      const items: unknown[] = [];
      for (const k of [...names].sort()) {
        const [, rest] = k.split(':') as [string, string];
        const [kSub, kRg, kName] = rest.split('/') as [string, string, string];
        const s = kSub === sub && kRg === rg ? inv.snapshot(kSub, kRg, kName) : undefined;
        if (s) items.push(snapshotJson(sub, s));
      }
      const token = search.get('$skiptoken');
      const offset = token === null ? 0 : Number(token);
      const size = opts.pageSize ?? 100;
      const next = new URLSearchParams({ 'api-version': search.get('api-version') ?? '', $skiptoken: String(offset + size) });
      return { status: 200, json: { value: items.slice(offset, offset + size), ...(offset + size < items.length ? { nextLink: `${opts.baseUrl()}${path}?${next.toString()}` } : {}) } };
    }
    m = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.compute\/(snapshots|disks)\/([^/]+)$/.exec(lower);
    if (!m) return undefined;
    const [, sub, rgLower, type, nameLower] = m as unknown as [string, string, string, string, string];
    // keep the caller's spelling of names, as ARM does
    const parts = path.split('/');
    const rg = parts[4] ?? rgLower;
    const name = parts[8] ?? nameLower;
    if (!opts.subscriptionExists(sub)) return err(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
    if (search.get('api-version') !== COMPUTE_API) return err(400, 'InvalidApiVersionParameter', `The fake serves Microsoft.Compute/${type} at api-version ${COMPUTE_API} (DiskRP), not ${String(search.get('api-version'))}.`);
    const notFound = () => err(404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    const b = (body ?? {}) as Body;
    if (type === 'snapshots') {
      if (method === 'PUT') return putSnapshot(sub, rg, name, b);
      const s = inv.snapshot(sub, rg, name);
      if (method === 'GET') return s ? { status: 200, json: snapshotJson(sub, s) } : notFound();
      return undefined; // DELETE: the inventory's
    }
    if (method === 'PUT') return putDisk(sub, rg, name, b);
    if (method === 'GET') {
      const d = inv.disk(sub, rg, name);
      return d ? { status: 200, json: diskJson(sub, d) } : notFound();
    }
    return undefined; // PATCH and DELETE of disks: the inventory's
  }

  const state: FakeCompute = {
    puts,
    operations,
    setOperationPolls: (n) => {
      polls = n;
    },
    failNext: (match, error, times = 1) => {
      failures.push({ match, error, times });
    },
    addSnapshot: (sub, s) => {
      inv.setSnapshot(sub, s);
      names.add(key('snapshot', sub, s.resourceGroup, s.name));
    },
    state: (kind, sub, rg, name) => extras.get(key(kind, sub, rg, name))?.provisioningState,
    diskExtras: (sub, rg, name) => {
      const x = extras.get(key('disk', sub, rg, name));
      return x ? { zones: x.zones, sourceResourceId: x.sourceResourceId ?? '' } : undefined;
    },
    reset: () => {
      extras.clear();
      names.clear();
      ops.clear();
      operations.length = 0;
      failures.length = 0;
      puts.snapshot = 0;
      puts.disk = 0;
      polls = 1;
    },
  };
  return { state, route };
}

// Consulted before the fake's built-in routes (routes.ts): it answers its own creates, reads and operations, and
// leaves DELETE and PATCH to the inventory.
registerRoutes({
  name: 'compute',
  create: (ctx) => {
    const c = createFakeCompute({ inventory: ctx.inventory, baseUrl: () => ctx.baseUrl(), subscriptionExists: (id) => ctx.subscriptionExists(id), now: () => ctx.now() });
    return { route: (req) => c.route(req.method, req.path, req.search, req.body), state: c.state };
  },
});
