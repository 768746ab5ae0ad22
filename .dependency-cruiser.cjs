// The architecture, written down as import rules; test/unit/architecture/imports.test.ts checks the code against it.
//
//   bot/ (adapters: chat, App, email, CLI, HTTP; bot/main.ts wires everything)
//     └─► scheduler/ (cron jobs, the watch)
//           └─► core/ (engine, commands, clients, lifecycle modules)
//
// Nothing imports upward, and nothing imports in a cycle. Inside core/, the engine and the clients know no
// lifecycle module: lifecycle work (backup, snapshots, cluster state, secrets, teardown, recreate, health, cost,
// recommendations, recovery) is driven by the engine through the command registry and calls the clients.
const LIFECYCLE = '^core/(backup|snapshots|cluster-state|secret-sync|teardown|recreate|health|cost|recommendations|recovery)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Modules that import each other cannot be read, tested or moved one at a time.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-no-adapter',
      comment: 'core/ is what every adapter shares; it imports neither bot/ nor scheduler/.',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: '^(bot|scheduler)/' },
    },
    {
      name: 'scheduler-imports-core-only',
      comment: 'The scheduler asks for commands through core/commands like any adapter; it never reaches into bot/.',
      severity: 'error',
      from: { path: '^scheduler/' },
      to: { path: '^bot/' },
    },
    {
      name: 'engine-and-clients-know-no-lifecycle-module',
      comment: 'The engine runs whatever the registry holds and the clients talk to outside systems; neither depends on a lifecycle module.',
      severity: 'error',
      from: { path: '^core/(engine|clients)/' },
      to: { path: LIFECYCLE, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-clients-import-azure-sdks',
      comment: 'One chokepoint per outside system: the Azure SDKs are imported in core/clients and the Key Vault key wrapper of the backup envelope only (types may be named anywhere).',
      severity: 'error',
      from: { path: '^(bot|scheduler|core)/', pathNot: '^core/(clients/|backup/crypto/key-vault-wrapper\\.ts)' },
      to: { path: 'node_modules/@azure/(arm-|storage-blob|keyvault-)', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^bot/rocketchat-app/|\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
