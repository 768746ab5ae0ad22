import type { Args } from '../commands/types.js';
import type { JsonObject } from '../store/types.js';

/**
 * A command's validated arguments as a run stores them (approved and background runs are started from these).
 * Absent values (undefined or null) are left out, so re-validating the stored arguments gives back the same
 * arguments; anything that is not a string, number or boolean is kept as its JSON text.
 */
export function argsToJson(args: Args): JsonObject {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
  }
  return out;
}
