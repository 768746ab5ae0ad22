import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface KilledChild {
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a fixture script with tsx and SIGKILLs it the moment it reports "IN_TX": no exit handlers, no rollback,
 * the same as the OOM killer or a node losing power mid-write (minus the page cache).
 */
export function killWhenInTransaction(fixture: string, args: readonly string[]): Promise<KilledChild> {
  const script = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('IN_TX')) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!stdout.includes('IN_TX')) {
        reject(new Error(`fixture ${fixture} exited (code ${code}, signal ${signal}) before IN_TX:\n${stderr}`));
      } else {
        resolve({ signal, stdout, stderr });
      }
    });
  });
}
