import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTofu, type Tofu } from '../../../../../core/clients/tofu/index.js';
import { AppError } from '../../../../../core/errors/app-error.js';
import { createLogger } from '../../../../../core/log/logger.js';
import { Redactor } from '../../../../../core/log/redact.js';
import { MemoryStream } from '../../../../helpers/deps.js';
import { repoRoot } from '../../../../sandbox/paths.js';
import { useSandbox } from '../../../../sandbox/use.js';

// The tofu client with the real OpenTofu CLI on a copy of the fixture root (built-in resources and local-exec only,
// no registry access), in a temporary folder so .terraform/ and the state stay out of the repository.

const ROOT = join(repoRoot, 'test/fixtures/tofu/sandbox-demo');

async function errorOf(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('core/clients/tofu with the real OpenTofu CLI', () => {
  let tofuBin: string;
  let baseEnv: Record<string, string>;
  let work: string;
  let root: string;
  let markers: string;
  const logs = new MemoryStream();
  const redactor = new Redactor();
  const log = createLogger({ level: 'debug', redactor, destination: logs });
  const client = (env: Record<string, string> = {}, binary = tofuBin): Tofu => createTofu({ binary, workdir: root, env: { ...baseEnv, ...env }, redactor, log });

  beforeAll(async () => {
    const sb = await useSandbox(['tofu']);
    tofuBin = sb.tofu.tofu!;
    work = mkdtempSync(join(tmpdir(), 'tofu-client-'));
    root = join(work, 'root');
    markers = join(work, 'markers');
    mkdirSync(markers);
    cpSync(ROOT, root, { recursive: true });
    baseEnv = {
      TF_CLI_CONFIG_FILE: sb.tofu.cliConfigFile!,
      TF_PLUGIN_CACHE_DIR: sb.tofu.pluginCacheDir!,
      TF_VAR_marker_dir: markers,
      TF_VAR_cluster_name: 'aks-client',
      TF_VAR_node_count: '2',
    };
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('version, init, plan (changes), apply the saved plan, plan (none), output, destroy', async () => {
    const tofu = client();
    expect(await tofu.version()).toMatch(/^1\.\d+\.\d+/);
    await tofu.init();

    const planFile = join(work, 'create.tfplan');
    expect(await tofu.plan({ out: planFile })).toEqual({ changes: true });
    // planning changed nothing
    expect(existsSync(join(markers, 'created-aks-client'))).toBe(false);
    await tofu.apply({ planFile });
    expect(readFileSync(join(markers, 'created-aks-client'), 'utf8')).toBe('aks-client-node-00,aks-client-node-01\n');
    expect(await tofu.plan()).toEqual({ changes: false });

    const out = await tofu.output();
    expect(out.cluster).toMatchObject({ sensitive: false, value: { name: 'aks-client', nodes: ['aks-client-node-00', 'aks-client-node-01'] } });
    expect(out.node_count).toEqual({ sensitive: false, value: 2 });
    expect(out.admin_password).toEqual({ sensitive: true, value: 'not-a-real-secret' });
    // a sensitive output is a known secret from now on
    expect(redactor.text('password is not-a-real-secret')).not.toContain('not-a-real-secret');

    // another variable: changes pending, applied without a saved plan
    const grown = client({ TF_VAR_node_count: '3' });
    expect(await grown.plan()).toEqual({ changes: true });
    await grown.apply({ autoApprove: true });
    // updated in place (a create-time provisioner does not run again): the state and outputs say 3
    expect(await grown.plan()).toEqual({ changes: false });
    expect((await grown.output()).cluster?.value).toMatchObject({ nodes: ['aks-client-node-00', 'aks-client-node-01', 'aks-client-node-02'] });

    expect(await grown.plan({ destroy: true, out: join(work, 'destroy.tfplan') })).toEqual({ changes: true });
    expect(existsSync(join(markers, 'destroyed-aks-client'))).toBe(false);
    await grown.destroy();
    expect(readFileSync(join(markers, 'destroyed-aks-client'), 'utf8')).toBe('destroyed aks-client\n');
    expect(await grown.output()).toEqual({});
    expect(await grown.plan({ destroy: true })).toEqual({ changes: false });

    // every command ran unattended
    expect(logs.text).toMatch(/apply -input=false -no-color/);
    expect(logs.text).toMatch(/destroy -input=false -no-color -auto-approve/);
  });

  it('a failing command is AKS_TOFU_FAILED with the folder and OpenTofu\'s error, and changes nothing', async () => {
    const bad = client({ TF_VAR_node_count: '11' });
    await bad.init();
    const err = await errorOf(bad.plan());
    expect(err.code).toBe('AKS_TOFU_FAILED');
    expect(err.details).toMatchObject({ action: 'plan', workdir: root, exitCode: 1 });
    expect(err.message).toContain('node_count must be between 1 and 10.');

    const applied = await errorOf(bad.apply({ autoApprove: true }));
    expect(applied.code).toBe('AKS_TOFU_FAILED');
    // the state is still empty: nothing to destroy
    expect(await client().plan({ destroy: true })).toEqual({ changes: false });
  });

  it('refuses output it cannot read with AKS_TOOL_OUTPUT_INVALID', async () => {
    const stub = (name: string, body: string): Tofu => {
      const p = join(work, name);
      writeFileSync(p, `#!/bin/sh\n${body}\n`);
      chmodSync(p, 0o755);
      return client({}, p);
    };
    const garbage = await errorOf(stub('tofu-garbage', "echo 'Outputs: cluster = {'").output());
    expect(garbage.code).toBe('AKS_TOOL_OUTPUT_INVALID');
    expect(garbage.details).toMatchObject({ tool: 'tofu', action: 'output -json' });

    const shape = await errorOf(stub('tofu-shape', `echo '{"cluster":{"value":1}}'`).output());
    expect(shape.code).toBe('AKS_TOOL_OUTPUT_INVALID');
    expect(shape.message).toContain('cluster.sensitive');

    const version = await errorOf(stub('tofu-version', `echo '{"terraform_version":5}'`).version());
    expect(version.code).toBe('AKS_TOOL_OUTPUT_INVALID');

    // an exit code -detailed-exitcode does not define is a failure, not "changes"
    const three = await errorOf(stub('tofu-exit3', 'echo boom >&2; exit 3').plan());
    expect(three.code).toBe('AKS_TOFU_FAILED');
    expect(three.message).toContain('boom');
  });
});
