import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecError } from '../../../../core/errors/app-error.js';
import { createExec } from '../../../../core/exec/exec.js';
import { killAllChildren, liveProcessGroups, procStat } from '../../../../core/exec/process-group.js';
import { createStreamExec } from '../../../../core/exec/stream.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { MemoryStream } from '../../../helpers/deps.js';
import { eventually, pidsOf, running, treeScript } from './tree.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'aks-pgroup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function setup() {
  const redactor = new Redactor();
  const log = createLogger({ level: 'debug', redactor, destination: new MemoryStream() });
  return { stream: createStreamExec({ redactor, log }), exec: createExec({ redactor, log }) };
}

/** The first stdout line of a streaming child. */
function firstLine(p: { stdout: NodeJS.ReadableStream | null }): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
    p.stdout!.on('end', () => reject(new Error(`no line: ${text}`)));
  });
}

describe('child processes die with their run', () => {
  it('aborting a streaming child stops it and its grandchild; done rejects, coded, as cancelled', async () => {
    const { stream } = setup();
    const abort = new AbortController();
    const p = stream(process.execPath, ['-e', treeScript()], { signal: abort.signal });
    const [child, grandchild] = pidsOf(await firstLine(p));
    expect(procStat(grandchild)?.pgrp).toBe(child); // the tool leads its own group; the grandchild is in it
    expect(running(grandchild)).toBe(true);
    abort.abort();
    const err = (await p.done.catch((e: unknown) => e)) as ExecError;
    expect(err).toBeInstanceOf(ExecError);
    expect(err.code).toBe('AKS_EXEC_FAILED');
    expect(err.stderr).toContain('stopped: its run was cancelled');
    expect(running(child)).toBe(false);
    expect(running(grandchild)).toBe(false);
    expect(liveProcessGroups().map((g) => g.pgid)).not.toContain(child);
  });

  it('aborting a buffered child stops it and its grandchild', async () => {
    const { exec } = setup();
    const pidFile = join(work, 'buffered.pids');
    const abort = new AbortController();
    const call = exec(process.execPath, ['-e', treeScript({ pidFile })], { signal: abort.signal }).catch((e: unknown) => e);
    expect(await eventually(() => readIfThere(pidFile) !== '')).toBe(true);
    const [child, grandchild] = pidsOf(readIfThere(pidFile));
    abort.abort();
    expect(await call).toMatchObject({ code: 'AKS_EXEC_FAILED' });
    expect(running(child)).toBe(false);
    expect(running(grandchild)).toBe(false);
  });

  it('a group that ignores SIGTERM is SIGKILLed after the grace', async () => {
    const { stream } = setup();
    const abort = new AbortController();
    const p = stream(process.execPath, ['-e', treeScript({ ignoreTerm: true })], { signal: abort.signal, killGraceMs: 200 });
    const [child, grandchild] = pidsOf(await firstLine(p));
    abort.abort();
    await expect(p.done).rejects.toMatchObject({ code: 'AKS_EXEC_FAILED' });
    expect(running(child)).toBe(false);
    expect(running(grandchild)).toBe(false);
  });

  it('a signal aborted before the start stops the child at once', async () => {
    const { stream } = setup();
    const p = stream(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { signal: AbortSignal.abort() });
    p.stdout?.resume();
    await expect(p.done).rejects.toMatchObject({ code: 'AKS_EXEC_FAILED' });
    if (p.pid) expect(running(p.pid)).toBe(false);
  });

  it('what a tool leaves in its group when it exits is stopped before done resolves', async () => {
    const { stream } = setup();
    const p = stream(process.execPath, ['-e', treeScript({ exitAfterPids: true })]);
    const [, grandchild] = pidsOf(await firstLine(p));
    await expect(p.done).resolves.toMatchObject({ exitCode: 0 });
    expect(running(grandchild)).toBe(false);
  });

  it('a timeout stops the grandchild too', async () => {
    const { exec } = setup();
    const pidFile = join(work, 'timeout.pids');
    const err = await exec(process.execPath, ['-e', treeScript({ pidFile })], { timeoutMs: 4_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_EXEC_TIMEOUT' });
    const [child, grandchild] = pidsOf(readIfThere(pidFile));
    expect(running(child)).toBe(false);
    expect(running(grandchild)).toBe(false);
  });

  it('killAllChildren() stops every live group (what a shutdown calls)', async () => {
    // the groups of the tests above are all gone and forgotten: none leaks into what a shutdown has to stop
    await eventually(() => liveProcessGroups().length === 0, 500);
    expect(liveProcessGroups()).toEqual([]);
    const { stream } = setup();
    const a = stream(process.execPath, ['-e', treeScript()]);
    const b = stream(process.execPath, ['-e', treeScript({ ignoreTerm: true })]);
    const pids = [...pidsOf(await firstLine(a)), ...pidsOf(await firstLine(b))];
    expect(liveProcessGroups().map((g) => g.pgid)).toEqual(expect.arrayContaining([pids[0], pids[2]]));
    await killAllChildren(200);
    for (const pid of pids) expect(running(pid)).toBe(false);
    expect(liveProcessGroups()).toEqual([]);
    await expect(a.done).rejects.toBeInstanceOf(ExecError);
    await expect(b.done).rejects.toBeInstanceOf(ExecError);
  });

  it.each([
    ['exits (process.exit: the exit hook)', 'exit'],
    ['is killed with SIGKILL (the watchdog)', 'hang'],
  ])('when the bot %s, its tool and the tool’s child do not outlive it', async (_what, mode) => {
    const bot = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/bot-with-child.ts', import.meta.url)), mode], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => bot.once('exit', () => resolve()));
    let out = '';
    bot.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    expect(await eventually(() => /PIDS \d+ \d+\n/.test(out), 3_000)).toBe(true);
    const [child, grandchild] = pidsOf(/PIDS (\d+ \d+)/.exec(out)![1]!);
    if (mode === 'hang') bot.kill('SIGKILL');
    await exited;
    // the kill happens in the watchdog or the exit hook, outside this test's view: wait for its effect
    expect(await eventually(() => !running(child) && !running(grandchild))).toBe(true);
  });
});

function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
