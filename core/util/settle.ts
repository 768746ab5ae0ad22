/**
 * Like Promise.all, but waits for every promise before failing with the first rejection (in argument order).
 * Promise.all rejects at the first failure and leaves the other calls running: an Azure read still retrying
 * after the command has answered, racing the next one and reporting nothing.
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(promises: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises as readonly Promise<unknown>[]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
