import { createHash, randomBytes } from 'node:crypto';
import { BSON, Binary, Double, GridFSBucket, Int32, Long, ObjectId, type Db } from 'mongodb';

/** Rocket.Chat keys its documents by string ids. */
interface RcDoc {
  _id: string;
  [field: string]: unknown;
}

const UNICODE = ['Grüße aus Köln — naïve café', '日本語のメッセージ', 'مرحبا بالعالم', 'Привет, мир! Ёжик', '👩‍💻🚀 deploy ✅ 🇩🇪', 'e\u0301 zero\u200Bwidth\ttab\nline', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈'];

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * Rocket.Chat-shaped data within what FerretDB accepts (docs/sandbox-ferretdb.md): users with nested services,
 * rooms, messages with unicode, reactions, threads and one document over 1 MB, subscriptions, GridFS uploads with
 * binary files, and typed numbers (Int32, Double, Long) that must survive as their types. `messages` scales it.
 */
/** The collections seedRocketChat writes, sorted by name (as listCollections and the manifest list them). */
export const SEEDED_COLLECTIONS = [
  'rocketchat_avatars',
  'rocketchat_message',
  'rocketchat_room',
  'rocketchat_subscription',
  'rocketchat_uploads.chunks',
  'rocketchat_uploads.files',
  'users',
] as const;

export async function seedRocketChat(db: Db, opts: { messages?: number; bigDocBytes?: number } = {}): Promise<{ uploads: Record<string, string> }> {
  const t0 = Date.parse('2026-05-01T08:00:00.000Z');
  const names = ['rocket.cat', 'admin', 'zoe', 'taro', 'muhammad'];
  await db.collection<RcDoc>('users').insertMany(
    names.map((username, i) => ({
      _id: `u-${username}`,
      username,
      name: ['Rocket.Cat', 'Administrator', 'Zoë Ångström', '山田太郎', 'محمد'][i],
      roles: i === 1 ? ['admin', 'user'] : ['user'],
      createdAt: new Date(t0 - 86_400_000 * (30 - i)),
      emails: [{ address: `${username}@example.test`, verified: i !== 3 }],
      services: { password: { bcrypt: `$2b$10$${'a'.repeat(53 - i)}` }, resume: { loginTokens: [{ when: new Date(t0 - i), hashedToken: sha256(`t${i}`) }] } },
      settings: { preferences: { language: ['en', 'de', 'ja', 'ar', 'ru'][i], idleTimeLimit: new Int32(300) } },
      utcOffset: new Double(i === 3 ? 9 : 1),
      __bytesUploaded: Long.fromNumber(2 ** 40 + i),
    })),
  );
  await db.collection('users').createIndex({ username: 1 }, { unique: true });
  const rooms = [
    { _id: 'GENERAL', t: 'c', name: 'general', fname: 'général 🎉' },
    { _id: 'room-dev', t: 'p', name: 'dev-team', fname: '开发团队' },
    { _id: 'u-adminu-zoe', t: 'd', usernames: ['admin', 'zoe'] },
  ].map((r, i) => ({ ...r, ts: new Date(t0 + i), u: { _id: 'u-admin', username: 'admin' }, msgs: new Int32(0) }));
  await db.collection<RcDoc>('rocketchat_room').insertMany(rooms);

  const count = opts.messages ?? 150;
  for (let start = 0; start < count; start += 1000) {
    const batch: RcDoc[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      const text = `${UNICODE[i % UNICODE.length]} #${i} ${randomBytes(24).toString('base64')}`;
      batch.push({
        _id: `msg-${String(i).padStart(8, '0')}`,
        rid: rooms[i % 3]!._id,
        msg: text,
        ts: new Date(t0 + i * 1000),
        u: { _id: `u-${names[1 + (i % 4)]}`, username: names[1 + (i % 4)] },
        md: [{ type: 'PARAGRAPH', value: [{ type: 'PLAIN_TEXT', value: text }] }],
        ...(i % 5 === 0 ? { reactions: { ':thumbsup:': { usernames: ['zoe', 'taro'] } } } : {}),
        ...(i > 0 && i % 10 === 0 ? { tmid: 'msg-00000000' } : {}),
      });
    }
    await db.collection<RcDoc>('rocketchat_message').insertMany(batch);
  }
  await db.collection<RcDoc>('rocketchat_message').insertOne({ _id: 'msg-big', rid: 'GENERAL', msg: 'ü'.repeat((opts.bigDocBytes ?? 1_100_000) / 2), ts: new Date(t0) });
  await db.collection<RcDoc>('rocketchat_subscription').insertMany(
    rooms.flatMap((r) => names.slice(1).map((u) => ({ _id: `${r._id}-${u}`, rid: r._id, u: { username: u }, open: true, unread: new Int32(u.length), ls: new Date(t0) }))),
  );

  const bucket = new GridFSBucket(db, { bucketName: 'rocketchat_uploads' });
  const uploads: Record<string, string> = {};
  for (const [filename, data] of [
    ['screenshot 📷.png', randomBytes(700_000)],
    ['notes.txt', Buffer.from(UNICODE.join('\n'))],
    ['empty.bin', Buffer.alloc(0)],
  ] as const) {
    const id = new ObjectId();
    await new Promise<void>((resolve, reject) => {
      const up = bucket.openUploadStreamWithId(id, filename, { metadata: { rid: 'GENERAL', userId: 'u-zoe' } });
      up.once('finish', () => resolve());
      up.once('error', reject);
      up.end(data);
    });
    uploads[id.toHexString()] = sha256(data);
  }
  await db.collection<RcDoc>('rocketchat_avatars').insertOne({ _id: 'u-zoe', data: new Binary(randomBytes(4096)), etag: 'e1' });
  return { uploads };
}

/** Every document of every collection as canonical Extended JSON, by _id: equal snapshots mean identical data. */
export async function snapshot(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  for (const name of names) {
    const docs = await db.collection(name).find({}, { promoteValues: false }).sort({ _id: 1 }).toArray();
    out[name] = docs.map((d) => BSON.EJSON.stringify(d, { relaxed: false }));
  }
  return out;
}

export async function gridfsHashes(db: Db): Promise<Record<string, string>> {
  const bucket = new GridFSBucket(db, { bucketName: 'rocketchat_uploads' });
  const out: Record<string, string> = {};
  for (const f of await bucket.find({}).toArray()) {
    const parts: Buffer[] = [];
    for await (const c of bucket.openDownloadStream(f._id)) parts.push(c as Buffer);
    out[f._id.toHexString()] = sha256(Buffer.concat(parts));
  }
  return out;
}
