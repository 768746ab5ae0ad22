import { readFileSync } from 'node:fs';
import { runAction } from '../../../../core/engine/action.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import { armClients, deleteClusterAction } from './action-fixtures.js';

// The process that dies: runs the action on run <runId> of the database <path> against the fake ARM until the
// parent SIGKILLs it (no exit handler runs, nothing more is journaled).
const [path, runId, url, caFile] = process.argv.slice(2) as [string, string, string, string];
const store = openSqliteStore({ path });
const log = createLogger({ level: 'warn', redactor: new Redactor(), destination: process.stderr });
process.stdout.write('STARTED\n');
await runAction(deleteClusterAction, { store, log, runId: Number(runId), input: { clients: armClients(url, readFileSync(caFile, 'utf8')), log } });
process.stdout.write('FINISHED\n');
