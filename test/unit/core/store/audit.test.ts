import { describe, expect, it } from 'vitest';
import { AUDIT_RESULTS, RUN_SOURCES } from '../../../../core/store/types.js';
import type { NewAuditEntry } from '../../../../core/store/types.js';
import { at, memoryStore, T0 } from './builders.js';

function anEntry(overrides: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return {
    actor: 'alice',
    source: 'chat',
    command: 'backup run --env prod',
    environment: 'prod',
    result: 'ok',
    ...overrides,
  };
}

describe('audit log', () => {
  it('round-trips an entry, defaulting environment and detail to null', async () => {
    const { store } = memoryStore();

    const full = await store.appendAudit(anEntry({ result: 'denied', detail: 'role operator required' }));
    const bare = await store.appendAudit({ actor: 'bob', source: 'cli', command: 'help', result: 'ok' });

    expect(full).toEqual({
      id: 1,
      at: T0,
      actor: 'alice',
      source: 'chat',
      command: 'backup run --env prod',
      environment: 'prod',
      result: 'denied',
      detail: 'role operator required',
    });
    expect(bare).toMatchObject({ id: 2, environment: null, detail: null });
    expect(await store.listAudit({ limit: 10 })).toEqual([bare, full]);
  });

  it.each(AUDIT_RESULTS)('accepts result %s', async (result) => {
    const { store } = memoryStore();
    await store.appendAudit(anEntry({ result }));
    expect((await store.listAudit({ limit: 1 }))[0]?.result).toBe(result);
  });

  it.each(RUN_SOURCES)('accepts source %s', async (source) => {
    const { store } = memoryStore();
    await store.appendAudit(anEntry({ source }));
    expect((await store.listAudit({ limit: 1 }))[0]?.source).toBe(source);
  });

  it('lists newest first by insertion even when the clock steps back', async () => {
    const { store, clock } = memoryStore();
    await store.appendAudit(anEntry({ command: 'first' }));
    clock.advance(-60_000);
    await store.appendAudit(anEntry({ command: 'second', environment: 'staging' }));
    await store.appendAudit(anEntry({ command: 'third' }));

    const newest = await store.listAudit({ limit: 2 });
    expect(newest.map((e) => e.command)).toEqual(['third', 'second']);
    expect(newest[1]?.at).toEqual(at(-60_000));
    expect((await store.listAudit({ limit: 10, environment: 'prod' })).map((e) => e.command)).toEqual([
      'third',
      'first',
    ]);
  });

  it('rejects a non-positive limit with a coded error', async () => {
    const { store } = memoryStore();
    await expect(store.listAudit({ limit: 0 })).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
  });
});
