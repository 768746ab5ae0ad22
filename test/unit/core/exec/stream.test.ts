import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ExecError } from '../../../../core/errors/app-error.js';
import { createStreamExec } from '../../../../core/exec/stream.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { MemoryStream } from '../../../helpers/deps.js';

function setup() {
  const redactor = new Redactor();
  const logs = new MemoryStream();
  return { run: createStreamExec({ redactor, log: createLogger({ level: 'debug', redactor, destination: logs }) }), logs };
}

async function drain(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('streaming exec chokepoint', () => {
  it('streams a child’s stdout (8 MB) without buffering it in the result', async () => {
    const { run } = setup();
    const p = run(process.execPath, ['-e', 'const b=Buffer.alloc(1<<20,7);for(let i=0;i<8;i++)process.stdout.write(b)']);
    const out = await drain(p.stdout!);
    await expect(p.done).resolves.toMatchObject({ exitCode: 0 });
    expect(out.length).toBe(8 << 20);
  });

  it('pipes into a child’s stdin', async () => {
    const { run } = setup();
    const p = run(process.execPath, ['-e', 'const h=require("crypto").createHash("sha256");process.stdin.on("data",d=>h.update(d)).on("end",()=>process.stdout.write(h.digest("hex")))'], { stdin: 'pipe' });
    const data = Buffer.alloc(3 << 20, 3);
    const [, out] = await Promise.all([pipeline(Readable.from([data]), p.stdin!), drain(p.stdout!)]);
    await p.done;
    expect(out.toString()).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('rejects done with a redacted ExecError; secrets reach the child only by env; stderr lines are reported redacted', async () => {
    const { run, logs } = setup();
    const secret = 'Sup3r-s3cret-mongo-pw';
    const lines: string[] = [];
    const p = run(process.execPath, ['-e', 'console.error("writing 1 of 2");console.error("auth failed for "+process.env.PW);process.exit(3)'], {
      env: { PW: secret },
      secretEnv: ['PW'],
      stdout: 'ignore',
      onStderrLine: (l) => lines.push(l),
    });
    const err = (await p.done.catch((e: unknown) => e)) as ExecError;
    expect(err).toBeInstanceOf(ExecError);
    expect(err).toMatchObject({ code: 'AKS_EXEC_FAILED', exitCode: 3 });
    expect(err.stderr).toContain('auth failed for [REDACTED]');
    expect(lines).toEqual(['writing 1 of 2', 'auth failed for [REDACTED]']);
    expect(logs.text).not.toContain(secret);
  });

  it('a killed child rejects done (so a half-written dump cannot pass as finished)', async () => {
    const { run } = setup();
    const p = run(process.execPath, ['-e', 'setInterval(()=>process.stdout.write("x"),10)']);
    p.stdout!.once('data', () => p.kill('SIGKILL'));
    p.stdout!.resume();
    await expect(p.done).rejects.toMatchObject({ code: 'AKS_EXEC_FAILED' });
  });

  it('a missing program is AKS_EXEC_NOT_FOUND', async () => {
    const { run } = setup();
    const p = run('/nonexistent/mongodump', []);
    p.stdout?.resume();
    await expect(p.done).rejects.toMatchObject({ code: 'AKS_EXEC_NOT_FOUND' });
  });
});
