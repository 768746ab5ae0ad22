/**
 * Group commit for SQLite writes that every request makes (audit rows, request nonces): with synchronous=FULL each
 * commit is an fsync that blocks the event loop, so writes queued in the same turn of the event loop share ONE
 * transaction right after it (setImmediate), and each write's promise settles only when its batch has committed —
 * what a caller acts on is durable, on power loss too. The cost is at most one event-loop turn of extra latency.
 */
export interface GroupCommit<In, Out> {
  /** Queues one write; resolves with its result once its batch committed. */
  submit(input: In): Promise<Out>;
  /** Commits what is queued now (reads call it first, to see their own writes; close() calls it). */
  flush(): void;
}

export interface GroupCommitOptions<In, Out> {
  /** Writes a batch in one transaction, returning one result per input, in order. Throws: nothing was written. */
  readonly write: (batch: readonly In[]) => Out[];
  /**
   * After a failed batch: 'each' writes every input alone (only the input that cannot be written fails), 'all'
   * fails the whole batch (nothing of it may count as written).
   */
  readonly onBatchError: 'each' | 'all';
  /** false: one transaction per write (a benchmark's before/after). */
  readonly grouped?: boolean;
}

export function groupCommit<In, Out>(o: GroupCommitOptions<In, Out>): GroupCommit<In, Out> {
  type Pending = { readonly input: In; readonly resolve: (out: Out) => void; readonly reject: (err: unknown) => void };
  let pending: Pending[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    let results: Out[];
    try {
      results = o.write(batch.map((p) => p.input));
    } catch (err) {
      if (o.onBatchError === 'all') {
        for (const p of batch) p.reject(err);
        return;
      }
      for (const p of batch) {
        try {
          p.resolve(o.write([p.input])[0]!);
        } catch (one) {
          p.reject(one);
        }
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  };
  return {
    flush,
    submit: (input) =>
      new Promise<Out>((resolve, reject) => {
        pending.push({ input, resolve, reject });
        if (o.grouped === false) flush();
        else scheduled ??= setImmediate(flush);
      }),
  };
}
