import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { exitGate } from '../../../../core/backup/exit-gate.js';
import { progressReporter } from '../../../../core/backup/progress.js';
import type { BackupProgress } from '../../../../core/backup/types.js';

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

describe('exit gate', () => {
  it('ends the stream only after the producer exited successfully', async () => {
    let exited!: () => void;
    const done = new Promise<void>((r) => (exited = r));
    let ended = false;
    const p = pipeline(Readable.from([Buffer.from('abc')]), exitGate(done), sink()).then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    exited();
    await p;
    expect(ended).toBe(true);
  });

  it('fails the stream when the producer failed, even though its output ended cleanly', async () => {
    const failed = Promise.reject(Object.assign(new Error('mongodump killed'), { code: 'AKS_EXEC_FAILED' }));
    failed.catch(() => undefined);
    await expect(pipeline(Readable.from([Buffer.from('half a dump')]), exitGate(failed), sink())).rejects.toMatchObject({ code: 'AKS_EXEC_FAILED' });
  });
});

describe('progress events', () => {
  it('report bytes, rate and the collection the tool names, throttled', () => {
    const events: BackupProgress[] = [];
    let t = 0;
    const p = progressReporter('dump', (e) => events.push(e), () => t, 1_000);
    t = 500;
    p.bytes(1_000); // throttled: less than a second since the start
    p.line('2026-11-27T00:00:00.000+0000\twriting rocketchat.users to archive on stdout');
    t = 2_000;
    p.bytes(4_000);
    p.done();
    expect(events[0]).toMatchObject({ phase: 'dump', bytes: 1_000, collection: 'rocketchat.users' });
    expect(events.at(-1)).toEqual({ phase: 'dump', bytes: 4_000, bytesPerSecond: 2_000, collection: 'rocketchat.users' });
  });
});
