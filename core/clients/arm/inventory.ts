// What cost recommendations read and change in Azure, through the unmodified SDK clients: managed disks, snapshots
// and VM sizes (@azure/arm-compute), public IPs (@azure/arm-network), agent pools (@azure/arm-containerservice).
// Every answer is validated to the fields used (STYLE §7) and every failure is a coded error. Nothing outside
// core/clients/arm sees an SDK type.
import { ComputeManagementClient } from '@azure/arm-compute';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { NetworkManagementClient } from '@azure/arm-network';
import { z } from 'zod';
import { AppError } from '../../errors/app-error.js';
import type { Logger } from '../../log/logger.js';
import { armClientOptions, type ArmClientOptions } from './clients.js';
import { statusOf, toAzureError } from './errors.js';

export interface DiskInfo {
  readonly id: string;
  readonly name: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly sku: string;
  readonly sizeGb: number;
  /** Unattached, Attached, Reserved, ActiveSAS, … */
  readonly state: string;
  readonly managedBy: string | undefined;
  readonly timeCreated: Date | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

export interface SnapshotInfo {
  readonly id: string;
  readonly name: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly sku: string | undefined;
  readonly sizeGb: number;
  readonly timeCreated: Date | undefined;
  readonly sourceResourceId: string | undefined;
  readonly incremental: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

export interface PublicIpInfo {
  readonly id: string;
  readonly name: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly sku: string | undefined;
  readonly allocation: string | undefined;
  readonly ipAddress: string | undefined;
  /** The ipConfiguration (NIC, load balancer frontend) or NAT gateway that uses it; undefined: unassociated. */
  readonly associatedWith: string | undefined;
  readonly fqdn: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

export interface AgentPoolDetail {
  readonly name: string;
  readonly count: number;
  readonly vmSize: string;
  readonly mode: string | undefined;
  readonly enableAutoScaling: boolean;
  readonly minCount: number | undefined;
  readonly maxCount: number | undefined;
}

export interface VmSizeInfo {
  readonly name: string;
  readonly family: string | undefined;
  readonly vCpus: number;
  readonly memoryGb: number;
  /** Not offered to this subscription in the location. */
  readonly restricted: boolean;
}

export interface AzureInventory {
  readonly subscriptionId: string;
  listDisks(): Promise<DiskInfo[]>;
  /** undefined: it no longer exists. */
  getDisk(id: string): Promise<DiskInfo | undefined>;
  deleteDisk(id: string): Promise<void>;
  setDiskSku(id: string, sku: string): Promise<DiskInfo>;
  listSnapshots(): Promise<SnapshotInfo[]>;
  getSnapshot(id: string): Promise<SnapshotInfo | undefined>;
  deleteSnapshot(id: string): Promise<void>;
  listPublicIps(): Promise<PublicIpInfo[]>;
  getPublicIp(id: string): Promise<PublicIpInfo | undefined>;
  deletePublicIp(id: string): Promise<void>;
  /** undefined: the cluster does not exist (torn down). */
  listAgentPools(resourceGroup: string, cluster: string): Promise<AgentPoolDetail[] | undefined>;
  /** Virtual machine sizes offered in a region, with their vCPUs and memory (resource SKUs API). */
  listVmSizes(location: string): Promise<VmSizeInfo[]>;
}

export interface InventoryClients {
  readonly subscriptionId: string;
  readonly compute: ComputeManagementClient;
  readonly network: NetworkManagementClient;
  readonly aks: ContainerServiceClient;
}

/** The clients the recommendations read and apply through, with the same options as the cost and status ones. */
export function createInventoryClients(opts: ArmClientOptions): InventoryClients {
  const common = armClientOptions(opts);
  return {
    subscriptionId: opts.subscriptionId,
    compute: new ComputeManagementClient(opts.credential, opts.subscriptionId, common),
    network: new NetworkManagementClient(opts.credential, opts.subscriptionId, common),
    aks: new ContainerServiceClient(opts.credential, opts.subscriptionId, common),
  };
}

const tags = z.record(z.string(), z.string()).nullish();
const date = z.date().refine((d) => !Number.isNaN(d.getTime()), 'an invalid date').optional();
const diskSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  location: z.string().min(1),
  tags,
  managedBy: z.string().nullish(),
  sku: z.object({ name: z.string().min(1) }),
  diskSizeGB: z.number().nonnegative(),
  diskState: z.string().min(1),
  timeCreated: date,
});
const snapshotSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  location: z.string().min(1),
  tags,
  sku: z.object({ name: z.string().optional() }).optional(),
  diskSizeGB: z.number().nonnegative(),
  timeCreated: date,
  incremental: z.boolean().optional(),
  creationData: z.object({ sourceResourceId: z.string().optional() }).optional(),
});
const publicIpSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  location: z.string().min(1),
  tags,
  sku: z.object({ name: z.string().optional() }).optional(),
  publicIPAllocationMethod: z.string().optional(),
  ipAddress: z.string().optional(),
  ipConfiguration: z.object({ id: z.string().optional() }).optional(),
  natGateway: z.object({ id: z.string().optional() }).optional(),
  dnsSettings: z.object({ fqdn: z.string().optional() }).optional(),
});
const agentPoolSchema = z.object({
  name: z.string().min(1),
  count: z.number().int().nonnegative(),
  vmSize: z.string().min(1),
  mode: z.string().optional(),
  enableAutoScaling: z.boolean().optional(),
  minCount: z.number().int().nullish(),
  maxCount: z.number().int().nullish(),
});
const skuSchema = z.object({
  resourceType: z.string().optional(),
  name: z.string().optional(),
  family: z.string().optional(),
  locations: z.array(z.string()).optional(),
  capabilities: z.array(z.object({ name: z.string().optional(), value: z.string().optional() })).optional(),
  restrictions: z.array(z.object({ type: z.string().optional(), values: z.array(z.string()).optional(), reasonCode: z.string().optional() })).optional(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, operation: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues });
  }
  return r.data;
}

/** The parts of an ARM resource id: /subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}. */
export function parseResourceId(id: string): { subscriptionId: string; resourceGroup: string; type: string; name: string } | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\/([^/]+)$/i.exec(id);
  if (!m) return undefined;
  return { subscriptionId: m[1] as string, resourceGroup: m[2] as string, type: (m[3] as string).toLowerCase(), name: m[4] as string };
}

export interface InventoryDeps {
  readonly clients: InventoryClients;
  readonly environment: string;
  readonly log: Logger;
  /** Interval between polls of a long-running operation when Azure sends no Retry-After; tests make it short. */
  readonly pollIntervalMs?: number;
}

export function createAzureInventory(deps: InventoryDeps): AzureInventory {
  const { clients, environment, log } = deps;
  const lro = { updateIntervalInMs: deps.pollIntervalMs ?? 5000 };

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // The SDK's deserializers run on whatever came back: a body of the wrong shape surfaces as a TypeError
      // (e.g. "value" is not a list), which is an answer we do not understand, not a failed request.
      if (err instanceof TypeError || err instanceof SyntaxError) {
        throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues: err.message }, { cause: err });
      }
      throw toAzureError(err, operation, environment);
    }
  }

  async function all<T>(operation: string, it: () => AsyncIterable<T>): Promise<T[]> {
    return call(operation, async () => {
      const out: T[] = [];
      for await (const x of it()) out.push(x);
      return out;
    });
  }

  /** A GET that answers 404 for a resource that is gone, which callers treat as "no longer there". */
  async function getOrUndefined<T>(operation: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      return call(operation, () => Promise.reject(err as Error));
    }
  }

  function target(id: string, type: string, operation: string) {
    const p = parseResourceId(id);
    if (!p || p.type !== type || p.subscriptionId.toLowerCase() !== clients.subscriptionId.toLowerCase()) {
      throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues: `${id} is not a ${type} of subscription ${clients.subscriptionId}` });
    }
    return p;
  }

  const rgOf = (id: string) => parseResourceId(id)?.resourceGroup ?? '';
  const toDisk = (raw: unknown, op: string): DiskInfo => {
    const d = parse(diskSchema, raw, op);
    return {
      id: d.id,
      name: d.name,
      resourceGroup: rgOf(d.id),
      location: d.location,
      sku: d.sku.name,
      sizeGb: d.diskSizeGB,
      state: d.diskState,
      managedBy: d.managedBy ?? undefined,
      timeCreated: d.timeCreated,
      tags: d.tags ?? {},
    };
  };
  const toSnapshot = (raw: unknown, op: string): SnapshotInfo => {
    const s = parse(snapshotSchema, raw, op);
    return {
      id: s.id,
      name: s.name,
      resourceGroup: rgOf(s.id),
      location: s.location,
      sku: s.sku?.name,
      sizeGb: s.diskSizeGB,
      timeCreated: s.timeCreated,
      sourceResourceId: s.creationData?.sourceResourceId,
      incremental: s.incremental ?? false,
      tags: s.tags ?? {},
    };
  };
  const toIp = (raw: unknown, op: string): PublicIpInfo => {
    const p = parse(publicIpSchema, raw, op);
    return {
      id: p.id,
      name: p.name,
      resourceGroup: rgOf(p.id),
      location: p.location,
      sku: p.sku?.name,
      allocation: p.publicIPAllocationMethod,
      ipAddress: p.ipAddress,
      associatedWith: p.ipConfiguration?.id ?? p.natGateway?.id,
      fqdn: p.dnsSettings?.fqdn,
      tags: p.tags ?? {},
    };
  };

  return {
    subscriptionId: clients.subscriptionId,

    async listDisks() {
      const op = 'GET disks';
      return (await all(op, () => clients.compute.disks.list())).map((d) => toDisk(d, op));
    },
    async getDisk(id) {
      const op = 'GET disk';
      const t = target(id, 'microsoft.compute/disks', op);
      const raw = await getOrUndefined(op, () => clients.compute.disks.get(t.resourceGroup, t.name));
      return raw === undefined ? undefined : toDisk(raw, op);
    },
    async deleteDisk(id) {
      const op = 'DELETE disk';
      const t = target(id, 'microsoft.compute/disks', op);
      await call(op, () => clients.compute.disks.delete(t.resourceGroup, t.name, lro).pollUntilDone());
      log.info({ environment, disk: id }, 'disk deleted');
    },
    async setDiskSku(id, sku) {
      const op = 'PATCH disk sku';
      const t = target(id, 'microsoft.compute/disks', op);
      const raw = await call(op, () => clients.compute.disks.update(t.resourceGroup, t.name, { sku: { name: sku } }, lro).pollUntilDone());
      log.info({ environment, disk: id, sku }, 'disk sku changed');
      return toDisk(raw, op);
    },

    async listSnapshots() {
      const op = 'GET snapshots';
      return (await all(op, () => clients.compute.snapshots.list())).map((s) => toSnapshot(s, op));
    },
    async getSnapshot(id) {
      const op = 'GET snapshot';
      const t = target(id, 'microsoft.compute/snapshots', op);
      const raw = await getOrUndefined(op, () => clients.compute.snapshots.get(t.resourceGroup, t.name));
      return raw === undefined ? undefined : toSnapshot(raw, op);
    },
    async deleteSnapshot(id) {
      const op = 'DELETE snapshot';
      const t = target(id, 'microsoft.compute/snapshots', op);
      await call(op, () => clients.compute.snapshots.delete(t.resourceGroup, t.name, lro).pollUntilDone());
      log.info({ environment, snapshot: id }, 'snapshot deleted');
    },

    async listPublicIps() {
      const op = 'GET public IP addresses';
      return (await all(op, () => clients.network.publicIPAddresses.listAll())).map((p) => toIp(p, op));
    },
    async getPublicIp(id) {
      const op = 'GET public IP address';
      const t = target(id, 'microsoft.network/publicipaddresses', op);
      const raw = await getOrUndefined(op, () => clients.network.publicIPAddresses.get(t.resourceGroup, t.name));
      return raw === undefined ? undefined : toIp(raw, op);
    },
    async deletePublicIp(id) {
      const op = 'DELETE public IP address';
      const t = target(id, 'microsoft.network/publicipaddresses', op);
      await call(op, () => clients.network.publicIPAddresses.beginDeleteAndWait(t.resourceGroup, t.name, lro));
      log.info({ environment, publicIp: id }, 'public IP deleted');
    },

    async listAgentPools(resourceGroup, cluster) {
      const op = 'GET agent pools';
      let raw: unknown[];
      try {
        raw = [];
        for await (const p of clients.aks.agentPools.list(resourceGroup, cluster)) raw.push(p);
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        return call(op, () => Promise.reject(err as Error));
      }
      return raw.map((r) => {
        const p = parse(agentPoolSchema, r, op);
        return {
          name: p.name,
          count: p.count,
          vmSize: p.vmSize,
          mode: p.mode,
          enableAutoScaling: p.enableAutoScaling ?? false,
          minCount: p.minCount ?? undefined,
          maxCount: p.maxCount ?? undefined,
        };
      });
    },

    async listVmSizes(location) {
      const op = 'GET resource SKUs';
      const raw = await all(op, () => clients.compute.resourceSkus.list({ filter: `location eq '${location}'` }));
      const out: VmSizeInfo[] = [];
      for (const r of raw) {
        const s = parse(skuSchema, r, op);
        if (s.resourceType !== 'virtualMachines' || !s.name) continue;
        const cap = (n: string) => Number(s.capabilities?.find((c) => c.name === n)?.value);
        const vCpus = cap('vCPUs');
        const memoryGb = cap('MemoryGB');
        if (!Number.isFinite(vCpus) || !Number.isFinite(memoryGb)) {
          throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation: op, issues: `${s.name}: no numeric vCPUs/MemoryGB capability` });
        }
        const loc = location.toLowerCase();
        const restricted = (s.restrictions ?? []).some((x) => x.type === 'Location' && (x.values ?? []).some((v) => v.toLowerCase() === loc));
        out.push({ name: s.name, family: s.family, vCpus, memoryGb, restricted });
      }
      return out;
    },
  };
}
