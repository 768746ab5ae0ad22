import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { botCompressor, compressionFor, parallelGzip } from '../../../../core/backup/parallel-gzip.js';
import { testConfig, TEST_CONFIG_YAML } from '../../../helpers/deps.js';
import { dumpArgs } from '../../../../core/clients/mongo-tools/args.js';

/** Feeds `input` in pieces of the given sizes (cycled), as a pipe would. */
async function compress(input: Buffer, opts: { threads: number; blockSize: number }, pieces: number[] = [input.length || 1]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < input.length; i++) {
    const n = Math.max(1, pieces[i % pieces.length]!);
    parts.push(input.subarray(at, at + n));
    at += n;
  }
  return buffer(Readable.from(parts).pipe(parallelGzip(opts)));
}

/** The gzip members of a stream: each starts with the magic 1f 8b and deflate (08). */
function memberCount(gz: Buffer): number {
  let n = 0;
  for (let i = 0; i + 2 < gz.length; i++) if (gz[i] === 0x1f && gz[i + 1] === 0x8b && gz[i + 2] === 8) n++;
  return n;
}

describe('parallelGzip', () => {
  it('gunzips to its input for random inputs, block sizes, thread counts and write sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 20_000 }),
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 5 }),
        async (bytes, blockSize, threads, pieces) => {
          const input = Buffer.from(bytes);
          const gz = await compress(input, { threads, blockSize }, pieces);
          expect(gunzipSync(gz).equals(input)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('at and around block boundaries: exactly one member per started block, in input order', async () => {
    const blockSize = 1000;
    for (const size of [0, 1, blockSize - 1, blockSize, blockSize + 1, 3 * blockSize, 3 * blockSize + 1]) {
      // distinct bytes per block, so a member emitted out of order would not gunzip to the input
      const input = Buffer.from(Array.from({ length: size }, (_, i) => (Math.floor(i / blockSize) * 37 + i) % 251));
      const gz = await compress(input, { threads: 3, blockSize }, [7, 1000, 333]);
      expect(gunzipSync(gz).equals(input), `size ${size}`).toBe(true);
      expect(memberCount(gz), `size ${size}`).toBe(Math.max(1, Math.ceil(size / blockSize)));
    }
  });

  it('empty input gives one valid empty gzip member', async () => {
    const gz = await buffer(Readable.from([]).pipe(parallelGzip({ threads: 2 })));
    expect(gz.length).toBeGreaterThan(0);
    expect(gunzipSync(gz).length).toBe(0);
  });

  it('a failing block fails the stream instead of emitting a gap', async () => {
    const bad = parallelGzip({ threads: 2, blockSize: 10, level: 42 });
    await expect(buffer(Readable.from([Buffer.alloc(25)]).pipe(bad))).rejects.toThrow();
  });

  it('backup.compression bot: mongodump runs without --gzip and the bot compresses; pod: mongodump --gzip', () => {
    expect(botCompressor({ where: 'pod', threads: 2 })).toBeUndefined();
    expect(botCompressor(undefined)).toBeUndefined();
    expect(botCompressor({ where: 'bot', threads: 2 })).toBeDefined();
    expect(dumpArgs({ database: 'rocketchat', oplog: false, gzip: false })).toEqual(['--archive', '--db=rocketchat']);
    expect(dumpArgs({ database: 'rocketchat', oplog: false })).toEqual(['--archive', '--gzip', '--db=rocketchat']);
  });

  it('backup.compression in the configuration: where defaults by executor, threads 1–4 (default 2), bad values refused', () => {
    const withBackup = (backup: string) => testConfig(TEST_CONFIG_YAML.replace('credit: { monthlyUsd: 150 }', `credit: { monthlyUsd: 150 }\n    backup: ${backup}`)).environments.prod!.backup;
    const kube = withBackup('{ executor: { kind: kubernetes } }');
    expect(compressionFor(kube.compression, kube.executor.kind)).toEqual({ where: 'pod', threads: 2 });
    const local = withBackup('{ executor: { kind: local, uri: { env: MONGO_URI } } }');
    expect(compressionFor(local.compression, local.executor.kind)).toEqual({ where: 'bot', threads: 2 });
    const chosen = withBackup('{ compression: { where: bot, threads: 4 }, executor: { kind: kubernetes } }');
    expect(compressionFor(chosen.compression, chosen.executor.kind)).toEqual({ where: 'bot', threads: 4 });
    expect(() => withBackup('{ compression: { threads: 0 } }')).toThrow(/compression\.threads/);
    expect(() => withBackup('{ compression: { where: somewhere } }')).toThrow(/compression\.where/);
  });
});
