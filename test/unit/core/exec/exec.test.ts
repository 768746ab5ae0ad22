import { describe, expect, it } from 'vitest';
import { ExecError } from '../../../../core/errors/app-error.js';
import { createExec } from '../../../../core/exec/exec.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { MemoryStream } from '../../../helpers/deps.js';

function setup() {
  const redactor = new Redactor();
  const logs = new MemoryStream();
  return { exec: createExec({ redactor, log: createLogger({ level: 'debug', redactor, destination: logs }) }), logs, redactor };
}

describe('exec chokepoint', () => {
  it('returns output of a successful command', async () => {
    const { exec } = setup();
    const r = await exec(process.execPath, ['-e', 'process.stdout.write("hi")']);
    expect(r).toMatchObject({ stdout: 'hi', exitCode: 0 });
  });

  it('wraps a failure with command, exit code and redacted stderr; the secret went by env, not argv', async () => {
    const { exec, logs } = setup();
    const secret = 'Sup3r-s3cret-mongo-pw';
    const script = 'process.stderr.write("auth failed with " + process.env.MONGO_PW + "\\n"); process.exit(7)';
    const err = await exec(process.execPath, ['-e', script], { env: { MONGO_PW: secret }, secretEnv: ['MONGO_PW'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    const e = err as ExecError;
    expect(e).toMatchObject({ code: 'AKS_EXEC_FAILED', exitCode: 7 });
    expect(e.command).toContain(process.execPath);
    expect(e.stderr).toBe('auth failed with [REDACTED]\n');
    expect(e.message).toContain('exit code 7');
    expect(logs.text).not.toContain(secret);
  });

  it('reports a timeout', async () => {
    const { exec } = setup();
    const err = await exec(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_EXEC_TIMEOUT' });
  });

  it('reports a missing program', async () => {
    const { exec } = setup();
    await expect(exec('definitely-not-installed-xyz', [])).rejects.toMatchObject({ code: 'AKS_EXEC_NOT_FOUND' });
  });
});
