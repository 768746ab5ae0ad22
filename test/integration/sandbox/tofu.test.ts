import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../sandbox/paths.js';
import { useSandbox } from '../../sandbox/use.js';

/**
 * The real OpenTofu CLI on a root that uses only built-in resources (terraform_data + local-exec):
 * init offline, apply, outputs as JSON, a no-change plan, destroy with its destroy-time provisioner.
 */

const ROOT = join(repoRoot, 'test/fixtures/tofu/sandbox-demo');

interface Outputs {
  cluster: { sensitive: boolean; value: { id: string; name: string; nodes: string[] } };
  node_count: { sensitive: boolean; value: number };
  backup_label: { sensitive: boolean; value: string };
  admin_password: { sensitive: boolean; value: string };
}

describe('sandbox: OpenTofu init/apply/destroy with built-in resources', () => {
  let tofuBin: string;
  let env: Record<string, string>;
  let work: string;
  let root: string;
  let markers: string;

  const tofu = async (...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> => {
    const r = await execa(tofuBin, args, { cwd: root, env, reject: false });
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = async (...args: string[]): Promise<string> => {
    const r = await tofu(...args);
    if (r.exitCode !== 0) throw new Error(`tofu ${args.join(' ')}: exit ${r.exitCode}\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };

  beforeAll(async () => {
    const sb = await useSandbox(['tofu']);
    tofuBin = sb.tofu.tofu!;
    work = mkdtempSync(join(tmpdir(), 'tofu-sandbox-'));
    root = join(work, 'root');
    markers = join(work, 'markers');
    mkdirSync(markers);
    // a copy, so .terraform/ and the state file stay out of the repository
    cpSync(ROOT, root, { recursive: true });
    env = {
      TF_CLI_CONFIG_FILE: sb.tofu.cliConfigFile!,
      TF_PLUGIN_CACHE_DIR: sb.tofu.pluginCacheDir!,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      TF_VAR_marker_dir: markers,
    };
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('init, apply, output -json, plan without changes, destroy', async () => {
    const init = await ok('init', '-no-color');
    expect(init).toContain('OpenTofu has been successfully initialized!');
    expect(init).toContain('terraform.io/builtin/terraform is built in to OpenTofu');
    // nothing was installed: with only the built-in provider init does not even create .terraform/providers
    expect(existsSync(join(root, '.terraform', 'providers'))).toBe(false);

    await ok('apply', '-auto-approve', '-no-color', '-var', 'cluster_name=aks-sandbox', '-var', 'node_count=3');
    const nodes = ['aks-sandbox-node-00', 'aks-sandbox-node-01', 'aks-sandbox-node-02'];
    expect(readFileSync(join(markers, 'created-aks-sandbox'), 'utf8')).toBe(`${nodes.join(',')}\n`);
    expect(existsSync(join(markers, 'destroyed-aks-sandbox'))).toBe(false);

    const out = JSON.parse(await ok('output', '-json')) as Outputs;
    expect(out.cluster.sensitive).toBe(false);
    expect(out.cluster.value).toMatchObject({ name: 'aks-sandbox', nodes });
    expect(out.cluster.value.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.node_count.value).toBe(3);
    expect(out.backup_label.value).toBe('aks-sandbox-backup');
    expect(out.admin_password).toEqual({ sensitive: true, type: 'string', value: 'not-a-real-secret' });
    expect((await ok('output', '-raw', 'backup_label')).trim()).toBe('aks-sandbox-backup');

    const state = (await ok('state', 'list')).trim().split('\n').sort();
    expect(state).toEqual(['terraform_data.backup', 'terraform_data.cluster']);

    // same variables: nothing to do (exit 0); a changed one: changes pending (exit 2)
    expect((await tofu('plan', '-detailed-exitcode', '-no-color', '-var', 'cluster_name=aks-sandbox', '-var', 'node_count=3')).exitCode).toBe(0);
    const drift = await tofu('plan', '-detailed-exitcode', '-no-color', '-var', 'cluster_name=aks-sandbox', '-var', 'node_count=4');
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toContain('terraform_data.cluster will be updated in-place');
    expect(drift.stdout).toContain('Plan: 0 to add, 2 to change, 0 to destroy.');

    // a validation rule in the root is enforced by the real CLI
    const invalid = await tofu('plan', '-no-color', '-var', 'node_count=11');
    expect(invalid.exitCode).toBe(1);
    expect(invalid.stderr).toContain('node_count must be between 1 and 10.');

    await ok('destroy', '-auto-approve', '-no-color', '-var', 'cluster_name=aks-sandbox', '-var', 'node_count=3');
    expect(readFileSync(join(markers, 'destroyed-aks-sandbox'), 'utf8')).toBe('destroyed aks-sandbox\n');
    expect((await ok('state', 'list')).trim()).toBe('');
    expect(JSON.parse(await ok('output', '-json'))).toEqual({});
  });

  it('refuses a provider that would need the registry, fast and without network', async () => {
    const other = join(work, 'needs-provider');
    mkdirSync(other);
    cpSync(join(ROOT, 'main.tf'), join(other, 'main.tf'));
    writeFileSync(join(other, 'provider.tf'), 'terraform {\n  required_providers {\n    random = { source = "hashicorp/random" }\n  }\n}\n');
    const t0 = Date.now();
    const r = await execa(tofuBin, ['init', '-no-color'], { cwd: other, env, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.replace(/\s+/g, ' ')).toContain('provider registry.opentofu.org/hashicorp/random was not found in any of the search locations');
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
