import type { ComponentName } from './types.js';

/** A sandbox failure names the component and carries the evidence (log tail) so nothing fails silently. */
export class SandboxError extends Error {
  constructor(
    readonly component: ComponentName | 'sandbox',
    message: string,
    readonly logTail?: string,
  ) {
    super(`[sandbox:${component}] ${message}${logTail ? `\n--- log tail ---\n${logTail}` : ''}`);
    this.name = 'SandboxError';
  }
}
