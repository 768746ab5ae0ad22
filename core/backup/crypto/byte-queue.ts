/**
 * A FIFO of buffers that hands out exact-size slices. Concatenating every incoming piece onto one growing buffer
 * would copy each byte many times per chunk; this copies each byte once, when a whole chunk is there.
 */
export class ByteQueue {
  private parts: Buffer[] = [];
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.total += b.length;
  }

  /** The first n bytes without removing them (n ≤ length). */
  peek(n: number): Buffer {
    const first = this.parts[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.parts, this.total).subarray(0, n);
  }

  /** Removes and returns exactly n bytes (n ≤ length). */
  take(n: number): Buffer {
    if (n > this.total) throw new RangeError(`take(${n}) with ${this.total} queued`);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.parts[0]!;
      const want = n - filled;
      if (head.length <= want) {
        head.copy(out, filled);
        filled += head.length;
        this.parts.shift();
      } else {
        head.copy(out, filled, 0, want);
        this.parts[0] = head.subarray(want);
        filled += want;
      }
    }
    this.total -= n;
    return out;
  }
}
