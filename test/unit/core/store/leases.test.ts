import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { at, fakeClock, fileStore, memoryStore, T0, tempDir } from './builders.js';

const TTL = 10 * 60_000;
const LEASE = 'lifecycle:prod';

describe('leases', () => {
  it('grants a free lease and records holder and times', async () => {
    const { store } = memoryStore();

    expect(await store.acquireLease(LEASE, 'run-1', TTL)).toBe(true);
    expect(await store.getLease(LEASE)).toEqual({ name: LEASE, holder: 'run-1', acquiredAt: T0, expiresAt: at(TTL) });
    expect(await store.getLease('lifecycle:staging')).toBeUndefined();
  });

  it('refuses another holder while the lease is live', async () => {
    const { store, clock } = memoryStore();
    await store.acquireLease(LEASE, 'run-1', TTL);
    clock.advance(TTL - 1);

    expect(await store.acquireLease(LEASE, 'run-2', TTL)).toBe(false);
    expect((await store.getLease(LEASE))?.holder).toBe('run-1');
  });

  it('keeps environments independent', async () => {
    const { store } = memoryStore();
    await store.acquireLease(LEASE, 'run-1', TTL);
    expect(await store.acquireLease('lifecycle:staging', 'run-2', TTL)).toBe(true);
  });

  it('renews for the same holder, keeping the original acquisition time', async () => {
    const { store, clock } = memoryStore();
    await store.acquireLease(LEASE, 'run-1', TTL);
    clock.advance(TTL - 1);

    expect(await store.acquireLease(LEASE, 'run-1', TTL)).toBe(true);
    expect(await store.getLease(LEASE)).toMatchObject({ acquiredAt: T0, expiresAt: at(2 * TTL - 1) });
    clock.advance(TTL - 1);
    expect(await store.acquireLease(LEASE, 'run-2', TTL)).toBe(false);
  });

  it.each([
    { name: 'exactly at expiry', offset: TTL },
    { name: 'after expiry', offset: 3 * TTL },
  ])('hands an expired lease to a new holder $name', async ({ offset }) => {
    const { store, clock } = memoryStore();
    await store.acquireLease(LEASE, 'run-1', TTL);
    clock.advance(offset);

    expect(await store.acquireLease(LEASE, 'run-2', TTL)).toBe(true);
    expect(await store.getLease(LEASE)).toEqual({
      name: LEASE,
      holder: 'run-2',
      acquiredAt: at(offset),
      expiresAt: at(offset + TTL),
    });
  });

  it('judges expiry by an explicit now when given one', async () => {
    const { store } = memoryStore();
    await store.acquireLease(LEASE, 'run-1', TTL, at(0));
    expect(await store.acquireLease(LEASE, 'run-2', TTL, at(TTL - 1))).toBe(false);
    expect(await store.acquireLease(LEASE, 'run-2', TTL, at(TTL))).toBe(true);
  });

  it('lets only the holder release', async () => {
    const { store } = memoryStore();
    await store.acquireLease(LEASE, 'run-1', TTL);

    expect(await store.releaseLease(LEASE, 'run-2')).toBe(false);
    expect(await store.releaseLease(LEASE, 'run-1')).toBe(true);
    expect(await store.releaseLease(LEASE, 'run-1')).toBe(false);
    expect(await store.getLease(LEASE)).toBeUndefined();
    expect(await store.acquireLease(LEASE, 'run-2', TTL)).toBe(true);
  });

  it('is exclusive across connections to the same database', async () => {
    const path = join(tempDir(), 'state.db');
    const clock = fakeClock();
    const bot = fileStore(path, clock);
    const pipeline = fileStore(path, clock);

    const results = await Promise.all([
      bot.acquireLease(LEASE, 'bot', TTL),
      pipeline.acquireLease(LEASE, 'pipeline', TTL),
    ]);

    expect(results).toEqual([true, false]);
    expect((await pipeline.getLease(LEASE))?.holder).toBe('bot');
    clock.advance(TTL);
    expect(await pipeline.acquireLease(LEASE, 'pipeline', TTL)).toBe(true);
    expect(await bot.acquireLease(LEASE, 'bot', TTL)).toBe(false);
  });

  it.each([0, -5, 0.5, Number.POSITIVE_INFINITY])('rejects ttl %s with a coded error', async (ttl) => {
    const { store } = memoryStore();
    await expect(store.acquireLease(LEASE, 'run-1', ttl)).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
  });
});
