/**
 * Every error the bot can show a user, with a stable code and a way out. docs/errors.md is kept identical by
 * test/unit/errors/catalog.test.ts (both directions), so the code and the docs cannot drift.
 */
export interface ErrorSpec {
  /** What went wrong, for the user; may contain {placeholders} filled from the error's details. */
  readonly message: string;
  /** What to do about it. */
  readonly fix: string;
}

export const errorCatalog = {
  AKS_CONFIG_NOT_FOUND: {
    message: 'The configuration file {path} does not exist or cannot be read.',
    fix: 'Pass --config with the path of your YAML file, or set AKS_BOT_CONFIG. Start from infrastructure/config/example.yaml.',
  },
  AKS_CONFIG_PARSE: {
    message: 'The configuration file {path} is not valid YAML: {reason}.',
    fix: 'Fix the YAML syntax at the line and column named in the message.',
  },
  AKS_CONFIG_INVALID: {
    message: 'The configuration is invalid: {issues}.',
    fix: 'Correct each setting at the path named in the message; infrastructure/config/example.yaml documents every setting.',
  },
  AKS_CONFIG_ENV_OVERRIDE: {
    message: 'The environment override {variable} is not valid: {reason}.',
    fix: 'Overrides are named AKS_BOT__<path with __ between keys>, e.g. AKS_BOT__bot__listen__port=9090; fix or unset the variable.',
  },
  AKS_UNKNOWN_COMMAND: {
    message: 'Unknown command "{command}".',
    fix: 'Run "help" for the list of commands.',
  },
  AKS_INVALID_ARGUMENTS: {
    message: 'Invalid arguments for "{command}": {issues}.',
    fix: 'See the usage and example above; run "help {command}" for every option.',
  },
  AKS_UNKNOWN_ENVIRONMENT: {
    message: 'There is no environment "{environment}" in the configuration (known: {known}).',
    fix: 'Pass --env with one of the configured environments, or add it under environments: in the configuration.',
  },
  AKS_NOT_AVAILABLE: {
    message: 'The command "{command}" is not available yet: {reason}.',
    fix: 'Nothing was changed. Follow the project issues for when this command lands.',
  },
  AKS_FORBIDDEN: {
    message: '{actor} may not run "{command}": it needs the {role} role.',
    fix: 'Ask an admin to grant the role under access.roles in the configuration.',
  },
  AKS_APPROVAL_REQUIRED: {
    message: '"{command}" is destructive and needs an approval, which is not available yet.',
    fix: 'Run it with --dry-run to see its plan. Nothing was changed.',
  },
  AKS_SECRET_UNRESOLVED: {
    message: 'The secret {reference} could not be resolved: {reason}.',
    fix: 'Set the environment variable or create the Key Vault secret named in the configuration.',
  },
  AKS_EXEC_FAILED: {
    message: 'The command {command} failed with exit code {exitCode}.',
    fix: 'Read the stderr excerpt in the details; the full output is in the bot log.',
  },
  AKS_EXEC_TIMEOUT: {
    message: 'The command {command} did not finish within {timeoutMs} ms and was stopped.',
    fix: 'Check that the target is reachable; raise the timeout in the configuration if the operation is legitimately slow.',
  },
  AKS_EXEC_NOT_FOUND: {
    message: 'The program {command} is not installed or not on PATH.',
    fix: 'Install it (see the README) or set its path in the configuration.',
  },
  AKS_STORE_MIGRATION: {
    message: 'The state database could not be migrated: {reason}.',
    fix: 'Check the database path and that no newer version of the bot wrote to it; restore the file from its backup if needed.',
  },
  AKS_RUN_NOT_FOUND: {
    message: 'There is no run {runId}.',
    fix: 'Run "runs" to list recent runs.',
  },
  AKS_INTERNAL: {
    message: 'An unexpected error occurred (reference {reference}).',
    fix: 'Nothing was reported to chat beyond this message; the bot log has the details under this reference.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;
