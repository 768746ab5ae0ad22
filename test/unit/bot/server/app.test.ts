import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../../bot/server/app.js';
import { testDeps } from '../../../helpers/deps.js';

describe('HTTP server', () => {
  const apps: ReturnType<typeof buildApp>[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
  });
  const make = (...args: Parameters<typeof buildApp>) => {
    const app = buildApp(...args);
    apps.push(app);
    return app;
  };

  it('answers /healthz', async () => {
    const res = await make({ deps: testDeps() }).inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('reports readiness per check, 503 with the failing one named and its message redacted', async () => {
    const deps = testDeps();
    deps.redactor.add('kv-secret-value-123');
    const ok = await make({ deps }).inject({ method: 'GET', url: '/readyz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'ready', checks: [{ name: 'store', ok: true }] });
    const failing = make({ deps, checks: [{ name: 'keyvault', check: async () => Promise.reject(new Error('denied for kv-secret-value-123')) }] });
    const res = await failing.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'not ready', checks: [{ name: 'store', ok: true }, { name: 'keyvault', ok: false }] });
    expect(res.body).not.toContain('kv-secret-value-123');
  });

  it('is not ready when the store is closed', async () => {
    const deps = testDeps();
    await deps.store.close();
    const res = await make({ deps }).inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
  });

  it('exposes Prometheus metrics, counting requests by route', async () => {
    const app = make({ deps: testDeps() });
    await app.inject({ method: 'GET', url: '/healthz' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/aks_bot_http_requests_total\{route="\/healthz",status="200"\} 1/);
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });

  it('answers unknown routes with 404 and no stack', async () => {
    const res = await make({ deps: testDeps() }).inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('at ');
  });
});
