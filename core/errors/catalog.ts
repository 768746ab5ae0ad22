/**
 * Every error the bot can show a user, with a stable code and a way out. docs/errors.md is kept identical by
 * test/unit/core/errors/catalog.test.ts (both directions), so the code and the docs cannot drift.
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
    message: '"{command}" is destructive and needs an approval, but it has no plan to show the approvers yet.',
    fix: 'Nothing was changed. The command becomes approvable when its plan lands; until then it cannot run.',
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
  AKS_HELM_FAILED: {
    message: 'helm {action} of the release {release} in namespace {namespace} failed with exit code {exitCode}; helm said: "{stderr}".',
    fix: 'Read what helm said: a chart that cannot be found or rendered, values it refuses, or a cluster it cannot reach are the usual causes. Fix that and run the command again.',
  },
  AKS_TOFU_FAILED: {
    message: 'tofu {action} in {workdir} failed with exit code {exitCode}; OpenTofu said: "{stderr}".',
    fix: 'Read what OpenTofu said: a missing variable or provider, a locked or changed state, or a cloud API that refused the change are the usual causes. Fix that and run the command again; the state shows what was already done.',
  },
  AKS_TOOL_OUTPUT_INVALID: {
    message: '{tool} {action} printed output the bot cannot read: {reason}.',
    fix: 'Nothing more was done with it. Check that {tool} is the version the README names (an older or newer one may print another format) and that nothing else writes to its standard output.',
  },
  AKS_STORE_MIGRATION: {
    message: 'The state database could not be migrated: {reason}.',
    fix: 'Check the database path and that no newer version of the bot wrote to it; restore the file from its backup if needed.',
  },
  AKS_RUN_NOT_FOUND: {
    message: 'There is no run {runId}.',
    fix: 'Run "runs" to list recent runs.',
  },
  AKS_RUN_INTERRUPTED: {
    message: 'Run {runId} ({command} on {environment}) stopped without finishing: the process running it ended during step "{step}".',
    fix: 'Nothing was rolled back. Read "runs {runId}" for its journal and check what the step left behind, then ask for the command again.',
  },
  AKS_AZURE_NOT_CONFIGURED: {
    message: 'The environment {environment} has no Azure access configured (azure.credential is none), so {what} cannot be read.',
    fix: 'Set azure.credential to default for this environment and give the bot an identity (managed identity, AZURE_* variables or az login) with Reader and Cost Management Reader on the subscription.',
  },
  AKS_AZURE_CREDENTIAL: {
    message: 'The bot could not sign in to Azure for the environment {environment}: {reason}.',
    fix: 'Give the bot an identity: a managed identity, the AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET variables, or an az login on its host.',
  },
  AKS_AZURE_REQUEST_FAILED: {
    message: 'Azure answered {operation} with HTTP {status} ({azureCode}) after retries.',
    fix: 'Check the Azure status page and the bot identity\'s roles on the subscription; the request is safe to repeat.',
  },
  AKS_AZURE_SUBSCRIPTION_DISABLED: {
    message: 'The subscription is disabled and read-only: Azure refused {operation} (ReadOnlyDisabledSubscription).',
    fix: 'Nothing can be created or changed until the next billing period re-enables the subscription (or the spending limit is removed); reads and deletes still work.',
  },
  AKS_AZURE_RESPONSE_INVALID: {
    message: 'Azure answered {operation} with data the bot does not understand: {issues}.',
    fix: 'Nothing was changed. The API may have changed shape; report it with the bot log, which has the raw answer.',
  },
  AKS_WEBHOOK_UNAUTHORIZED: {
    message: 'The webhook call was refused: the secret in its URL is missing or wrong.',
    fix: 'Use the URL {publicUrl}/webhooks/budget/<secret> with the secret named by budgetWebhook.secret in the configuration.',
  },
  AKS_WEBHOOK_INVALID: {
    message: 'The webhook payload is not an Azure Monitor common-alert-schema budget alert: {issues}.',
    fix: 'Enable the common alert schema on the action group\'s webhook action; nothing was changed.',
  },
  AKS_BACKUP_NOT_CONFIGURED: {
    message: 'Backups are not configured for environment {environment}: {reason}.',
    fix: 'Set the missing settings under environments.{environment}.backup (see infrastructure/config/example.yaml).',
  },
  AKS_BACKUP_NOT_FOUND: {
    message: 'There is no complete backup set {backupId} for environment {environment}.',
    fix: 'Run "backup list" to see the complete sets; a set without a manifest is incomplete and cannot be used.',
  },
  AKS_BACKUP_DEFAULT_PASSWORD: {
    message: 'The MongoDB password of {environment} is the chart fallback "changeme"; refusing to back it up.',
    fix: 'Set real passwords in the <release>-mongodb secret (mongodb-root-password, mongodb-passwords) and run again.',
  },
  AKS_BACKUP_FORMAT: {
    message: 'The archive of backup {backupId} is not an encrypted backup this bot can read: {reason}.',
    fix: 'The blob was replaced or written by something else; use another backup set and keep this one for inspection.',
  },
  AKS_BACKUP_TRUNCATED: {
    message: 'The archive of backup {backupId} is truncated: {reason}.',
    fix: 'The upload did not finish or the blob was cut; this set cannot be restored. Use an older verified set.',
  },
  AKS_BACKUP_TAMPERED: {
    message: 'Chunk {chunk} of backup {backupId} failed authentication: the archive was modified or damaged.',
    fix: 'Do not restore this set. Use an older verified set and investigate who can write to the backup container.',
  },
  AKS_BACKUP_CHUNK_ORDER: {
    message: 'Backup {backupId} has chunk {found} where chunk {expected} belongs: chunks were reordered, dropped or duplicated.',
    fix: 'Do not restore this set. Use an older verified set and investigate who can write to the backup container.',
  },
  AKS_BACKUP_FOREIGN_CHUNK: {
    message: 'Chunk {chunk} of backup {backupId} belongs to another backup.',
    fix: 'The archive was spliced from several backups. Do not restore it; use an older verified set.',
  },
  AKS_BACKUP_ID_MISMATCH: {
    message: 'The {what} names backup {found}, but backup {expected} was asked for.',
    fix: 'A blob or manifest was copied from another backup set. Use "backup list" and restore a consistent set.',
  },
  AKS_BACKUP_TRAILING_DATA: {
    message: 'Backup {backupId} has data after its final chunk.',
    fix: 'The blob was appended to after the backup finished. Do not restore it; use an older verified set.',
  },
  AKS_BACKUP_KEY_UNAVAILABLE: {
    message: 'The data key of backup {backupId} could not be unwrapped with key {keyId}: {reason}.',
    fix: 'Check that the Key Vault key (and the version that wrapped it) still exists and the bot may unwrapKey with it.',
  },
  AKS_BACKUP_MANIFEST_MISSING: {
    message: 'Backup {backupId} has no manifest, so it is incomplete.',
    fix: 'The backup did not finish. Run "backup run" again and use a set that "backup list" shows as complete.',
  },
  AKS_BACKUP_MANIFEST_INVALID: {
    message: 'The manifest of backup {backupId} is not valid: {reason}.',
    fix: 'The manifest was damaged or written by something else; use another backup set.',
  },
  AKS_BACKUP_MANIFEST_UNSIGNED: {
    message: 'The manifest of backup {backupId} is not signed: {reason}.',
    fix: 'Every set this bot writes has its manifest signed with the Key Vault signing key (docs/backup-format.md). An unsigned set was written by something else or by a bot without signing: do not restore it; use a signed set from "backup list", or run "backup run" for a new one.',
  },
  AKS_BACKUP_MANIFEST_SIGNATURE: {
    message: 'The manifest signature of backup {backupId} does not hold: {reason}.',
    fix: 'The manifest or its signature changed after the bot wrote them. Do not restore this set; use another verified set, and check who can write to the backup container.',
  },
  AKS_BACKUP_KEY_NOT_PINNED: {
    message: 'Backup {backupId}: the {what} names key {keyId}, but this environment uses only {expected}.',
    fix: 'A set may use only the keys its environment configures (backup.keyVaultUrl with backup.keyName and backup.signingKeyName, any version). Do not restore this set; if the keys were changed on purpose, restore it with the configuration that named them.',
  },
  AKS_BACKUP_SIGNING_KEY_UNAVAILABLE: {
    message: 'The manifest of backup {backupId} could not be {action} with key {keyId}: {reason}.',
    fix: 'Check that the signing key (backup.signingKeyName) exists in Key Vault, is enabled, allows sign and verify, and the bot may use both operations.',
  },
  AKS_BACKUP_CHECKSUM_MISMATCH: {
    message: 'Backup {backupId}: {what} is {found}, but the manifest says {expected}.',
    fix: 'The archive does not match its manifest. Do not restore it; use an older verified set.',
  },
  AKS_BACKUP_CONTENT_MISMATCH: {
    message: 'After restoring backup {backupId} into {database}, the data differs from the manifest: {differences}.',
    fix: 'The restore is not trustworthy. Check the mongorestore log, then restore an older verified set.',
  },
  AKS_BACKUP_INCONSISTENT: {
    message: 'The database changed while backup {backupId} was dumped and no oplog was available: {differences}.',
    fix: 'Run the backup again at a quieter time, or on a replica set where --oplog gives a point-in-time dump.',
  },
  AKS_BACKUP_ARCHIVE_INVALID: {
    message: 'The mongodump archive stream is not a complete, valid archive: {reason}.',
    fix: 'The dump was cut short or the tool wrote something else: check the mongodump output in the log and run the backup again. A set made from it was not kept.',
  },
  AKS_BACKUP_MANIFEST_OLD: {
    message: 'Backup {backupId} has a version {version} manifest, whose content hashes this bot no longer computes, so a drill cannot prove its content.',
    fix: 'Take a new backup ("backup run") and drill that one; the old set can still be verified and, in an emergency, restored (counts are compared, content hashes are not).',
  },
  AKS_BACKUP_ABORTED: {
    message: 'Backup {backupId} was stopped before it finished: {reason}. No manifest was written.',
    fix: 'Nothing usable was left behind. Fix the cause in the message and run "backup run" again.',
  },
  AKS_KUBERNETES_NOT_CONFIGURED: {
    message: 'The Kubernetes API of environment {environment} cannot be used: {reason}.',
    fix: 'Set environments.{environment}.kubernetes.kubeconfigPath (a file) or kubeconfig (a secret reference), and context when the kubeconfig has several; see infrastructure/config/example.yaml.',
  },
  AKS_ENVIRONMENT_BUSY: {
    message: 'Environment {environment} is busy: {holder} holds its lifecycle lock ({where}). One lifecycle operation (backup, restore, cost apply, teardown, recreate) runs per environment at a time, whichever host starts it.',
    fix: 'Wait for that run to finish ("runs" on the host that started it shows it) and try again. Nothing was changed. A holder that died loses the lock {until}; an admin can free a stuck lock with "lock break --env {environment}".',
  },
  AKS_ENVIRONMENT_LOCK_LOST: {
    message: 'The lock on environment {environment} held by {holder} was lost while the work went on: {reason}.',
    fix: 'Another operation may have started on the environment meanwhile. Check "lock show --env {environment}" and "runs" before running the command again.',
  },
  AKS_ENVIRONMENT_LOCK_UNAVAILABLE: {
    message: 'The lock of environment {environment} could not be read or taken: {reason}.',
    fix: 'Nothing was started. The lock is a blob in the backup container of environments.{environment}.backup: check that the storage account is reachable and the bot may write and lease blobs there, then try again.',
  },
  AKS_CHAT_UNREACHABLE: {
    message: 'Rocket.Chat at {url} did not answer: {reason}.',
    fix: 'Notifications and approval prompts go by email meanwhile; check that Rocket.Chat is up and reachable from the bot.',
  },
  AKS_CHAT_API: {
    message: 'Rocket.Chat refused {endpoint} with status {status}: {error}.',
    fix: 'Check the bot user\'s personal access token and user id in rocketchat:, and give that user the "bot" role.',
  },
  AKS_CHAT_BAD_RESPONSE: {
    message: 'Rocket.Chat answered {endpoint} with a body the bot does not understand: {issues}.',
    fix: 'Check that rocketchat.url points at a Rocket.Chat server (6.x or later); the bot log has the details.',
  },
  AKS_APPROVAL_NOT_FOUND: {
    message: 'Run {runId} has no pending approval.',
    fix: 'Run "runs {runId}" to see its state; only a run awaiting approval can be approved or denied.',
  },
  AKS_APPROVAL_EXPIRED: {
    message: 'The approval for run {runId} expired at {expiresAt}; the run was denied.',
    fix: 'Start the command again for a new approval prompt (access.approvalTtlMinutes sets how long a prompt stays open).',
  },
  AKS_APPROVAL_SELF: {
    message: '{actor} asked for run {runId} and may not approve it: the two-person rule is on.',
    fix: 'Ask another approver with the {role} role; access.twoPersonRule turns the rule off.',
  },
  AKS_APPROVAL_SAME_APPROVER: {
    message: '{actor} already approved run {runId}; it needs {required} approvals from different people.',
    fix: 'Ask another approver with the {role} role (access.approvalsRequired sets how many distinct approvals a destructive run needs).',
  },
  AKS_APPROVAL_DENIED: {
    message: 'Run {runId} was denied by {actor}{reason}.',
    fix: 'Nothing was changed. Start the command again if it is still needed, after talking to the approver.',
  },
  AKS_APPROVAL_WITHDRAWN: {
    message: 'The approval of run {runId} was taken back by {actor} before the run started.',
    fix: 'Nothing was changed. Start the command again when it should run.',
  },
  AKS_APPROVER_FORBIDDEN: {
    message: '{actor} may not decide run {runId} ("{command}"): it needs the {role} role.',
    fix: 'Ask an approver with that role, or an admin to grant the role under access.roles.',
  },
  AKS_SIGNATURE_INVALID: {
    message: 'The request is not authenticated: its signature is missing or does not match, its timestamp is outside the accepted window, or it was already used.',
    fix: 'Set the same shared secret in the Rocket.Chat App settings and in rocketchat.appSecret, install the App version that matches the bot, and keep both clocks in sync (NTP); the bot log names the reason (AKS_REQUEST_STALE, AKS_REQUEST_REPLAYED). Nothing was changed.',
  },
  AKS_REQUEST_STALE: {
    message: 'The request timestamp {timestamp} is more than {windowSeconds} seconds away from the bot\'s clock.',
    fix: 'Check the clocks (NTP) of the Rocket.Chat server and the bot. Nothing was changed.',
  },
  AKS_REQUEST_REPLAYED: {
    message: 'The request nonce {nonce} was already used.',
    fix: 'Every request needs a new nonce; a replayed request is refused. Nothing was changed.',
  },
  AKS_BAD_REQUEST: {
    message: 'The request is invalid: {issues}.',
    fix: 'Send the fields named in the message; see docs/errors.md and the Rocket.Chat App source for the format. Nothing was changed.',
  },
  AKS_RATE_LIMITED: {
    message: 'Too many requests; try again in {seconds} s.',
    fix: 'Slow down; rocketchat.rateLimitPerMinute sets the limit. Nothing was changed.',
  },
  AKS_LINK_INVALID: {
    message: 'This approval link is not valid: {reason}.',
    fix: 'Use the newest approval email, or approve in chat with "approve <run>". Nothing was changed.',
  },
  AKS_CHART_LINK_INVALID: {
    message: 'This cost chart link is not valid: {reason}.',
    fix: 'Open the chart from a recent cost message or email; chart links are signed and expire after costChart.linkTtlHours. Run "cost --env <environment>" for the figures.',
  },
  AKS_RECOMMENDATION_NOT_FOUND: {
    message: 'There is no cost recommendation {id} for environment {environment} now: {reason}.',
    fix: 'Run "cost recommend --env {environment}" for the current recommendations and their ids. Nothing was changed.',
  },
  AKS_RECOMMENDATION_CHANGED: {
    message: '{resource} changed since recommendation {id} was made: {change}. Nothing was changed.',
    fix: 'Run "cost recommend --env {environment}" again; if the resource still qualifies it has a new id to apply (and approve) instead.',
  },
  AKS_ACTION_CHANGED: {
    message: 'Run {runId} cannot be resumed: its journal was written by {journaled}, and this bot runs {current}, whose steps differ.',
    fix: 'Nothing was changed by this attempt. Read "runs {runId}" to see which steps finished, check what they left behind, then ask for the command again as a new run.',
  },
  AKS_RECOMMENDATION_ADVICE_ONLY: {
    message: 'Recommendation {id} is advice only and cannot be applied by the bot: {reason}.',
    fix: 'Make the change yourself as "cost recommend" describes it; the bot applies only deletions of orphaned disks, old snapshots and unassociated public IPs, and Premium→Standard changes of unattached disks.',
  },
  AKS_RECOMMENDATION_PROTECTED: {
    message: 'Refusing to {action} {resource}: {reason}.',
    fix: 'The bot never removes what the lifecycle keeps (the durable resource group, the ingress IP, restore points, disks of PersistentVolumes). Remove it by hand only if you are sure.',
  },
  AKS_CLUSTER_STATE_NOT_FOUND: {
    message: 'Backup {backupId} of environment {environment} holds no cluster state.',
    fix: 'Run "backup list" for the sets; add the cluster state to a set with "backup cluster-state --backup <id>", or restore it from a set that has one.',
  },
  AKS_CLUSTER_STATE_EXISTS: {
    message: 'Backup {backupId} already holds a cluster state; a set never changes once written.',
    fix: 'Nothing was changed. Export into another set (a new "backup run"), or keep the one the set has.',
  },
  AKS_CLUSTER_STATE_FOREIGN: {
    message: 'The cluster state in backup {backupId} belongs to environment {found}, not to {expected}.',
    fix: 'Nothing was changed. A cluster state is imported only into the environment it was exported from; pass --env {found} if that is what you meant.',
  },
  AKS_CLUSTER_STATE_INVALID: {
    message: 'The cluster state of backup {backupId} is not valid: {reason}.',
    fix: 'Nothing was changed. The archive or its manifest was damaged or written by something else; use another backup set.',
  },
  AKS_CLUSTER_STATE_APPLY_FAILED: {
    message: 'Applying {object} from backup {backupId} failed: {reason}.',
    fix: 'The objects before it in the order (docs/cluster-state.md) are applied, the rest are not. Fix the cause named here and run the restore again: what is already applied is left as it is.',
  },
  AKS_SECRET_SYNC_KEYVAULT_MISSING: {
    message: 'The Key Vault of environment {environment} has no secret {names}, so "secrets sync" changed nothing in the cluster.',
    fix: 'Create each named secret in the vault (az keyvault secret set --vault-name <vault> --name <name> --file <file>), or run "secrets push --env {environment}" while the cluster still has the values, or remove the mapping under environments.{environment}.secrets (chartMongodb: false for the chart\'s MongoDB keys); then run "secrets sync" again.',
  },
  AKS_SECRET_PUSH_CLUSTER_MISSING: {
    message: 'The cluster of environment {environment} lacks {names}, so "secrets push" wrote nothing to Key Vault.',
    fix: 'Check that the release runs in the namespace the mappings name (environments.{environment}.rocketchat and secrets.mappings) and that its Secrets exist, or remove the mapping; then run "secrets push" again.',
  },
  AKS_KEYVAULT_SECRET_FAILED: {
    message: 'Key Vault could not {operation} the secret {name}: {reason}.',
    fix: 'Check that the bot\'s identity may get and set secrets in the vault of backup.keyVaultUrl (the Key Vault Secrets Officer role, or an access policy with get and set) and that the vault is reachable. A failed read changed nothing; after a failed write, run the command again: values already written are not written twice.',
  },
  AKS_KUBERNETES_SECRET_FAILED: {
    message: 'The Kubernetes API could not {operation} {secret}: {reason}.',
    fix: 'Check that the kubeconfig\'s user may get, create and patch Secrets (and create the namespace) there; a 403 is RBAC, a 404 a missing namespace. A failed read changed nothing; after a failed write, run the command again: keys already in sync are not written twice.',
  },
  AKS_SNAPSHOT_GROUP_REFUSED: {
    message: 'Refusing to keep the snapshots of {environment} in {resourceGroup}: it is named like the cluster\'s node resource group (MC_*), which Azure deletes with the cluster and every snapshot in it.',
    fix: 'Nothing was changed. Set environments.{environment}.snapshots.resourceGroup (or azure.durableResourceGroup) to the durable resource group (docs/snapshots.md).',
  },
  AKS_SNAPSHOT_VOLUME_UNSUPPORTED: {
    message: 'PersistentVolume {pv} (claim {claim}) cannot be snapshotted: {reason}.',
    fix: 'Nothing was changed. Only Azure managed disks (the disk.csi.azure.com driver or the in-tree azureDisk volume) are snapshotted; move the data to such a volume, or limit environments.{environment}.snapshots.namespaces to the namespaces that hold only them.',
  },
  AKS_SNAPSHOT_DISK_MISSING: {
    message: 'The disk {disk} of PersistentVolume {pv} (claim {claim}) does not exist in Azure.',
    fix: 'Nothing was changed. The volume points at a deleted disk: check the claim in the cluster (kubectl describe pv {pv}) and repair or delete it before snapshotting.',
  },
  AKS_SNAPSHOT_FAILED: {
    message: 'The snapshot of disk {disk} (claim {claim}) failed: {reason}.',
    fix: 'Snapshots taken before it are kept and are not taken again when the run is repeated. Azure allows at most 7 snapshots per disk per 5 minutes and 500 per disk (docs/snapshots.md): after throttling, wait a few minutes and run "snapshot" again.',
  },
  AKS_RESTORE_VOLUMES_NOT_FOUND: {
    message: 'Backup set {backupId} of {environment} has no disk snapshots in {resourceGroup}.',
    fix: 'Nothing was changed. Check the set id ("backup list") and that its snapshot run finished; snapshots carry the tag aks-bot-backup-set with the set id.',
  },
  AKS_RESTORE_VOLUME_CONFLICT: {
    message: 'Cannot restore claim {claim}: {reason}.',
    fix: 'Nothing was changed. Restore volumes into a cluster where the chart is not installed yet, or delete the claim (and its volume) first if its data may go.',
  },
  AKS_RESTORE_VOLUME_FAILED: {
    message: 'Restoring claim {claim} from snapshot {snapshot} failed: {reason}.',
    fix: 'Disks and volumes restored before it are kept and are not made again when the command is repeated; fix the cause named in the message and run it again.',
  },
  AKS_INTERNAL: {
    message: 'An unexpected error occurred (reference {reference}).',
    fix: 'Nothing was reported to chat beyond this message; the bot log has the details under this reference.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;
