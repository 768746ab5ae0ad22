import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureClusterDeleted } from '../../../../core/clients/arm/cluster-delete.js';
import { runAction } from '../../../../core/engine/action.js';
import { foldJournal } from '../../../../core/engine/journal.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import { startFakeArm, type FakeArm } from '../../../fakes/arm/server.js';
import { armClients, CLUSTER, deleteClusterAction, RG, SUB } from './action-fixtures.js';
import { MemoryStream } from '../../../helpers/deps.js';

// A cluster delete survives its process dying mid-wait: the child sends the DELETE (202 + Azure-AsyncOperation),
// journals the operation, polls, and is SIGKILLed while Azure still says InProgress. A fresh process with a fresh
// store handle on the same SQLite file resumes the run: it polls the SAME status monitor and never sends a second
// DELETE. The fake ARM answers as ManagedClusters_Delete is defined (202/204, final state via azure-async-operation).

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const child = fileURLToPath(new URL('./action-crash-child.ts', import.meta.url));

let arm: FakeArm | undefined;
let dir: string | undefined;
afterEach(async () => {
  await arm?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  arm = undefined;
  dir = undefined;
});

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withCluster(): Promise<FakeArm> {
  const fake = await startFakeArm();
  fake.setSubscription(SUB, { state: 'Enabled', spendingLimit: 'On', quotaId: 'MSDN_2014-09-01', displayName: 'VS' });
  fake.setCluster(SUB, RG, CLUSTER, {
    provisioningState: 'Succeeded',
    powerState: 'Running',
    kubernetesVersion: '1.32.6',
    location: 'westeurope',
    agentPools: [{ name: 'system', count: 1, vmSize: 'Standard_B2s', mode: 'System', provisioningState: 'Succeeded', powerState: 'Running', orchestratorVersion: '1.32.6' }],
  });
  return fake;
}

const deletes = (fake: FakeArm) => fake.requests.filter((r) => r.method === 'DELETE' && r.path.toLowerCase().endsWith(`/managedclusters/${CLUSTER}`));
const log = () => createLogger({ level: 'debug', redactor: new Redactor(), destination: new MemoryStream() });

describe('an action step with a long-running Azure operation', () => {
  it('runs to the end in one process: one DELETE, the operation journaled before the wait, the cluster gone', async () => {
    arm = await withCluster();
    arm.setClusterOperationPolls(2);
    const store = openSqliteStore({ path: ':memory:' });
    const run = await store.createRun({ environment: 'prod', command: 'teardown', source: 'cli', requestedBy: 'alice' });
    const l = log();
    const result = await runAction(deleteClusterAction, { store, log: l, runId: run.id, input: { clients: armClients(arm.url, arm.ca), log: l } });
    expect(deletes(arm)).toHaveLength(1);
    expect(arm.clusterOperations).toHaveLength(1);
    expect(arm.cluster(SUB, RG, CLUSTER)).toBeUndefined();
    expect(result.outputs['delete the cluster']).toEqual({ operationUrl: arm.clusterOperations[0]!.statusUrl, location: 'westeurope' });
    const steps = await store.listSteps(run.id);
    expect(steps.map((s) => `${s.step}:${s.status}`)).toEqual(['read the cluster:started', 'read the cluster:succeeded', 'delete the cluster:started', 'delete the cluster:started', 'delete the cluster:succeeded']);
    expect(steps[3]!.detail).toMatchObject({ kind: 'operation', operation: { url: arm.clusterOperations[0]!.statusUrl } });
    // ensure: deleting what is gone answers 204, records no operation and starts none
    const recorded: unknown[] = [];
    const slot = { recorded: undefined, record: async (op: unknown) => void recorded.push(op) };
    expect(await ensureClusterDeleted(armClients(arm.url, arm.ca), RG, CLUSTER, slot, { environment: 'prod', log: l })).toEqual({ operationUrl: undefined });
    expect(recorded).toEqual([]);
    expect(arm.clusterOperations).toHaveLength(1);
    expect(deletes(arm).map((r) => r.status)).toEqual([202, 204]);
  });

  it('the process is SIGKILLed while the delete is in flight; the resumed run polls the same operation and sends no second DELETE', async () => {
    arm = await withCluster();
    arm.setClusterOperationPolls(Number.POSITIVE_INFINITY); // InProgress until the test lets it finish
    dir = mkdtempSync(join(tmpdir(), 'aks-action-'));
    const path = join(dir, 'state.db');
    const caFile = join(dir, 'arm-ca.pem');
    writeFileSync(caFile, arm.ca);
    const setup = openSqliteStore({ path });
    const run = await setup.createRun({ environment: 'prod', command: 'teardown', source: 'cli', requestedBy: 'alice' });
    await setup.updateRunStatus(run.id, 'running');
    await setup.close();

    const proc = spawn(process.execPath, ['--import', 'tsx', child, path, String(run.id), arm.url, caFile], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
    const watcher = openSqliteStore({ path });
    const journaled = async () => foldJournal(await watcher.listSteps(run.id)).get('delete the cluster')?.operation;
    // killed once the operation is journaled AND the child has polled it at least twice (it really was waiting)
    await until(async () => (await journaled()) !== undefined && (arm!.clusterOperations[0]?.polls ?? 0) >= 2, `the child to journal and poll the operation\n${stderr}`);
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const recorded = (await journaled())!;
    await watcher.close();
    expect(deletes(arm)).toHaveLength(1);
    expect(arm.cluster(SUB, RG, CLUSTER)?.provisioningState).toBe('Deleting');
    const op = arm.clusterOperations[0]!;
    expect(recorded.url).toBe(op.statusUrl);
    const pollsBeforeResume = op.polls;

    // a fresh process: a new store handle on the same file, new SDK clients, nothing in memory
    arm.clusterOperations.forEach((o) => (o.pollsLeft = 2));
    arm.setClusterOperationPolls(2); // a wrongly started second delete would finish too, and be counted
    const store = openSqliteStore({ path });
    const l = log();
    const result = await runAction(deleteClusterAction, { store, log: l, runId: run.id, input: { clients: armClients(arm.url, arm.ca), log: l } });
    expect(result.skipped).toEqual(['read the cluster']);
    expect(result.ran).toEqual(['delete the cluster']);
    expect(deletes(arm)).toHaveLength(1); // exactly one DELETE across both processes
    expect(arm.clusterOperations).toHaveLength(1);
    expect(op.polls).toBeGreaterThan(pollsBeforeResume); // the resumed run polled the recorded monitor
    expect(op.done).toBe(true);
    expect(arm.cluster(SUB, RG, CLUSTER)).toBeUndefined();
    expect(result.outputs['delete the cluster']).toEqual({ operationUrl: recorded.url, location: 'westeurope' });
    const attempts = (await store.listSteps(run.id)).filter((s) => s.step === 'delete the cluster' && (s.detail as { kind?: string }).kind === 'start');
    expect(attempts.map((s) => (s.detail as { attempt: number }).attempt)).toEqual([1, 2]);
    await store.close();
  });
});
