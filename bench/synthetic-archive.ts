import { randomBytes } from 'node:crypto';
import { BSON, Binary, Int32, ObjectId } from 'mongodb';
import type { ArchiveNs } from '../test/helpers/mongo-archive.js';

/**
 * A Rocket.Chat-shaped document mix for synthetic archives of any size, without a server: by bytes about 60 %
 * messages (≈430-byte documents, unicode text plus random base64: compressible like chat) and 40 % GridFS chunks
 * (255 KiB of random bytes: incompressible, like uploaded images), plus users, rooms and subscriptions.
 *
 * Generation must outrun the pipeline it feeds, so messages are made from a pool of serialized templates with the
 * _id's digits written into a copy (every document still distinct), not serialized one by one.
 */
const UNICODE = ['Grüße aus Köln — naïve café', '日本語のメッセージ', 'مرحبا بالعالم', 'Привет, мир! Ёжик', '👩‍💻🚀 deploy ✅ 🇩🇪', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈'];
const CHUNK = 255 * 1024;

function messageTemplates(n: number): { bytes: Buffer; idAt: number }[] {
  const out: { bytes: Buffer; idAt: number }[] = [];
  for (let i = 0; i < n; i++) {
    const text = `${UNICODE[i % UNICODE.length]} #${i} ${randomBytes(24 + (i % 40)).toString('base64')} ${'lorem ipsum dolor sit amet '.repeat(1 + (i % 5))}`;
    const doc = {
      _id: 'msg-000000000000',
      rid: ['GENERAL', 'room-dev', 'u-adminu-zoe'][i % 3],
      msg: text,
      ts: new Date(Date.parse('2026-05-01T08:00:00Z') + i * 1000),
      u: { _id: `u-${i % 7}`, username: `user${i % 7}` },
      md: [{ type: 'PARAGRAPH', value: [{ type: 'PLAIN_TEXT', value: text.slice(0, 60) }] }],
      ...(i % 5 === 0 ? { reactions: { ':thumbsup:': { usernames: ['zoe', 'taro'] } } } : {}),
      _updatedAt: new Date(),
      unread: new Int32(i % 3),
    };
    const bytes = Buffer.from(BSON.serialize(doc));
    out.push({ bytes, idAt: bytes.indexOf('msg-000000000000') + 4 });
  }
  return out;
}

function* messages(count: number): Generator<Buffer> {
  const pool = messageTemplates(512);
  for (let i = 0; i < count; i++) {
    const t = pool[i % pool.length]!;
    const b = Buffer.from(t.bytes);
    b.write(String(i).padStart(12, '0'), t.idAt, 'latin1');
    yield b;
  }
}

function* chunks(files: number, chunksPerFile: number): Generator<Record<string, unknown>> {
  for (let f = 0; f < files; f++) {
    const filesId = new ObjectId();
    for (let n = 0; n < chunksPerFile; n++) yield { _id: new ObjectId(), files_id: filesId, n: new Int32(n), data: new Binary(randomBytes(CHUNK)) };
  }
}

function* small(prefix: string, count: number): Generator<Record<string, unknown>> {
  for (let i = 0; i < count; i++) yield { _id: `${prefix}-${i}`, name: `${prefix} ${UNICODE[i % UNICODE.length]}`, createdAt: new Date(), n: new Int32(i) };
}

/** Namespaces for an archive of about `bytes` uncompressed bytes of the database `db`. */
export function rocketChatMix(db: string, bytes: number): ArchiveNs[] {
  const messageCount = Math.round((bytes * 0.6) / 430);
  const chunkCount = Math.max(1, Math.round((bytes * 0.4) / CHUNK));
  const perFile = 4;
  return [
    { db, collection: 'users', docs: small('u', 500) },
    { db, collection: 'rocketchat_room', docs: small('room', 200) },
    { db, collection: 'rocketchat_subscription', docs: small('sub', 5_000) },
    { db, collection: 'rocketchat_message', docs: messages(messageCount) },
    { db, collection: 'rocketchat_uploads.files', docs: small('file', Math.ceil(chunkCount / perFile)) },
    { db, collection: 'rocketchat_uploads.chunks', docs: chunks(Math.ceil(chunkCount / perFile), perFile) },
  ];
}
