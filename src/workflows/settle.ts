/**
 * Every promise's value once all have settled, or the first rejection (in the order given) once all
 * have settled. Unlike `Promise.all`, a workflow that fails or is cancelled this way closes only when
 * its children have finished: a child still cancelling when its parent closes is terminated (the
 * default parent close policy), before it could discard what it stored.
 */
export async function settleAll<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
