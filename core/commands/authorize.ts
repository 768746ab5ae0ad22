import { ROLES, type Config, type Role } from '../config/schema.js';
import { AppError } from '../errors/app-error.js';
import { commandKey } from './registry.js';
import type { CommandSpec, Invocation } from './types.js';

/** The highest role configured for an actor; a higher role includes the lower ones. */
export function roleOf(actor: string, config: Config): Role | 'none' {
  const { roles, defaultRole } = config.access;
  for (const role of [...ROLES].reverse()) if (roles[role].includes(actor)) return role;
  return defaultRole;
}

export function isAllowed(have: Role | 'none', need: CommandSpec['role']): boolean {
  if (need === 'anyone') return true;
  if (have === 'none') return false;
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** The same check for every source: App, chat message, CLI, scheduler, console, email link. */
export function authorize(spec: CommandSpec, invocation: Invocation, config: Config): void {
  if (!isAllowed(roleOf(invocation.actor, config), spec.role)) {
    throw new AppError('AKS_FORBIDDEN', { actor: invocation.actor, command: commandKey(spec), role: String(spec.role) });
  }
}
