import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../../core/store/sqlite.js';

const at = (s: string) => new Date(s);

describe('backup sets in the store', () => {
  const open = () => openSqliteStore({ path: ':memory:', clock: () => at('2026-11-26T12:00:00Z') });

  it('records sets, lists them newest first per environment, and a drill marks one verified', async () => {
    const store = open();
    await store.recordBackupSet({ id: 'a', environment: 'prod', createdAt: at('2026-11-24T02:00:00Z'), manifest: { id: 'a' } });
    await store.recordBackupSet({ id: 'b', environment: 'prod', createdAt: at('2026-11-25T02:00:00Z'), manifest: { id: 'b' } });
    await store.recordBackupSet({ id: 'c', environment: 'staging', createdAt: at('2026-11-25T02:00:00Z'), manifest: { id: 'c' } });
    expect((await store.listBackupSets('prod')).map((s) => s.id)).toEqual(['b', 'a']);
    expect(await store.recordDrill('a', { passed: true, documents: 10 })).toBe(true);
    expect(await store.getBackupSet('a')).toMatchObject({ verifiedAt: at('2026-11-26T12:00:00Z'), drill: { passed: true, documents: 10 } });
    // recording again (a retried step) keeps the drill evidence
    await store.recordBackupSet({ id: 'a', environment: 'prod', createdAt: at('2026-11-24T02:00:00Z'), manifest: { id: 'a', again: true } });
    expect((await store.getBackupSet('a'))?.verifiedAt).not.toBeNull();
  });

  it('a failed drill clears an earlier verification; unknown or deleted sets are not updated', async () => {
    const store = open();
    await store.recordBackupSet({ id: 'a', environment: 'prod', createdAt: at('2026-11-24T02:00:00Z'), manifest: {} });
    await store.recordDrill('a', { passed: true });
    await store.recordDrill('a', { passed: false, error: 'AKS_BACKUP_CONTENT_MISMATCH' });
    expect((await store.getBackupSet('a'))?.verifiedAt).toBeNull();
    expect(await store.recordDrill('nope', { passed: true })).toBe(false);
    expect(await store.markBackupSetDeleted('a')).toBe(true);
    expect(await store.recordDrill('a', { passed: true })).toBe(false);
    expect(await store.listBackupSets('prod')).toEqual([]);
    expect((await store.getBackupSet('a'))?.deletedAt).toEqual(at('2026-11-26T12:00:00Z'));
  });
});
