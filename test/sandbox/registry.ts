import { kubernetes } from './components/kubernetes.js';
import { azurite } from './components/azurite.js';
import { keyvault } from './components/keyvault.js';
import { smtp } from './components/smtp.js';
import { ferretdb } from './components/ferretdb.js';
import { mongoTools } from './components/mongo-tools.js';
import { helm } from './components/helm.js';
import { tofu } from './components/tofu.js';
import type { Component } from './types.js';

/**
 * Every sandbox component, listed once. `test/sandbox/registry.test.ts` checks that this list, the files in
 * components/ and COMPONENT_NAMES agree.
 */
export const components: readonly Component[] = [
  kubernetes,
  azurite,
  keyvault,
  smtp,
  ferretdb,
  mongoTools,
  helm,
  tofu,
];
