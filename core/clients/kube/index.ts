export { environmentKubeConfig, type KubeConfigDeps } from './kubeconfig.js';
