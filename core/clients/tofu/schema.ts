import { z } from 'zod';

// Only the fields the bot reads of OpenTofu's JSON output; everything else it prints is ignored.

/** `tofu version -json`: the field keeps Terraform's name. */
export const versionSchema = z.object({ terraform_version: z.string().regex(/^\d+\.\d+\.\d+/) });

/** `tofu output -json`: every root output with its value and whether the root marks it sensitive. */
export const outputsSchema = z.record(z.string(), z.object({ sensitive: z.boolean(), value: z.unknown() }));
