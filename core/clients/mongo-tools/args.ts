import type { DumpOptions, RestoreOptions } from './tools.js';

/**
 * The mongodump/mongorestore arguments for a dump or restore, the same wherever the tools run (bot host or
 * inside the MongoDB pod). Credentials are never among them: each executor passes those its own way.
 */
export function dumpArgs(opts: DumpOptions): string[] {
  // --oplog only works on a full dump; a single-database dump is what FerretDB and drills need
  return ['--archive', ...(opts.gzip === false ? [] : ['--gzip']), ...(opts.oplog ? ['--oplog'] : [`--db=${opts.database}`])];
}

export function restoreArgs(opts: RestoreOptions): string[] {
  const args = ['--archive', '--gzip'];
  if (opts.drop) args.push('--drop');
  if (opts.oplogReplay) args.push('--oplogReplay');
  if (!opts.indexes) args.push('--noIndexRestore');
  for (const ns of opts.include ?? []) args.push(`--nsInclude=${ns}`);
  if (opts.rename) args.push(`--nsFrom=${opts.rename.from}`, `--nsTo=${opts.rename.to}`);
  return args;
}
