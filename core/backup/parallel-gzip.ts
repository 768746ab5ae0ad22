import { Transform, type TransformCallback } from 'node:stream';
import { gzip } from 'node:zlib';

/** Where the archive is compressed: by mongodump --gzip where it runs, or on the bot host by parallelGzip. */
export interface CompressionSettings {
  readonly where: 'pod' | 'bot';
  /** Blocks compressed at once on the bot host (zlib jobs on libuv's thread pool, 4 threads unless UV_THREADPOOL_SIZE). */
  readonly threads: number;
  /** Input bytes per gzip member; default GZIP_BLOCK (tests make it small to get many members from a small seed). */
  readonly blockSize?: number;
}

/** mongodump --gzip uses Go's default level, which is 6; the bot host compresses at the same level. */
export const GZIP_LEVEL = 6;
/**
 * Input bytes per gzip member. Each member starts with an empty dictionary, which costs nothing measurable at
 * 1 MiB (deflate's window is 32 KiB); memory in flight is about blockSize × 2 × (threads + 1).
 */
export const GZIP_BLOCK = 1 << 20;
/** zlib's output buffer per thread-pool round trip: one or two trips per block instead of dozens at 16 KiB. */
const ZLIB_CHUNK = 512 * 1024;

/**
 * A gzip compressor that uses several cores: the input is cut into blocks, each compressed on its own as a complete
 * gzip member by zlib on libuv's thread pool (no worker isolate, so no extra V8 heap), and the members are emitted
 * in input order. A concatenation of gzip members is one valid gzip stream (RFC 1952, section 2.2): gunzip, Node's
 * zlib and Go's compress/gzip (which mongorestore --gzip uses) read it as a whole. Empty input gives one empty
 * member, so the output is always a valid gzip stream.
 *
 * Backpressure: at most `threads` blocks are being compressed; the next write waits until the oldest is done.
 */
export function parallelGzip(opts: { threads: number; blockSize?: number; level?: number }): Transform {
  return new ParallelGzip(opts);
}

class ParallelGzip extends Transform {
  private readonly threads: number;
  private readonly blockSize: number;
  private readonly level: number;
  /** Members being compressed, oldest first: emitted in this order whatever order they finish in. */
  private readonly inFlight: Promise<Buffer>[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private members = 0;

  constructor(opts: { threads: number; blockSize?: number; level?: number }) {
    const blockSize = opts.blockSize ?? GZIP_BLOCK;
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`block size ${blockSize} is out of range`);
    // one block queued on each side keeps the threads busy while the reader catches up
    super({ writableHighWaterMark: blockSize, readableHighWaterMark: blockSize });
    this.threads = Math.max(1, Math.floor(opts.threads));
    this.blockSize = blockSize;
    this.level = opts.level ?? GZIP_LEVEL;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.startFullBlocks().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    (async () => {
      await this.startFullBlocks();
      if (this.pendingBytes > 0 || this.members === 0) await this.start(this.nextBlock());
      while (this.inFlight.length > 0) this.push(await this.inFlight.shift()!);
    })().then(() => done(), done);
  }

  private async startFullBlocks(): Promise<void> {
    while (this.pendingBytes >= this.blockSize) await this.start(this.nextBlock());
  }

  /** Starts a block; when all threads are busy, first waits for the oldest and emits it. */
  private async start(block: Buffer): Promise<void> {
    while (this.inFlight.length >= this.threads) this.push(await this.inFlight.shift()!);
    const job = new Promise<Buffer>((resolve, reject) => gzip(block, { level: this.level, chunkSize: ZLIB_CHUNK }, (err, out) => (err ? reject(err) : resolve(out))));
    // a rejection is handled where the job is awaited; this keeps it from counting as unhandled meanwhile
    job.catch(() => undefined);
    this.inFlight.push(job);
    this.members++;
  }

  private nextBlock(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const block = all.subarray(0, Math.min(this.blockSize, all.length));
    const rest = all.subarray(block.length);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return block;
  }
}

/**
 * The configured compression with its default filled in: with executor 'local' mongodump runs on the bot host
 * anyway, so the bot compresses (on several cores, and the parser skips a gunzip); with 'kubernetes' the pod does,
 * so the exec stream through the API server carries the compressed archive.
 */
export function compressionFor(c: { where?: 'pod' | 'bot' | undefined; threads: number }, executor: 'local' | 'kubernetes'): CompressionSettings {
  return { where: c.where ?? (executor === 'local' ? 'bot' : 'pod'), threads: c.threads };
}

/** The bot host's compressor when the settings ask for one; undefined: mongodump --gzip compresses. */
export function botCompressor(c: CompressionSettings | undefined): Transform | undefined {
  return c?.where === 'bot' ? parallelGzip({ threads: c.threads, ...(c.blockSize ? { blockSize: c.blockSize } : {}) }) : undefined;
}
