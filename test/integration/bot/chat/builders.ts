import { createRegistry } from '../../../../core/commands/definitions.js';
import type { CommandSpec } from '../../../../core/commands/types.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';

const commandSpecs = createRegistry();

export const CHAT_CONFIG_YAML = `
bot: { defaultEnvironment: prod, cliUser: cli-admin }
access:
  roles: { admin: [alice, erin], operator: [bob], viewer: [carol] }
  approvalTtlMinutes: 30
environments:
  prod:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks }
    credit: { monthlyUsd: 150 }
`;

/** The registry with a working teardown stand-in that journals two steps, so approvals have something to start. */
export function specsWithTeardown(calls: string[], opts: { gate?: Promise<void> } = {}): CommandSpec[] {
  return commandSpecs.map((s) =>
    s.name !== 'teardown'
      ? s
      : {
          ...s,
          unavailable: undefined,
          plan: async (_args, ctx) => [`back up ${ctx.environment}`, 'destroy the cluster layer'],
          handler: async (args, ctx) => {
            const run = (await ctx.store.listRuns({ status: 'running', limit: 1 }))[0]!;
            calls.push(`teardown ${ctx.environment} by ${ctx.invocation.actor}${args.reason ? ` (${String(args.reason)})` : ''}`);
            await ctx.store.appendStep({ runId: run.id, step: 'back up', status: 'started' });
            await ctx.store.appendStep({ runId: run.id, step: 'back up', status: 'succeeded' });
            await opts.gate;
            await ctx.store.appendStep({ runId: run.id, step: 'destroy cluster layer', status: 'started' });
            await ctx.store.appendStep({ runId: run.id, step: 'destroy cluster layer', status: 'succeeded' });
            return { text: 'torn down' };
          },
        },
  );
}

/** Deps whose clock a test can move (approval expiry). */
export function movableDeps(start = new Date()) {
  let now = start;
  const deps = testDeps({ config: testConfig(CHAT_CONFIG_YAML), now: start });
  return {
    deps: { ...deps, now: () => now },
    logs: deps.logs,
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
  };
}

export async function until(cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
