import { readFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { EnvironmentConfig } from '../../config/schema.js';
import { AppError } from '../../errors/app-error.js';
import type { Redactor } from '../../log/redact.js';
import { resolveSecret, type KeyVaultReader } from '../../secrets/resolve.js';

export interface KubeConfigDeps {
  readonly redactor: Redactor;
  readonly env?: NodeJS.ProcessEnv;
  readonly keyVault?: KeyVaultReader;
}

/**
 * The KubeConfig of one environment, from its `kubernetes` settings: a kubeconfig file, or the kubeconfig text as
 * a secret (it carries credentials), and optionally the context to use. Never the ambient ~/.kube/config or
 * KUBECONFIG: a bot that manages several clusters must not act on whichever one the host happens to point at.
 */
export async function environmentKubeConfig(environment: string, k: EnvironmentConfig['kubernetes'], deps: KubeConfigDeps): Promise<KubeConfig> {
  const fail = (reason: string) => new AppError('AKS_KUBERNETES_NOT_CONFIGURED', { environment, reason });
  if (k.kubeconfigPath && k.kubeconfig) throw fail('set either kubernetes.kubeconfigPath or kubernetes.kubeconfig, not both');
  let text: string;
  if (k.kubeconfigPath) {
    try {
      text = await readFile(k.kubeconfigPath, 'utf8');
    } catch (err) {
      throw fail(`the kubeconfig file ${k.kubeconfigPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else if (k.kubeconfig) {
    text = await resolveSecret(k.kubeconfig, deps);
  } else {
    throw fail('neither kubernetes.kubeconfigPath nor kubernetes.kubeconfig is set');
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    // the parser's message may quote the file: keep only its first line, redacted
    throw fail(`the kubeconfig is not valid: ${deps.redactor.text(String((err as Error).message ?? err).split('\n')[0] ?? '').slice(0, 200)}`);
  }
  if (k.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(k.context)) throw fail(`the kubeconfig has no context "${k.context}" (it has: ${names.join(', ') || 'none'})`);
    kc.setCurrentContext(k.context);
  }
  if (!kc.getCurrentContext() || !kc.getContextObject(kc.getCurrentContext())) throw fail('the kubeconfig has no current context; set kubernetes.context');
  if (!kc.getCurrentCluster()) throw fail(`the context "${kc.getCurrentContext()}" names no cluster that the kubeconfig defines`);
  return kc;
}
