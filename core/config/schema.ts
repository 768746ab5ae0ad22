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
  }),
  credit: z
    .strictObject({
      monthlyUsd: z.number().positive().max(10_000),
      /** Kept in reserve for the 8–24 h lag of cost data. */
      safetyMarginUsd: z.number().nonnegative().default(10),
      /** Day of the month the subscription's billing period starts (not necessarily the 1st). */
      billingPeriodStartDay: z.number().int().min(1).max(28).default(1),
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
  backup: z
    .strictObject({
      storageAccountUrl: httpUrl.optional(),
      container: name.default('backups'),
      storageKey: secretRefSchema.optional(),
      keyVaultUrl: httpUrl.optional(),
      keyName: z.string().default('backup-kek'),
      /** Teardown refuses without a verified backup set younger than this. */
      maxAgeHours: z.number().positive().default(24),
      retention: z
        .strictObject({
          daily: z.number().int().min(1).default(7),
          weekly: z.number().int().min(0).default(4),
          monthly: z.number().int().min(0).default(3),
        })
        .default({ daily: 7, weekly: 4, monthly: 3 }),
    })
    .default({ container: 'backups', keyName: 'backup-kek', maxAgeHours: 24, retention: { daily: 7, weekly: 4, monthly: 3 } }),
  teardown: z
    .strictObject({
      /** Tear down this many days before the forecast says the credit runs out. */
      daysBeforeExhaustion: z.number().min(0).default(2),
      /** Destructive steps may run without an approval (e.g. a staging environment). */
      unattended: z.boolean().default(false),
    })
    .default({ daysBeforeExhaustion: 2, unattended: false }),
});
export type EnvironmentConfig = z.infer<typeof environmentSchema>;

const scheduleSchema = z.strictObject({
  name,
  cron: z.string().refine((v) => validateCron(v), { error: 'expected a cron expression such as "0 2 * * *"' }),
  /** A command line exactly as typed in chat, without the /aks prefix, e.g. "backup run --env prod". */
  command: z.string().min(1),
  timezone: z.string().default('UTC'),
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
      })
      .default({ listen: { host: '127.0.0.1', port: 8080 }, logLevel: 'info', statePath: '.data/aks-bot.sqlite', cliUser: 'local-cli' }),
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
        approvalTtlMinutes: z.number().int().min(1).max(24 * 60).default(60),
      })
      .default({ roles: { admin: [], operator: [], viewer: [] }, defaultRole: 'none', twoPersonRule: true, approvalTtlMinutes: 60 }),
    rocketchat: z
      .strictObject({
        url: httpUrl,
        userId: z.string().min(1),
        token: secretRefSchema,
        rooms: z.array(z.string().min(1)).min(1, 'list at least one room the bot listens in'),
        mode: z.enum(['app', 'bot']).default('bot'),
        appSecret: secretRefSchema.optional(),
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
      })
      .optional(),
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
    const seen = new Set<string>();
    cfg.schedules.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['schedules', i, 'name'], message: `duplicate schedule name "${s.name}"` });
      seen.add(s.name);
    });
  });

export type Config = z.infer<typeof configSchema>;
