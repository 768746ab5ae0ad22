import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPENAPI_DIR } from '../../../fakes/rocketchat/contract.js';

/**
 * The fake Rocket.Chat checks every exchange against copies of the official OpenAPI files kept in the repository (so
 * a fresh clone runs alone). Where the team's shared contracts folder sits beside the checkout, the copies must be
 * byte-identical to it: an edited copy would let the fake and the bot agree on an API Rocket.Chat does not have.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const SHARED = join(ROOT, '..', 'shared', 'contracts', 'rocketchat-openapi');
const copies = readdirSync(OPENAPI_DIR).filter((f) => f.endsWith('.yaml')).sort();

describe('the fake Rocket.Chat contract copies', () => {
  it('are there (the fake checks against them)', () => {
    expect(copies).toEqual(expect.arrayContaining(['authentication.yaml', 'messaging.yaml', 'rooms.yaml', 'user-management.yaml']));
  });

  // Skipped only where the shared contracts folder is not beside the checkout (a clone on its own): there is
  // nothing to compare the copies with there.
  it.skipIf(!existsSync(SHARED)).each(copies)('%s is byte-identical to the shared contract', (name) => {
    const shared = join(SHARED, name);
    expect(existsSync(shared), `${name} is not in the shared contracts folder`).toBe(true);
    expect(readFileSync(join(OPENAPI_DIR, name)).equals(readFileSync(shared)), `${name} differs from the shared contract`).toBe(true);
  });
});
