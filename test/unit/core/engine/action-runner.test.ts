import { describe, expect, it } from 'vitest';
import { describePlan, runAction, type Action, type ActionStep } from '../../../../core/engine/action.js';
import { resumePoint } from '../../../../core/engine/journal.js';
import { AppError } from '../../../../core/errors/app-error.js';
import type { JsonObject } from '../../../../core/store/types.js';
import { testDeps } from '../../../helpers/deps.js';

// The action runner against the real (in-memory SQLite) store: what it skips, what it hands on, where it stops.

/** A tiny world the steps "ensure" things in: a set of made resources, and a count of every change. */
interface World {
  made: Map<string, string>;
  changes: string[];
  failOn?: string;
}

function ensureStep(name: string, deps: string[] = []): ActionStep<World> {
  return {
    name,
    touches: [`resource ${name}`],
    async run(ctx) {
      if (ctx.input.failOn === name) throw new AppError('AKS_AZURE_REQUEST_FAILED', { operation: name, status: 500, azureCode: 'InternalServerError' });
      const from = deps.map((d) => String(ctx.outputs(d).id)).join('+');
      if (!ctx.input.made.has(name)) {
        ctx.input.made.set(name, `${name}(${from})`);
        ctx.input.changes.push(name);
      }
      return { id: ctx.input.made.get(name)! } satisfies JsonObject;
    },
  };
}

const action: Action<World> = {
  name: 'demo',
  version: 1,
  plan: async () => [ensureStep('network'), ensureStep('cluster', ['network']), ensureStep('app', ['cluster'])],
};

async function setup() {
  const deps = testDeps();
  const run = await deps.store.createRun({ environment: 'prod', command: 'teardown', source: 'cli', requestedBy: 'alice' });
  const reports: string[] = [];
  const ctx = (input: World) => ({ store: deps.store, log: deps.log, runId: run.id, input, progress: { report: (_id: number, t: string) => void reports.push(t) } });
  return { deps, runId: run.id, ctx, reports };
}

describe('runAction', () => {
  it('runs every step in order, journals start and end, and hands each step the outputs of the earlier ones', async () => {
    const { deps, runId, ctx, reports } = await setup();
    const world: World = { made: new Map(), changes: [] };
    const result = await runAction(action, ctx(world));
    expect(result.ran).toEqual(['network', 'cluster', 'app']);
    expect(result.outputs.app).toEqual({ id: 'app(cluster(network()))' });
    const steps = await deps.store.listSteps(runId);
    expect(steps.map((s) => `${s.step}:${s.status}`)).toEqual(['network:started', 'network:succeeded', 'cluster:started', 'cluster:succeeded', 'app:started', 'app:succeeded']);
    expect(steps[3]!.detail).toMatchObject({ action: 'demo', version: 1, outputs: { id: 'cluster(network())' } });
    expect(reports).toEqual(['step 1/3: network', 'step 2/3: cluster', 'step 3/3: app']);
  });

  it('a failing step stops the run with its code: journaled failed, later steps not run, the error rethrown', async () => {
    const { deps, runId, ctx } = await setup();
    const world: World = { made: new Map(), changes: [], failOn: 'cluster' };
    await expect(runAction(action, ctx(world))).rejects.toMatchObject({ code: 'AKS_AZURE_REQUEST_FAILED' });
    expect(world.changes).toEqual(['network']);
    const steps = await deps.store.listSteps(runId);
    expect(steps.at(-1)).toMatchObject({ step: 'cluster', status: 'failed', detail: { code: 'AKS_AZURE_REQUEST_FAILED' } });
    expect(steps.some((s) => s.step === 'app')).toBe(false);
  });

  it('resumes: steps the journal has as succeeded are skipped and their journaled outputs reused', async () => {
    const { deps, runId, ctx } = await setup();
    // a first process did "network" and died inside "cluster" (started, never ended)
    const first: World = { made: new Map(), changes: [] };
    const dying: Action<World> = { ...action, plan: async () => [ensureStep('network'), { ...ensureStep('cluster'), run: () => new Promise(() => undefined) }] };
    void runAction(dying, ctx(first));
    while ((await deps.store.listSteps(runId)).length < 3) await new Promise((r) => setTimeout(r, 2));
    expect(await resumePoint(deps.store, runId)).toMatchObject({ stamp: { action: 'demo', version: 1 }, openStep: 'cluster', attempts: 1 });

    // the restarted process has a fresh world in memory: only the journal tells it what was done
    const second: World = { made: new Map([['network', 'network()']]), changes: [] };
    const result = await runAction(action, ctx(second));
    expect(result.skipped).toEqual(['network']);
    expect(result.ran).toEqual(['cluster', 'app']);
    expect(second.changes).toEqual(['cluster', 'app']);
    expect(result.outputs.cluster).toEqual({ id: 'cluster(network())' }); // read the skipped step's journaled output
    const cluster = (await deps.store.listSteps(runId)).filter((s) => s.step === 'cluster' && s.status === 'started');
    expect(cluster.map((s) => (s.detail as { attempt: number }).attempt)).toEqual([1, 2]);
  });

  it('ensure semantics: running a finished action again changes nothing and journals nothing new', async () => {
    const { deps, runId, ctx } = await setup();
    const world: World = { made: new Map(), changes: [] };
    await runAction(action, ctx(world));
    const journaled = (await deps.store.listSteps(runId)).length;
    const again = await runAction(action, ctx(world));
    expect(again).toMatchObject({ ran: [], skipped: ['network', 'cluster', 'app'] });
    expect(world.changes).toEqual(['network', 'cluster', 'app']);
    expect((await deps.store.listSteps(runId)).length).toBe(journaled);
    // and each step on its own is an ensure: run against a world where it is done, it changes nothing
    const fresh = await setup();
    await runAction(action, fresh.ctx(world));
    expect(world.changes).toEqual(['network', 'cluster', 'app']);
  });

  it('refuses to resume a run journaled by another version of the action, changing nothing', async () => {
    const { deps, runId, ctx } = await setup();
    const world: World = { made: new Map(), changes: [], failOn: 'cluster' };
    await runAction(action, ctx(world)).catch(() => undefined);
    const before = (await deps.store.listSteps(runId)).length;
    const v2: Action<World> = { ...action, version: 2 };
    await expect(runAction(v2, ctx({ made: new Map(), changes: [] }))).rejects.toMatchObject({ code: 'AKS_ACTION_CHANGED' });
    expect((await deps.store.listSteps(runId)).length).toBe(before);
  });

  it('a step cut off by the abort signal is left open for a resume, not journaled as failed', async () => {
    const { deps, runId, ctx } = await setup();
    const abort = new AbortController();
    const waits: Action<World> = {
      ...action,
      plan: async () => [
        {
          name: 'wait',
          touches: [],
          run: (c) => new Promise((_, reject) => c.signal.addEventListener('abort', () => reject(c.signal.reason as Error))),
        },
      ],
    };
    const running = runAction(waits, { ...ctx({ made: new Map(), changes: [] }), signal: abort.signal });
    while ((await deps.store.listSteps(runId)).length < 1) await new Promise((r) => setTimeout(r, 2));
    abort.abort(new Error('shutting down'));
    await expect(running).rejects.toThrow('shutting down');
    expect((await deps.store.listSteps(runId)).map((s) => s.status)).toEqual(['started']);
  });

  it('describes the plan with what each step touches', async () => {
    expect(await describePlan(action, { made: new Map(), changes: [] })).toEqual(['network — touches resource network', 'cluster — touches resource cluster', 'app — touches resource app']);
  });
});
