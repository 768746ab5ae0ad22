import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../sandbox/paths.js';

// `rc-apps package` (from @rocket.chat/apps-cli, installed in the App's own folder) compiles the App with the
// apps compiler — which also checks that the main class extends apps-engine's App — and writes the zip that
// `rc-apps deploy` or the Rocket.Chat admin UI uploads.

const appDir = join(repoRoot, 'bot/rocketchat-app');

describe('the Rocket.Chat App', () => {
  it('packages with rc-apps', async () => {
    if (!existsSync(join(appDir, 'node_modules/.bin/rc-apps'))) {
      await execa('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: appDir });
    }
    const zip = join(appDir, 'dist/aks-lifecycle_0.1.0.zip');
    rmSync(join(appDir, 'dist'), { recursive: true, force: true });
    const out = await execa('npx', ['rc-apps', 'package'], { cwd: appDir, all: true, reject: false });
    expect(out.all).toContain('finished');
    expect(existsSync(zip)).toBe(true);
    const bytes = readFileSync(zip).toString('latin1');
    for (const entry of ['app.json', 'AksApp.js', 'src/logic.js', 'icon.png']) expect(bytes).toContain(entry);
  });
});
