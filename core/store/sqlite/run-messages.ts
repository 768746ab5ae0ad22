import type Database from 'better-sqlite3';
import type { Clock, RunMessageStore } from '../types.js';
import { fromMs, toMs } from './codec.js';

interface Row {
  run_id: number;
  room_id: string;
  message_id: string;
  posted_at: number;
}

export function sqliteRunMessageStore(db: Database.Database, clock: Clock): RunMessageStore {
  const select = db.prepare<[number], Row>('SELECT * FROM run_messages WHERE run_id = ?');
  const insert = db.prepare<{ run: number; room: string; msg: string; now: number }>(
    'INSERT INTO run_messages (run_id, room_id, message_id, posted_at) VALUES (@run, @room, @msg, @now) ON CONFLICT (run_id) DO NOTHING',
  );
  return {
    async getRunMessage(runId: number) {
      const row = select.get(runId);
      return row === undefined ? undefined : { runId: row.run_id, roomId: row.room_id, messageId: row.message_id, postedAt: fromMs(row.posted_at) };
    },
    async recordRunMessage(runId: number, roomId: string, messageId: string, now?: Date) {
      return insert.run({ run: runId, room: roomId, msg: messageId, now: toMs(now ?? clock()) }).changes === 1;
    },
  };
}
