import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSpool } from '../../../../core/backup/spool.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { MemoryStream } from '../../../helpers/deps.js';

const collect = () => {
  const parts: Buffer[] = [];
  const w = new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) });
  return Object.assign(w, { bytes: () => Buffer.concat(parts) });
};

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('restore spool', () => {
  let dir: string;
  let logs: MemoryStream;
  let log: ReturnType<typeof createLogger>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
    logs = new MemoryStream();
    log = createLogger({ level: 'debug', redactor: new Redactor(), destination: logs });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps what flows through it in a private file, reads it back identical, and removes it', async () => {
    const data = [randomBytes(3 << 20), randomBytes(1234), randomBytes(1 << 20)];
    const spool = (await openSpool({ dir, keepFreeBytes: 0 }, 5 << 20, log))!;
    expect(spool).toBeDefined();
    expect(spool.complete()).toBe(false);
    const out = collect();
    await pipeline(Readable.from(data), spool.tap(), out);
    // a pass-through: the verify pipeline behind it sees every byte
    expect(out.bytes().equals(Buffer.concat(data))).toBe(true);
    expect(spool.complete()).toBe(true);
    expect((statSync(spool.path).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(join(spool.path, '..')).mode & 0o777).toString(8)).toBe('700');
    expect((await readAll(spool.read())).equals(Buffer.concat(data))).toBe(true);
    await spool.remove();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is not used when off, or when the directory lacks the archive size plus the reserve', async () => {
    expect(await openSpool(undefined, 1, log)).toBeUndefined();
    expect(await openSpool({ dir, keepFreeBytes: Number.MAX_SAFE_INTEGER }, 1, log)).toBeUndefined();
    expect(logs.text).toContain('not enough room to spool the archive');
    expect(await openSpool({ dir: join(dir, 'missing'), keepFreeBytes: 0 }, 1, log)).toBeUndefined();
    expect(logs.text).toContain('restore spool directory unusable');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed write disables the spool but never fails the stream it taps', async () => {
    const spool = (await openSpool({ dir, keepFreeBytes: 0 }, 1 << 20, log))!;
    // the spool's own directory vanishes before the file is opened: every write fails
    rmSync(join(spool.path, '..'), { recursive: true });
    const data = [randomBytes(1 << 20), randomBytes(1 << 20)];
    const out = collect();
    await pipeline(Readable.from(data), spool.tap(), out);
    expect(out.bytes().equals(Buffer.concat(data))).toBe(true);
    expect(spool.complete()).toBe(false);
    expect(logs.text).toContain('restore spool write failed');
    await spool.remove();
  });

  it('sweeps spools a dead process left more than a day ago, and only those', async () => {
    const old = join(dir, 'aks-restore-old');
    const fresh = join(dir, 'aks-restore-fresh');
    const other = join(dir, 'something-else');
    for (const d of [old, fresh, other]) mkdirSync(d);
    const twoDaysAgo = new Date(Date.now() - 48 * 3_600_000);
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    utimesSync(other, twoDaysAgo, twoDaysAgo);
    const spool = await openSpool({ dir, keepFreeBytes: 0 }, 1, log);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(other)).toBe(true);
    await spool?.remove();
  });
});
