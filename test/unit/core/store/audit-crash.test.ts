import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileStore, tempDir } from './builders.js';
import { killWhenInTransaction } from './child.js';

// Group commit must not acknowledge an audit row before it is committed: after a SIGKILL every acknowledged id is
// in the log, and the burst that was still waiting for its batch left nothing half-written behind.

describe('audit group commit under a crash', () => {
  it('keeps every acknowledged row; the unacknowledged burst is absent and the database is intact', async () => {
    const path = join(tempDir(), 'state.db');
    const child = await killWhenInTransaction('crash-mid-audit-burst.ts', [path, '5']);
    expect(child.signal).toBe('SIGKILL');
    const acked = [...child.stdout.matchAll(/^ACKED (.+)$/gm)].flatMap((m) => m[1]!.split(',').map(Number));
    expect(acked).toHaveLength(250);

    const store = fileStore(path);
    const rows = await store.listAudit({ limit: 1_000 });
    expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual(acked.sort((a, b) => a - b));
    expect(rows.some((r) => r.actor.startsWith('unacked'))).toBe(false);
    expect(await store.appendAudit({ actor: 'after', source: 'cli', command: 'runs', result: 'ok' })).toMatchObject({ id: 251 });
  }, 60_000);
});
