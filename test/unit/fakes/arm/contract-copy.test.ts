import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPENAPI_DIR } from '../../../fakes/arm/contract.js';

/**
 * The fake ARM checks every exchange against copies of the Azure REST API definitions kept in the repository (so a
 * fresh clone runs alone), in the same specification/... layout so their relative $refs resolve. Where the team's
 * shared contracts folder sits beside the checkout, every copy must be byte-identical to it: an edited copy would
 * let the fake and the bot agree on an API Azure does not have.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const SHARED = join(ROOT, '..', 'shared', 'contracts', 'azure-openapi');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}
const copies = walk(OPENAPI_DIR)
  .map((f) => relative(OPENAPI_DIR, f).split(sep).join('/'))
  .sort();

describe('the fake ARM contract copies', () => {
  it('are there: the definitions of what the fake serves and the common types they refer to', () => {
    expect(copies).toEqual(
      expect.arrayContaining([
        'specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2022-12-01/subscriptions.json',
        'specification/cost-management/resource-manager/Microsoft.CostManagement/CostManagement/stable/2022-10-01/costmanagement.json',
        'specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-04-01/managedClusters.json',
        'specification/compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/DiskRP.json',
        'specification/common-types/resource-management/v5/types.json',
      ]),
    );
    expect(copies.every((c) => c.startsWith('specification/') && c.endsWith('.json'))).toBe(true);
  });

  // Skipped only where the shared contracts folder is not beside the checkout (a clone on its own): there is
  // nothing to compare the copies with there.
  it.skipIf(!existsSync(SHARED)).each(copies)('%s is byte-identical to the shared contract', (name) => {
    const shared = join(SHARED, name);
    expect(existsSync(shared), `${name} is not in the shared contracts folder`).toBe(true);
    expect(readFileSync(join(OPENAPI_DIR, name)).equals(readFileSync(shared)), `${name} differs from the shared contract`).toBe(true);
  });
});
