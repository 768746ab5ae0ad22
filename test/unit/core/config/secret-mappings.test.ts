import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../../core/config/load.js';
import { secretMappingsOf } from '../../../../core/config/schema.js';
import { AppError } from '../../../../core/errors/app-error.js';

const yaml = (secrets: string, rocketchat = '') => `
environments:
  prod:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }
    credit: { monthlyUsd: 150 }
${rocketchat}
    secrets:
${secrets}
`;

function refusal(text: string): string {
  try {
    parseConfigText(text, 'c.yaml', {});
  } catch (err) {
    if (err instanceof AppError && err.code === 'AKS_CONFIG_INVALID') return err.message;
    throw err;
  }
  throw new Error('expected AKS_CONFIG_INVALID');
}

describe('secret mappings in the configuration', () => {
  it('defaults to the chart MongoDB Secret of rocketchat.release in rocketchat.namespace, then the listed mappings', () => {
    const config = parseConfigText(
      yaml('      keyVaultPrefix: prod-\n      mappings: [{ keyVault: rc-admin-password, secret: rc-admin, key: password }, { keyVault: smtp, namespace: mail, secret: smtp.creds, key: pass.word }]', '    rocketchat: { namespace: chat, release: rc }'),
      'c.yaml',
      {},
    );
    expect(secretMappingsOf(config.environments.prod!)).toEqual([
      { keyVault: 'prod-mongodb-root-password', namespace: 'chat', secret: 'rc-mongodb', key: 'mongodb-root-password' },
      { keyVault: 'prod-mongodb-passwords', namespace: 'chat', secret: 'rc-mongodb', key: 'mongodb-passwords' },
      { keyVault: 'prod-mongodb-metrics-password', namespace: 'chat', secret: 'rc-mongodb', key: 'mongodb-metrics-password' },
      { keyVault: 'prod-mongodb-replica-set-key', namespace: 'chat', secret: 'rc-mongodb', key: 'mongodb-replica-set-key' },
      { keyVault: 'rc-admin-password', namespace: 'chat', secret: 'rc-admin', key: 'password' },
      { keyVault: 'smtp', namespace: 'mail', secret: 'smtp.creds', key: 'pass.word' },
    ]);
  });

  it('without a secrets block: the chart keys of the default release', () => {
    const config = parseConfigText(yaml('      {}').replace('    secrets:\n      {}', ''), 'c.yaml', {});
    expect(secretMappingsOf(config.environments.prod!).map((m) => `${m.keyVault}>${m.namespace}/${m.secret}[${m.key}]`)).toEqual([
      'mongodb-root-password>rocketchat/rocketchat-mongodb[mongodb-root-password]',
      'mongodb-passwords>rocketchat/rocketchat-mongodb[mongodb-passwords]',
      'mongodb-metrics-password>rocketchat/rocketchat-mongodb[mongodb-metrics-password]',
      'mongodb-replica-set-key>rocketchat/rocketchat-mongodb[mongodb-replica-set-key]',
    ]);
    const off = parseConfigText(yaml('      chartMongodb: false'), 'c.yaml', {});
    expect(secretMappingsOf(off.environments.prod!)).toEqual([]);
  });

  it.each([
    ['a Key Vault name with an underscore', '{ keyVault: smtp_password, secret: s, key: k }', 'environments.prod.secrets.mappings.0.keyVault', 'a Key Vault secret name'],
    ['a Key Vault name of 128 characters', `{ keyVault: ${'a'.repeat(128)}, secret: s, key: k }`, 'environments.prod.secrets.mappings.0.keyVault', '1–127'],
    ['an uppercase namespace', '{ keyVault: x, namespace: Chat, secret: s, key: k }', 'environments.prod.secrets.mappings.0.namespace', 'a DNS-1123 label'],
    ['a namespace of 64 characters', `{ keyVault: x, namespace: ${'n'.repeat(64)}, secret: s, key: k }`, 'environments.prod.secrets.mappings.0.namespace', 'a DNS-1123 label'],
    ['a Secret name ending in a dash', '{ keyVault: x, secret: smtp-, key: k }', 'environments.prod.secrets.mappings.0.secret', 'a DNS-1123 subdomain'],
    ['a Secret name with a slash', '{ keyVault: x, secret: a/b, key: k }', 'environments.prod.secrets.mappings.0.secret', 'a DNS-1123 subdomain'],
    ['a Secret key with a space', '{ keyVault: x, secret: s, key: "my key" }', 'environments.prod.secrets.mappings.0.key', 'a Secret key'],
    ['a Secret key ".."', '{ keyVault: x, secret: s, key: ".." }', 'environments.prod.secrets.mappings.0.key', 'may not be "." or ".."'],
    ['an unknown setting', '{ keyVault: x, secret: s, key: k, value: hunter2 }', 'environments.prod.secrets.mappings.0', 'value'],
  ])('refuses %s, naming its path', (_what, mapping, path, reason) => {
    const message = refusal(yaml(`      mappings: [${mapping}]`));
    expect(message).toContain(path);
    expect(message).toContain(reason);
  });

  it('refuses a Key Vault secret mapped twice (names are case-insensitive) and a Secret key mapped twice', () => {
    const twiceVault = refusal(yaml('      mappings: [{ keyVault: smtp, secret: a, key: k }, { keyVault: SMTP, secret: b, key: k }]'));
    expect(twiceVault).toContain('environments.prod.secrets.mappings.1.keyVault');
    expect(twiceVault).toContain('Key Vault secret "SMTP" is mapped twice');
    const twiceKey = refusal(yaml('      mappings: [{ keyVault: one, secret: a, key: k }, { keyVault: two, namespace: rocketchat, secret: a, key: k }]'));
    expect(twiceKey).toContain('environments.prod.secrets.mappings.1');
    expect(twiceKey).toContain('Secret key rocketchat/a[k] is mapped twice');
    // a mapping that repeats a chart default
    const chart = refusal(yaml('      mappings: [{ keyVault: other, secret: rocketchat-mongodb, key: mongodb-root-password }]'));
    expect(chart).toContain('Secret key rocketchat/rocketchat-mongodb[mongodb-root-password] is mapped twice');
  });
});
