import type { JsonObject, JsonValue, StepRecord, Store } from '../store/types.js';

// The durable memory of an action's run, kept in the run's step journal (the `steps` table, one append-only entry
// per event, its JSON `detail` carrying what a restarted process needs). No schema of its own: every entry an
// action writes says which action and version wrote it, so `runs N` and the progress message read the same rows
// as before, and a resumed run folds them back into "what is done, with which outputs, and what is in flight".
//
//   started    { action, version, kind: 'start', attempt }      the step began (attempt 2+: after a crash)
//   started    { action, version, kind: 'operation', operation } a long-running Azure operation was accepted;
//                                                                written BEFORE it is waited on
//   succeeded  { action, version, outputs }                       the step's outputs, read by later steps
//   failed     { action, version, code }                          the step failed; the run stops there

/** A long-running operation as journaled: the status URL Azure handed out and the SDK poller's serialized state. */
export interface RecordedOperation {
  /** The Azure-AsyncOperation (or Location) URL of the 201/202 answer. */
  readonly url: string;
  /** The poller's own serialized state (core-lro `serialize()`), which resumes it without a second request. */
  readonly state: string;
}

export type StepPhase = 'pending' | 'started' | 'succeeded' | 'failed';

export interface JournaledStep {
  readonly phase: StepPhase;
  /** How many times the step was started (crashes included). */
  readonly attempts: number;
  /** Set once it succeeded. */
  readonly outputs?: JsonObject;
  /** The newest operation it recorded while started (cleared when it ends). */
  readonly operation?: RecordedOperation;
  readonly code?: string;
}

/** Who wrote an entry: the action and the version of its step list. */
export interface ActionStamp {
  readonly action: string;
  readonly version: number;
}

type Detail = { readonly [key: string]: JsonValue };

const asObject = (v: JsonValue | null): Detail | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Detail) : undefined);

/** The action stamp of a journal entry, if an action wrote it. */
export function stampOf(entry: Pick<StepRecord, 'detail'>): ActionStamp | undefined {
  const d = asObject(entry.detail);
  return d && typeof d.action === 'string' && typeof d.version === 'number' ? { action: d.action, version: d.version } : undefined;
}

function operationOf(d: Detail | undefined): RecordedOperation | undefined {
  const op = asObject(d?.operation ?? null);
  return op && typeof op.url === 'string' && typeof op.state === 'string' ? { url: op.url, state: op.state } : undefined;
}

/** Folds a run's entries into the state of each step an action journaled (entries without a stamp are ignored). */
export function foldJournal(entries: readonly StepRecord[]): Map<string, JournaledStep> {
  const steps = new Map<string, JournaledStep>();
  for (const e of entries) {
    if (!stampOf(e)) continue;
    const d = asObject(e.detail);
    const cur = steps.get(e.step) ?? { phase: 'pending', attempts: 0 };
    if (e.status === 'started') {
      const operation = operationOf(d);
      if (d?.kind === 'operation' && operation) steps.set(e.step, { ...cur, phase: 'started', operation });
      // a new attempt keeps the operation an earlier attempt left in flight: that is what it must resume
      else steps.set(e.step, { phase: 'started', attempts: cur.attempts + 1, ...(cur.operation && cur.phase === 'started' ? { operation: cur.operation } : {}) });
    } else if (e.status === 'succeeded') {
      steps.set(e.step, { phase: 'succeeded', attempts: cur.attempts, outputs: asObject(d?.outputs ?? null) ?? {} });
    } else if (e.status === 'failed') {
      steps.set(e.step, { phase: 'failed', attempts: cur.attempts, ...(typeof d?.code === 'string' ? { code: d.code } : {}) });
    }
  }
  return steps;
}

/**
 * One run's journal as an action sees it. Every write lands in the store before the call returns: a step's
 * outputs and an operation's URL must survive the process dying right after.
 */
export class ActionJournal {
  private constructor(
    private readonly store: Pick<Store, 'appendStep' | 'listSteps'>,
    readonly runId: number,
    readonly stamp: ActionStamp,
    private readonly steps: Map<string, JournaledStep>,
    /** The stamps found in the journal when it was loaded (another version of the action wrote them?). */
    readonly foundStamps: readonly ActionStamp[],
  ) {}

  static async load(store: Pick<Store, 'appendStep' | 'listSteps'>, runId: number, stamp: ActionStamp): Promise<ActionJournal> {
    const entries = await store.listSteps(runId);
    const found = new Map<string, ActionStamp>();
    for (const e of entries) {
      const s = stampOf(e);
      if (s) found.set(`${s.action}@${s.version}`, s);
    }
    return new ActionJournal(store, runId, stamp, foldJournal(entries), [...found.values()]);
  }

  step(name: string): JournaledStep {
    return this.steps.get(name) ?? { phase: 'pending', attempts: 0 };
  }

  async start(name: string): Promise<JournaledStep> {
    const cur = this.step(name);
    const next: JournaledStep = { phase: 'started', attempts: cur.attempts + 1, ...(cur.phase === 'started' && cur.operation ? { operation: cur.operation } : {}) };
    await this.append(name, 'started', { kind: 'start', attempt: next.attempts });
    this.steps.set(name, next);
    return next;
  }

  async recordOperation(name: string, operation: RecordedOperation): Promise<void> {
    await this.append(name, 'started', { kind: 'operation', operation: { url: operation.url, state: operation.state } });
    this.steps.set(name, { ...this.step(name), phase: 'started', operation });
  }

  async succeed(name: string, outputs: JsonObject): Promise<void> {
    await this.append(name, 'succeeded', { outputs });
    this.steps.set(name, { phase: 'succeeded', attempts: this.step(name).attempts, outputs });
  }

  async fail(name: string, code: string): Promise<void> {
    await this.append(name, 'failed', { code });
    this.steps.set(name, { phase: 'failed', attempts: this.step(name).attempts, code });
  }

  private async append(step: string, status: StepRecord['status'], detail: Detail): Promise<void> {
    await this.store.appendStep({ runId: this.runId, step, status, detail: { action: this.stamp.action, version: this.stamp.version, ...detail } });
  }
}

/**
 * What a restarted process needs to know of a run it finds without a heartbeat: whether an action journaled it
 * (so it can be resumed), the step that was open, and how often that step was started already.
 */
export async function resumePoint(store: Pick<Store, 'listSteps'>, runId: number): Promise<{ stamp: ActionStamp; openStep: string | undefined; attempts: number } | undefined> {
  const entries = await store.listSteps(runId);
  const stamp = entries.map(stampOf).findLast((s) => s !== undefined);
  if (!stamp) return undefined;
  const open = [...foldJournal(entries)].filter(([, s]) => s.phase === 'started').at(-1);
  return { stamp, openStep: open?.[0], attempts: open?.[1].attempts ?? 0 };
}
