import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { at, fileStore, memoryStore, tempDir } from './builders.js';

describe('request nonces', () => {
  it('refuses a nonce while it is live, including at its expiry instant, and takes it again after', async () => {
    const { store } = memoryStore();
    expect(await store.rememberNonce('n-1', at(1_000), at(0))).toBe(true);
    expect(await store.rememberNonce('n-1', at(1_000), at(999))).toBe(false);
    expect(await store.rememberNonce('n-1', at(1_000), at(1_000))).toBe(false);
    expect(await store.rememberNonce('n-1', at(3_000), at(1_001))).toBe(true);
  });

  it('commits nonces of one event-loop turn together, a nonce twice in the batch fresh only the first time', async () => {
    const { store } = memoryStore();
    const results = await Promise.all([store.rememberNonce('b-1', at(1_000), at(0)), store.rememberNonce('b-2', at(1_000), at(0)), store.rememberNonce('b-1', at(1_000), at(0))]);
    expect(results).toEqual([true, true, false]);
    expect(await store.countNonces()).toBe(2);
  });

  it('survives a new store handle on the same file', async () => {
    const path = join(tempDir(), 'bot.db');
    const first = fileStore(path);
    expect(await first.rememberNonce('n-restart', at(60_000), at(0))).toBe(true);
    await first.close();
    const second = fileStore(path);
    expect(await second.rememberNonce('n-restart', at(60_000), at(1))).toBe(false);
  });

  it('prunes expired nonces on insert, so a flood shrinks back once its window has passed', async () => {
    const { store } = memoryStore();
    for (let i = 0; i < 500; i++) expect(await store.rememberNonce(`flood-${i}`, at(10_000 + i), at(i))).toBe(true);
    expect(await store.countNonces()).toBe(500);
    expect(await store.rememberNonce('after', at(30_000), at(10_250))).toBe(true);
    expect(await store.countNonces()).toBe(251);
    expect(await store.pruneNonces(at(10_250))).toBe(0);
    expect(await store.pruneNonces(at(10_500))).toBe(250);
    expect(await store.countNonces()).toBe(1);
  });

  it.each(['', 'x'.repeat(129)])('refuses a nonce of bad length (%#)', async (nonce) => {
    const { store } = memoryStore();
    await expect(store.rememberNonce(nonce, at(1), at(0))).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
  });
});
