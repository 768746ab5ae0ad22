import { validate as validateCron } from 'node-cron';
import { z } from 'zod';

/** A secret is named, never written: an environment variable or a Key Vault secret. */
export const secretRefSchema = z.union(
  [
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }),
    z.strictObject({ keyVault: z.string().regex(/^[0-9A-Za-z-]{1,127}$/, 'a Key Vault secret name (letters, digits, dashes)') }),
  ],
  {
    error: 'expected a secret reference { env: VARIABLE } or { keyVault: secret-name }; secrets are never written into the configuration',
  },
);
export type SecretRef = z.infer<typeof secretRefSchema>;

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a lowercase name of letters, digits and dashes');
const uuid = z.guid({ error: 'expected a UUID such as 00000000-0000-0000-0000-000000000000' });
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

/** Key Vault object names (Azure): 1–127 letters, digits and dashes. */
const keyVaultName = z.string().regex(/^[0-9A-Za-z-]{1,127}$/, 'a Key Vault secret name: 1–127 letters, digits and dashes');
/** Kubernetes names (DNS-1123): a namespace is a label, a Secret a subdomain; a Secret key as the API accepts it. */
const dnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a DNS-1123 label: at most 63 lowercase letters, digits and dashes, starting and ending with a letter or digit');
const dnsSubdomain = z
  .string()
  .max(253, 'at most 253 characters')
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'a DNS-1123 subdomain: lowercase letters, digits, dashes and dots, starting and ending with a letter or digit');
const secretKey = z
  .string()
  .max(253, 'at most 253 characters')
  .regex(/^[-._a-zA-Z0-9]+$/, 'a Secret key: letters, digits, "-", "_" and "."')
  .refine((k) => k !== '.' && k !== '..', { error: 'a Secret key may not be "." or ".."' });

/** One Key Vault secret ↔ one key of a Kubernetes Secret (`secrets sync` writes the key, `secrets push` the secret). */
const secretMappingSchema = z.strictObject({
  keyVault: keyVaultName,
  /** Default: the environment's rocketchat.namespace. */
  namespace: dnsLabel.optional(),
  secret: dnsSubdomain,
  key: secretKey,
});

/** The keys of the chart's MongoDB auth Secret `<release>-mongodb` (docs/secrets.md). */
export const CHART_MONGODB_SECRET_KEYS = ['mongodb-root-password', 'mongodb-passwords', 'mongodb-metrics-password', 'mongodb-replica-set-key'] as const;

/** AKS names the group it creates for the nodes and their disks MC_<group>_<cluster>_<region>; it dies with the cluster. */
export function isNodeResourceGroup(group: string): boolean {
  return /^mc_/i.test(group);
}

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const environmentSchema = z.strictObject({
  description: z.string().optional(),
  azure: z.strictObject({
    subscriptionId: uuid,
    tenantId: uuid.optional(),
    location: z.string().regex(/^[a-z0-9]+$/, 'an Azure region name such as westeurope'),
    /** Survives teardown: static IP, DNS, Key Vault, storage, snapshots. */
    durableResourceGroup: z.string().min(1),
    /** Deleted and recreated with the cluster. */
    clusterResourceGroup: z.string().min(1),
    clusterName: z.string().min(1),
    /** Test and sandbox use: point the SDK clients at a fake ARM endpoint. */
    armEndpoint: httpUrl.optional(),
    /** Test and sandbox use: PEM file of the CA that signed armEndpoint's certificate. */
    armCaFile: z.string().min(1).optional(),
    /**
     * How the bot signs in to Azure: 'default' tries managed identity, AZURE_* environment variables and the az CLI
     * login (DefaultAzureCredential); 'none' says this environment has no Azure access (cost and status say so).
     */
    credential: z.enum(['default', 'none']).default('default'),
  }),
  credit: z
    .strictObject({
      monthlyUsd: z.number().positive().max(10_000),
      /** Kept in reserve for the 8–24 h lag of cost data. */
      safetyMarginUsd: z.number().nonnegative().default(10),
      /** Day of the month the subscription's billing period starts (not necessarily the 1st). */
      billingPeriodStartDay: z.number().int().min(1).max(28).default(1),
      /** Alert once per billing period at each share of the credit spent (percent). */
      alertThresholdsPct: z.array(z.number().positive().max(100)).default([50, 75, 90, 100]),
      /** Alert once per billing period this many days before the projected exhaustion. */
      alertLeadDays: z.array(z.number().positive().max(31)).default([5, 3]),
    })
    .refine((c) => c.safetyMarginUsd < c.monthlyUsd, { error: 'safetyMarginUsd must be below monthlyUsd', path: ['safetyMarginUsd'] }),
  kubernetes: z
    .strictObject({
      kubeconfigPath: z.string().min(1).optional(),
      kubeconfig: secretRefSchema.optional(),
      context: z.string().optional(),
    })
    .default({}),
  rocketchat: z
    .strictObject({
      namespace: name.default('rocketchat'),
      release: name.default('rocketchat'),
      hostname: z.string().optional(),
    })
    .default({ namespace: 'rocketchat', release: 'rocketchat' }),
  /** What the cluster-state export takes into the backup set (docs/cluster-state.md). */
  clusterState: z
    .strictObject({
      /** The namespaces exported with their objects; absent: the Rocket.Chat namespace alone. */
      namespaces: z.array(name).min(1).optional(),
      /**
       * cert-manager's cluster resource namespace: where a ClusterIssuer's ACME account key Secret lives (cert-manager's
       * --cluster-resource-namespace, by default its own namespace). Only the Secrets the ClusterIssuers name are read there.
       */
      certManagerNamespace: name.default('cert-manager'),
    })
    .prefault({}),
  backup: z
    .strictObject({
      storageAccountUrl: httpUrl.optional(),
      container: name.default('backups'),
      storageKey: secretRefSchema.optional(),
      /** Instead of storageAccountUrl + storageKey: a storage connection string (e.g. Azurite's), as a secret. */
      storageConnectionString: secretRefSchema.optional(),
      /** Blob folder of this environment's sets: <prefix>/<id>/…; defaults to the environment's name. */
      prefix: name.optional(),
      keyVaultUrl: httpUrl.optional(),
      /** Test and sandbox use: PEM file of the CA that signed keyVaultUrl's certificate. */
      keyVaultCaFile: z.string().min(1).optional(),
      /** RSA key in Key Vault that wraps each backup's random data key (RSA-OAEP-256); its version is recorded. */
      keyName: z.string().default('backup-kek'),
      /**
       * RSA key in the same Key Vault that signs each manifest (PS256 over its SHA-256; key_ops sign and verify). A
       * set is read only when its signature verifies with a version of this key and its data key is wrapped by a
       * version of keyName: any other key, even one in the same vault, is refused (docs/backup-format.md).
       */
      signingKeyName: z.string().regex(/^[0-9A-Za-z-]{1,127}$/, 'a Key Vault key name (letters, digits, dashes)').default('backup-manifest-signing'),
      /** Teardown refuses without a verified backup set younger than this. */
      maxAgeHours: z.number().positive().default(24),
      /** The Rocket.Chat database. */
      database: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'a MongoDB database name').default('rocketchat'),
      /** mongodump --oplog (point in time; needs a replica set and a full dump). Off only for standalone servers. */
      oplog: z.boolean().default(true),
      /** Restore secondary indexes; off for FerretDB (sandbox), which refuses what mongorestore sends. */
      restoreIndexes: z.boolean().default(true),
      /** Plaintext bytes per authenticated chunk of the encrypted archive. */
      chunkSizeKiB: z.number().int().min(4).max(16_384).default(1024),
      upload: z
        .strictObject({
          /**
           * Blob block size; memory for the upload is about blockSizeMiB × (concurrency + 1). 4 MiB keeps a backup
           * under 200 MB of RSS (8 MiB measured 209 MB at the same throughput: bench/results/backup.md) and allows
           * blobs up to 195 GiB (50 000 blocks).
           */
          blockSizeMiB: z.number().int().min(1).max(100).default(4),
          concurrency: z.number().int().min(1).max(16).default(4),
        })
        .prefault({}),
      /**
       * Where the archive is gzipped (level 6 either way). 'pod': mongodump --gzip, where mongodump runs, on one core.
       * 'bot': mongodump sends the raw archive and the bot host compresses it in blocks on `threads` cores (about
       * 1.6× a single gzip at 2 threads: bench/results/backup.md); the archive crossing from mongodump to the bot is
       * then about twice as large. Default: 'bot' with executor 'local' (both run on the bot host anyway), 'pod' with
       * 'kubernetes' (the Kubernetes API server carries the exec stream; the bot host's cores are unknown).
       */
      compression: z
        .strictObject({
          where: z.enum(['pod', 'bot']).optional(),
          /** Blocks compressed at once; zlib runs them on libuv's thread pool, which has 4 threads. */
          threads: z.number().int().min(1).max(4).default(2),
        })
        .prefault({}),
      /**
       * A restore over existing data reads the archive twice: a full verify pass before anything is dropped, then the
       * restore itself. With the spool on, the verify pass keeps the ciphertext it read in a private directory under
       * `dir`, and the restore reads that copy (authenticating every chunk again) instead of downloading the archive
       * a second time. It is used only when `dir` has the archive's size plus `keepFreeMiB` free, and removed after.
       */
      restoreSpool: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Default: the OS temp directory. */
          dir: z.string().min(1).optional(),
          keepFreeMiB: z.number().int().min(0).default(1024),
        })
        .prefault({}),
      /**
       * Where mongodump/mongorestore run. 'kubernetes': inside the chart's MongoDB pod through the exec API (reached
       * with this environment's `kubernetes` settings; the root password is read from the chart's Secret and handed
       * to the tools on stdin). 'local': on the bot host against `uri` (a secret: it holds the password).
       */
      executor: z
        .discriminatedUnion('kind', [
          z.strictObject({
            kind: z.literal('kubernetes'),
            /** The container of the MongoDB pod that ships mongodump, mongorestore and mongosh (Bitnami: mongodb). */
            container: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a container name').default('mongodb'),
            /** The pod to exec into; default <release>-mongodb-0, else a running pod matching podSelector. */
            pod: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'a pod name').optional(),
            /** Label selector of the MongoDB pods; default app.kubernetes.io/name=mongodb,app.kubernetes.io/instance=<release>. */
            podSelector: z.string().min(1).optional(),
            /** host:port as seen from inside the pod. */
            host: z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?(,[A-Za-z0-9.-]+(:\d{1,5})?)*$/, 'host:port[,host:port…]').default('localhost:27017'),
            /** Connection-string options for the tools, e.g. replicaSet (chart: rs0) and authSource; replaces the default as a whole. */
            uriOptions: z
              .record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'a connection-string option name'), z.union([z.string(), z.number(), z.boolean()]))
              .default({ authSource: 'admin', replicaSet: 'rs0' }),
            /** The user whose password the Secret holds (the chart's root user). */
            username: z.string().min(1).default('root'),
            /** The chart's auth Secret (DOMAIN §4): default <release>-mongodb, key mongodb-root-password. */
            secret: z
              .strictObject({
                name: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'a Secret name').optional(),
                key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'a Secret key').default('mongodb-root-password'),
              })
              .prefault({}),
          }),
          z.strictObject({
            kind: z.literal('local'),
            mongodump: z.string().min(1).default('mongodump'),
            mongorestore: z.string().min(1).default('mongorestore'),
            uri: secretRefSchema,
          }),
        ])
        .prefault({ kind: 'kubernetes' }),
      retention: z
        .strictObject({
          daily: z.number().int().min(1).default(7),
          weekly: z.number().int().min(0).default(4),
          monthly: z.number().int().min(0).default(3),
          /** A set without a manifest younger than this may be a backup still running; older ones are removed. */
          incompleteGraceHours: z.number().positive().default(24),
          /**
           * A scheduled `backup prune` runs without an approval (the newest verified set is never deleted either
           * way); from chat or the CLI it still asks.
           */
          unattended: z.boolean().default(false),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * Key Vault ↔ cluster secrets (`secrets sync`, `secrets push`; docs/secrets.md): the environment's vault is
   * backup.keyVaultUrl. `chartMongodb` maps the chart's MongoDB Secret keys (CHART_MONGODB_SECRET_KEYS) to Key Vault
   * secrets of `<keyVaultPrefix><key>`; `mappings` adds more (Rocket.Chat admin, SMTP, webhook URLs, ...).
   */
  secrets: z
    .strictObject({
      chartMongodb: z.boolean().default(true),
      keyVaultPrefix: z.string().regex(/^[0-9A-Za-z-]{0,100}$/, 'letters, digits and dashes (at most 100)').default(''),
      mappings: z.array(secretMappingSchema).default([]),
      })
    .prefault({}),
  /** Disk snapshots of the cluster's PersistentVolumes (docs/snapshots.md). */
  snapshots: z
    .strictObject({
      /**
       * Where snapshots (and disks restored from them) are made; default azure.durableResourceGroup. Never the node
       * resource group (MC_*): deleting the cluster deletes that group and every snapshot in it.
       */
      resourceGroup: z
        .string()
        .min(1)
        .refine((g) => !isNodeResourceGroup(g), {
          error: 'names a node resource group (MC_*), which is deleted with the cluster and every snapshot in it; use the durable resource group',
        })
        .optional(),
      /** Snapshots older than this are deleted after a snapshot run, except those of the newest verified backup set. */
      retentionDays: z.number().int().min(1).max(3650).default(7),
      /** Only the volumes claimed in these namespaces; default every PersistentVolume of the cluster. */
      namespaces: z.array(name).min(1).optional(),
      /** How often a throttled (429) request is tried again after its Retry-After before the run fails. */
      throttleRetries: z.number().int().min(0).max(10).default(4),
    })
    .prefault({}),
  teardown: z
    .strictObject({
      /** Tear down this many days before the forecast says the credit runs out. */
      daysBeforeExhaustion: z.number().min(0).default(2),
      /** Destructive steps may run without an approval (e.g. a staging environment). */
      unattended: z.boolean().default(false),
    })
    .default({ daysBeforeExhaustion: 2, unattended: false }),
  /** Thresholds of `cost recommend` (see core/recommendations/rules.ts). */
  recommendations: z
    .strictObject({
      /** A node pool whose pods request less than this share of its allocatable CPU and memory is underused. */
      lowRequestRatio: z.number().gt(0).max(1).default(0.5),
      /** The share of allocatable a suggested node count or VM size aims at. */
      targetRequestRatio: z.number().gt(0).max(1).default(0.75),
      /** An unattached disk younger than this may be one being created or restored: not called orphaned yet. */
      orphanDiskMinAgeHours: z.number().nonnegative().default(24),
      /** Snapshots older than this are candidates, except restore points (newest per disk, backup-set members). */
      snapshotMaxAgeDays: z.number().positive().default(30),
      /** Monitoring (Log Analytics, Container Insights) above this share of the cost is flagged. */
      monitoringMaxShare: z.number().gt(0).max(1).default(0.1),
    })
    .prefault({}),
});
export type EnvironmentConfig = z.infer<typeof environmentSchema>;

/** A mapping with every default applied: where a Key Vault secret lives in the cluster. */
export interface SecretMapping {
  readonly keyVault: string;
  readonly namespace: string;
  readonly secret: string;
  readonly key: string;
}

/** The environment's mappings, the chart's MongoDB keys first (when chartMongodb), then `mappings` in order. */
export function secretMappingsOf(env: Pick<EnvironmentConfig, 'secrets' | 'rocketchat'>): SecretMapping[] {
  const { namespace, release } = env.rocketchat;
  const chart = env.secrets.chartMongodb ? CHART_MONGODB_SECRET_KEYS.map((key) => ({ keyVault: `${env.secrets.keyVaultPrefix}${key}`, namespace, secret: `${release}-mongodb`, key })) : [];
  return [...chart, ...env.secrets.mappings.map((m) => ({ keyVault: m.keyVault, namespace: m.namespace ?? namespace, secret: m.secret, key: m.key }))];
}

/**
 * Each Key Vault secret maps to one Secret key and back: two mappings of one vault secret would make `secrets push`
 * pick one of two cluster values, two of one Secret key would make `secrets sync` write it twice.
 */
function checkSecretMappings(env: EnvironmentConfig, path: (string | number)[], ctx: z.RefinementCtx): void {
  const all = secretMappingsOf(env);
  const offset = all.length - env.secrets.mappings.length;
  const vaultNames = new Map<string, number>();
  const targets = new Map<string, number>();
  all.forEach((m, i) => {
    // the issue points at the mapping in the file; a clash with a chart default points at chartMongodb
    const where = i >= offset ? [...path, 'secrets', 'mappings', i - offset] : [...path, 'secrets', 'chartMongodb'];
    const vault = m.keyVault.toLowerCase(); // Key Vault names are case-insensitive
    const target = `${m.namespace}/${m.secret}[${m.key}]`;
    if (vaultNames.has(vault)) ctx.addIssue({ code: 'custom', path: [...where, ...(i >= offset ? ['keyVault'] : [])], message: `Key Vault secret "${m.keyVault}" is mapped twice; each maps to one Secret key` });
    else vaultNames.set(vault, i);
    if (targets.has(target)) ctx.addIssue({ code: 'custom', path: where, message: `Secret key ${target} is mapped twice; each is written from one Key Vault secret` });
    else targets.set(target, i);
  });
}

const scheduleSchema = z.strictObject({
  name,
  cron: z.string().refine((v) => validateCron(v), { error: 'expected a cron expression such as "0 2 * * *"' }),
  /** A command line exactly as typed in chat, without the /aks prefix, e.g. "backup run --env prod". */
  command: z.string().min(1),
  timezone: z.string().default('UTC'),
  /**
   * Whether each run's outcome is posted to the ops room (by email while chat is down, or without chat): every
   * run, only failures (refusals included), or never. An approval prompt is posted whatever this says.
   */
  announce: z.enum(['always', 'failures', 'never']).default('always'),
});

export const configSchema = z
  .strictObject({
    bot: z
      .strictObject({
        listen: z
          .strictObject({
            host: z.string().default('127.0.0.1'),
            port: z.number().int().min(0).max(65_535).default(8080),
          })
          .default({ host: '127.0.0.1', port: 8080 }),
        publicUrl: httpUrl.optional(),
        logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Embedded SQLite file; relative paths are resolved against the configuration file's folder. */
        statePath: z.string().min(1).default('.data/aks-bot.sqlite'),
        defaultEnvironment: name.optional(),
        /** Identity the local CLI acts as in the audit log and for authorization. */
        cliUser: z.string().min(1).default('local-cli'),
        /** How often the bot looks for runs approved elsewhere (CLI "approve N", another bot) and starts them. */
        approvedRunPollSeconds: z.number().int().min(1).max(3600).default(15),
      })
      .default({ listen: { host: '127.0.0.1', port: 8080 }, logLevel: 'info', statePath: '.data/aks-bot.sqlite', cliUser: 'local-cli', approvedRunPollSeconds: 15 }),
    access: z
      .strictObject({
        /** Usernames per role; a higher role includes the lower ones. */
        roles: z.strictObject({
          admin: z.array(z.string().min(1)).default([]),
          operator: z.array(z.string().min(1)).default([]),
          viewer: z.array(z.string().min(1)).default([]),
        }),
        /** Everyone not listed gets this role; 'none' refuses every command. */
        defaultRole: z.enum([...ROLES, 'none']).default('none'),
        /** The requester of a destructive command may not approve it. */
        twoPersonRule: z.boolean().default(true),
        /**
         * How many distinct people must approve a destructive run: 1, or 2 for four eyes besides the requester's.
         * Every approver holds the command's role; nobody approves twice; with twoPersonRule the requester never.
         */
        approvalsRequired: z.union([z.literal(1), z.literal(2)]).default(1),
        approvalTtlMinutes: z.number().int().min(1).max(24 * 60).default(60),
      })
      .default({ roles: { admin: [], operator: [], viewer: [] }, defaultRole: 'none', twoPersonRule: true, approvalsRequired: 1, approvalTtlMinutes: 60 }),
    rocketchat: z
      .strictObject({
        url: httpUrl,
        userId: z.string().min(1),
        token: secretRefSchema,
        rooms: z.array(z.string().min(1)).min(1, 'list at least one room the bot listens in'),
        mode: z.enum(['app', 'bot']).default('bot'),
        appSecret: secretRefSchema.optional(),
        /** Bot mode: a message whose first word is this (or a mention of the bot) is a command. */
        commandPrefix: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, 'a short lowercase word such as "aks"').default('aks'),
        /** Between an approval and the start of the run: taking the ✅ back in this time cancels the run. */
        approvalGraceSeconds: z.number().int().min(0).max(600).default(10),
        /** How often a running run's progress message is re-rendered (edited in place). */
        progressIntervalSeconds: z.number().int().min(1).max(600).default(5),
        /** Mode app: the App's id (app.json "id"); approval prompts then carry Approve/Deny buttons for it. */
        appId: z.guid({ error: 'expected the App id from bot/rocketchat-app/app.json' }).optional(),
        /** Requests per minute on /rocketchat/command and /rocketchat/interaction, per verified user (per client address while a request is not verified). */
        rateLimitPerMinute: z.number().int().min(1).max(100_000).default(120),
      })
      .optional(),
    email: z
      .strictObject({
        smtp: z.strictObject({
          host: z.string().min(1),
          port: z.number().int().min(1).max(65_535),
          secure: z.boolean().default(false),
          user: z.string().optional(),
          password: secretRefSchema.optional(),
        }),
        from: z.email(),
        to: z.array(z.email()).min(1),
        /** Who gets approval emails with personal signed links while chat is down: username → address. */
        approvers: z.record(z.string().min(1), z.email()).default({}),
        /** HMAC key for the approval links (single-use, expiring); without it, approval emails carry no links. */
        linkSecret: secretRefSchema.optional(),
      })
      .optional(),
    /** Azure Monitor action-group webhook for budget alerts: POST {publicUrl}/webhooks/budget/<secret>. */
    budgetWebhook: z
      .strictObject({
        /** Action groups cannot send custom headers, so the secret travels in the URL path. */
        secret: secretRefSchema,
        /**
         * After the cost check, a budget alert at or above atPercent (spent ÷ budget in the alert) asks for
         * `teardown --env X` through the command registry: approval-gated unless unattended. Off by default.
         */
        emergencyTeardown: z
          .strictObject({
            enabled: z.boolean().default(false),
            atPercent: z.number().positive().max(1000).default(100),
            unattended: z.boolean().default(false),
          })
          .prefault({}),
      })
      .optional(),
    /** GET {publicUrl}/charts/cost/<env>.png needs a signed, expiring URL (?exp=…&sig=…); without this the route is closed. */
    costChart: z
      .strictObject({
        /** HMAC key for chart URLs. */
        linkSecret: secretRefSchema,
        /** How long a chart URL in a chat message or email stays valid. */
        linkTtlHours: z.number().positive().max(31 * 24).default(72),
      })
      .optional(),
    /** The bot's own periodic jobs for each environment with Azure access. */
    watch: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Subscription and cluster health, and the recovery policy after a suspension. */
        healthIntervalMinutes: z.number().int().min(1).max(24 * 60).default(5),
        /** The credit planner (a cost check): at least daily. */
        plannerIntervalHours: z.number().min(1).max(24).default(24),
        /** When the planned teardown time is reached, ask for a backup and `teardown --env X` (approval-gated). */
        plannedTeardown: z.boolean().default(true),
        /** When a billing period has begun and the cluster is gone, ask for `recreate --env X` (approval-gated). */
        plannedRecreate: z.boolean().default(true),
        recovery: z
          .strictObject({
            maxReconcileAttempts: z.number().int().min(0).max(20).default(3),
            reconcileIntervalMinutes: z.number().int().min(1).max(24 * 60).default(30),
            /** After the escalation, people get this long before the bot asks for a recreate. */
            escalationGraceMinutes: z.number().int().min(0).max(7 * 24 * 60).default(120),
          })
          .prefault({}),
      })
      .prefault({}),
    schedules: z.array(scheduleSchema).default([]),
    environments: z.record(name, environmentSchema).refine((e) => Object.keys(e).length > 0, { error: 'define at least one environment' }),
  })
  .superRefine((cfg, ctx) => {
    const envs = Object.keys(cfg.environments);
    if (cfg.bot.defaultEnvironment && !envs.includes(cfg.bot.defaultEnvironment)) {
      ctx.addIssue({
        code: 'custom',
        path: ['bot', 'defaultEnvironment'],
        message: `names environment "${cfg.bot.defaultEnvironment}", which is not defined (defined: ${envs.join(', ')})`,
      });
    }
    for (const [envName, env] of Object.entries(cfg.environments)) checkSecretMappings(env, ['environments', envName], ctx);
    const seen = new Set<string>();
    cfg.schedules.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['schedules', i, 'name'], message: `duplicate schedule name "${s.name}"` });
      seen.add(s.name);
    });
  });

export type Config = z.infer<typeof configSchema>;
