import { Command } from 'commander';
import { SandboxError } from './errors.js';
import { Harness } from './harness.js';
import { components } from './registry.js';

const program = new Command('sandbox')
  .description('Builds, starts and stops the local sandbox of real components (all on 127.0.0.1)')
  .showHelpAfterError()
  .exitOverride();

const harness = new Harness({ owner: 'cli' });
const all = (): string[] => components.map((c) => c.name);
const pick = (names: string[]): string[] => (names.length ? names : all());

program
  .command('build')
  .argument('[components...]', 'components to build (default: all)')
  .description('build what is not cached yet, showing progress and timings')
  .action(async (names: string[]) => {
    const t0 = Date.now();
    await harness.build(pick(names));
    console.log(`sandbox build finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

program
  .command('up')
  .argument('[components...]', 'components to start (default: all)')
  .description('build if needed, start, and wait until healthy; prints the endpoints as JSON')
  .action(async (names: string[]) => {
    const t0 = Date.now();
    const endpoints = await harness.up(pick(names));
    console.log(JSON.stringify(endpoints, null, 2));
    console.error(`sandbox up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

program
  .command('down')
  .argument('[components...]', 'components to stop (default: all)')
  .description('stop components (and those that depend on them) and remove their run data')
  .action(async (names: string[]) => {
    const stopped = await harness.down(names);
    console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
  });

program
  .command('status')
  .argument('[components...]', 'components to show (default: all)')
  .option('--json', 'print JSON')
  .description('show each component: version, built, running, endpoints')
  .action((names: string[], opts: { json?: boolean }) => {
    const rows = harness.status().filter((r) => !names.length || names.includes(r.name));
    if (opts.json) {
      console.log(JSON.stringify(rows, null, 2));
      return;
    }
    for (const r of rows) {
      const where = r.endpoints ? ` ${JSON.stringify(r.endpoints)}` : '';
      console.log(`${r.name.padEnd(12)} ${r.version.padEnd(24)} ${(r.built ? 'built' : 'not built').padEnd(10)} ${r.state}${where}`);
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof SandboxError) {
    console.error(err.message);
    process.exit(1);
  }
  const code = (err as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') process.exit(0);
  if (code?.startsWith('commander.')) process.exit(2);
  throw err;
}
