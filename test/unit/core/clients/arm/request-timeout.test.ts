import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHeaders, createPipelineFromOptions, createPipelineRequest, createDefaultHttpClient } from '@azure/core-rest-pipeline';
import { AnonymousCredential, BlobServiceClient } from '@azure/storage-blob';
import { requestTimeoutOptions, requestTimeoutPolicy } from '../../../../../core/clients/arm/request-timeout.js';
import { blobServiceClient } from '../../../../../core/clients/blob/container.js';

/**
 * Accepts connections and reads requests, and never answers: a vault or storage account that hangs. With
 * `answerFrom`, the n-th request and later ones get a 200 (a hang that passes).
 */
function silentServer(answerFrom = Infinity): Promise<{ server: Server; url: string; sockets: Set<Socket>; requests: () => number }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (d: Buffer) => {
      if (!d.toString('latin1').includes('HTTP/1.1\r\n')) return;
      requests += 1;
      if (requests >= answerFrom) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}');
    });
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({ server, sockets, requests: () => requests, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` });
    }),
  );
}

describe('Azure request timeout', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(async () => {
    for (const s of silent.sockets) s.destroy();
    await new Promise((r) => silent.server.close(r));
  });

  it('refuses a timeout that is not a positive integer', () => {
    expect(() => requestTimeoutPolicy(0)).toThrow(RangeError);
    expect(() => requestTimeoutPolicy(1.5)).toThrow(RangeError);
  });

  it('aborts a request whose response never comes with ETIMEDOUT naming the host, and keeps a timeout the caller set', async () => {
    const pipeline = createPipelineFromOptions({ retryOptions: { maxRetries: 0 } });
    pipeline.addPolicy(requestTimeoutPolicy(200), { afterPhase: 'Retry' });
    const client = createDefaultHttpClient();
    const request = createPipelineRequest({ url: `${silent.url}/x`, allowInsecureConnection: true, headers: createHttpHeaders() });
    const host = new URL(silent.url).host;
    await expect(pipeline.sendRequest(client, request)).rejects.toMatchObject({ name: 'RestError', code: 'ETIMEDOUT', message: `no response from ${host} within 0 s (request timed out)` });
    expect(request.timeout).toBe(200);

    const own = createPipelineRequest({ url: `${silent.url}/y`, allowInsecureConnection: true, timeout: 1500 });
    await expect(pipeline.sendRequest(client, own)).rejects.toMatchObject({ code: 'ETIMEDOUT', message: expect.stringContaining('within 2 s') });
    expect(own.timeout).toBe(1500);
  });

  it('an abort the caller asked for stays an AbortError', async () => {
    const pipeline = createPipelineFromOptions({ retryOptions: { maxRetries: 0 } });
    pipeline.addPolicy(requestTimeoutPolicy(5_000), { afterPhase: 'Retry' });
    const controller = new AbortController();
    const request = createPipelineRequest({ url: `${silent.url}/z`, allowInsecureConnection: true, abortSignal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pipeline.sendRequest(createDefaultHttpClient(), request)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('inside the retry policy, a try that timed out is retried and the next answer is used', async () => {
    const flaky = await silentServer(2);
    try {
      const pipeline = createPipelineFromOptions({ retryOptions: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 20 } });
      pipeline.addPolicy(requestTimeoutPolicy(300), { afterPhase: 'Retry' });
      const request = createPipelineRequest({ url: `${flaky.url}/kv`, allowInsecureConnection: true });
      const res = await pipeline.sendRequest(createDefaultHttpClient(), request);
      expect(res.status).toBe(200);
      expect(flaky.requests()).toBe(2);
    } finally {
      for (const s of flaky.sockets) s.destroy();
      await new Promise((r) => flaky.server.close(r));
    }
  });

  it('a Blob client built by the bot gives up on a silent storage account instead of hanging', async () => {
    const service = blobServiceClient({ url: `${silent.url}/devstoreaccount1`, credential: new AnonymousCredential() }, { timeoutMs: 300, maxTries: 1 });
    const blob = service.getContainerClient('backups').getBlockBlobClient('a/b.enc');
    await expect(blob.getProperties()).rejects.toMatchObject({ code: 'ETIMEDOUT', message: expect.stringContaining('no response from') });
    // derived clients share the pipeline: a second one neither duplicates the policy nor loses it
    await expect(service.getContainerClient('other').exists()).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('without the policy the same Blob request is still waiting (the SDK has no default limit)', async () => {
    const bare = new BlobServiceClient(`${silent.url}/devstoreaccount1`, new AnonymousCredential(), { retryOptions: { maxTries: 1 } });
    const outcome = await Promise.race([
      bare.getContainerClient('backups').exists().then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('still waiting'), 1_000)),
    ]);
    expect(outcome).toBe('still waiting');
  });

  it('the options fragment puts the policy once, on every try', () => {
    const o = requestTimeoutOptions(1000);
    expect(o.additionalPolicies).toHaveLength(1);
    expect(o.additionalPolicies[0]).toMatchObject({ position: 'perRetry', policy: { name: 'aksRequestTimeoutPolicy' } });
  });
});
