import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { useSandbox } from '../../sandbox/use.js';
import { sandboxBlobService } from '../../helpers/azure-clients.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const blockId = (i: number): string => Buffer.from(`block-${String(i).padStart(6, '0')}`).toString('base64');

async function refusal(p: Promise<unknown>): Promise<RestError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RestError) return err;
    throw err;
  }
  throw new Error('expected the service to refuse the request, but it succeeded');
}

describe('sandbox: Azurite blob storage', () => {
  let container: ContainerClient;

  beforeAll(async () => {
    const sb = await useSandbox(['azurite']);
    const service = sandboxBlobService(sb.azurite.connectionString!);
    container = service.getContainerClient(`sandbox-${randomUUID()}`);
    await container.create();
  });

  it('commits staged blocks into a blob that reads back byte for byte', async () => {
    const blob = container.getBlockBlobClient('staged/backup.bin');
    // 4 full blocks and a short last one, uploaded out of order: the committed list decides the order
    const blocks = [...Array.from({ length: 4 }, () => randomBytes(1024 * 1024)), randomBytes(123_457)];
    const order = [3, 0, 4, 2, 1];
    for (const i of order) await blob.stageBlock(blockId(i), blocks[i]!, blocks[i]!.length);

    const uncommitted = await blob.getBlockList('uncommitted');
    expect(uncommitted.uncommittedBlocks).toHaveLength(5);
    await expect(blob.exists()).resolves.toBe(false);

    await blob.commitBlockList(blocks.map((_, i) => blockId(i)));
    const expected = Buffer.concat(blocks);
    const got = await blob.downloadToBuffer();
    expect(got.length).toBe(expected.length);
    expect(sha256(got)).toBe(sha256(expected));

    const committed = await blob.getBlockList('committed');
    expect(committed.committedBlocks?.map((b) => b.size)).toEqual(blocks.map((b) => b.length));
  });

  it('uploadStream of a stream larger than one buffer reads back identical', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 17);
    const blob = container.getBlockBlobClient('streamed/dump.archive.gz');
    // small chunks so the SDK has to split the stream into several staged blocks
    const source = Readable.from((function* () {
      for (let off = 0; off < data.length; off += 64 * 1024) yield data.subarray(off, off + 64 * 1024);
    })());
    await blob.uploadStream(source, 1024 * 1024, 2, { blobHTTPHeaders: { blobContentType: 'application/gzip' } });

    const props = await blob.getProperties();
    expect(props.contentLength).toBe(data.length);
    expect(props.contentType).toBe('application/gzip');
    const committed = await blob.getBlockList('committed');
    expect(committed.committedBlocks!.length).toBeGreaterThan(1);
    expect(sha256(await blob.downloadToBuffer())).toBe(sha256(data));
  });

  it('a lease excludes a second holder and writers without the lease id, until released', async () => {
    const blob = container.getBlockBlobClient('locks/teardown.lock');
    await blob.upload('free', 4);

    const holder = blob.getBlobLeaseClient();
    const lease = await holder.acquireLease(15);
    expect(lease.leaseId).toBe(holder.leaseId);

    const second = await refusal(blob.getBlobLeaseClient().acquireLease(15));
    expect(second.statusCode).toBe(409);
    expect(second.code).toBe('LeaseAlreadyPresent');

    const blindWrite = await refusal(blob.upload('stolen', 6));
    expect(blindWrite.statusCode).toBe(412);
    expect(blindWrite.code).toBe('LeaseIdMissing');

    const wrongLease = await refusal(blob.upload('stolen', 6, { conditions: { leaseId: randomUUID() } }));
    expect(wrongLease.statusCode).toBe(412);

    await blob.upload('held', 4, { conditions: { leaseId: holder.leaseId } });
    expect((await blob.downloadToBuffer()).toString()).toBe('held');
    expect((await blob.getProperties()).leaseState).toBe('leased');

    await holder.releaseLease();
    expect((await blob.getProperties()).leaseState).toBe('available');
    await blob.upload('after', 5);
    expect((await blob.downloadToBuffer()).toString()).toBe('after');

    // once released, another holder can take it
    const next = blob.getBlobLeaseClient();
    await next.acquireLease(-1);
    await next.releaseLease();
  });
});
