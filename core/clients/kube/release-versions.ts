import type { AppsV1Api, V1Deployment } from '@kubernetes/client-node';
import type { Logger } from '../../log/logger.js';

export interface ReleaseVersions {
  /** The chart label as Helm writes it, e.g. "rocketchat-7.0.2". */
  readonly chart?: string;
  /** The Rocket.Chat version running, e.g. "8.6.1". */
  readonly app?: string;
}

/**
 * The chart and app versions of the Rocket.Chat release, for the manifest, read from its Deployment: the chart
 * labels it `helm.sh/chart: rocketchat-<version>` and `app.kubernetes.io/instance: <release>`, and runs the
 * container `rocketchat` with image tag `image.tag | default .Chart.AppVersion` (RocketChat/helm-charts
 * chat-deployment.yaml; it sets no `app.kubernetes.io/version`, which is used when present).
 *
 * Why the Deployment and not Helm's release Secret (`sh.helm.release.v1.<release>.v<N>`): the Secret holds the
 * whole gzipped release including every value (the MongoDB passwords among them), so reading it needs `get
 * secrets` on Helm's storage and puts all of that in the bot's memory for two version strings; the Deployment is
 * what actually runs, needs only `list deployments`, and carries both. A lookup that fails leaves the fields out
 * (logged): a backup must not fail because its label could not be read.
 */
export async function releaseVersions(apps: Pick<AppsV1Api, 'listNamespacedDeployment'>, target: { namespace: string; release: string }, log: Logger): Promise<ReleaseVersions> {
  try {
    const list = await apps.listNamespacedDeployment({ namespace: target.namespace, labelSelector: `app.kubernetes.io/instance=${target.release}` });
    const deployment = pickRocketChat(list.items);
    if (!deployment) {
      log.warn({ namespace: target.namespace, release: target.release }, 'no Rocket.Chat Deployment of the release found; chart and app versions left out of the manifest');
      return {};
    }
    const labels = deployment.metadata?.labels ?? {};
    const chart = labels['helm.sh/chart'];
    const app = labels['app.kubernetes.io/version'] ?? imageTag(deployment.spec?.template.spec?.containers.find((c) => c.name === 'rocketchat')?.image);
    return { ...(chart ? { chart } : {}), ...(app ? { app } : {}) };
  } catch (err) {
    log.warn({ err, namespace: target.namespace }, 'could not read the Rocket.Chat Deployment; chart and app versions left out of the manifest');
    return {};
  }
}

/** The release's main Rocket.Chat Deployment: a `rocketchat-*` chart label and a container named rocketchat. */
function pickRocketChat(items: readonly V1Deployment[]): V1Deployment | undefined {
  const fromChart = items.filter((d) => d.metadata?.labels?.['helm.sh/chart']?.startsWith('rocketchat-'));
  return (
    fromChart.find((d) => d.metadata?.labels?.['app.kubernetes.io/name'] === 'rocketchat') ??
    fromChart.find((d) => d.spec?.template.spec?.containers.some((c) => c.name === 'rocketchat')) ??
    fromChart[0]
  );
}

/** "registry.rocket.chat/rocketchat/rocket.chat:8.6.1" → "8.6.1"; a digest-only or untagged image → undefined. */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const name = image.split('@')[0]!;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) || undefined : undefined;
}
