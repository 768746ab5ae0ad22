import { z } from 'zod';

// Only the fields the bot reads of helm's JSON output (`helm list -o json`, and the release object that
// `helm upgrade --install -o json` prints); everything else helm prints is ignored.

/** One row of `helm list -o json`: helm prints the revision as a string there. */
export const listRowSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  revision: z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(Number),
  status: z.string(),
  chart: z.string(),
  app_version: z.string(),
});

export const listSchema = z.array(listRowSchema);

/** The release object of `helm upgrade --install -o json` (`helm status -o json` leaves its chart out). */
export const releaseSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  version: z.number().int(),
  info: z.object({ status: z.string() }),
  chart: z.object({ metadata: z.object({ name: z.string(), version: z.string(), appVersion: z.string().optional() }) }),
});
