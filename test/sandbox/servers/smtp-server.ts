/**
 * The sandbox mail server: a real SMTP listener (npm smtp-server) that keeps every accepted message as a raw .eml
 * file, plus a small HTTP API through which tests read what was delivered (parsed with mailparser).
 *
 * Run as its own process by the `smtp` sandbox component; configured through the environment:
 *   SMTP_HOST, SMTP_PORT        where SMTP listens (127.0.0.1 only in the sandbox)
 *   SMTP_API_PORT               where the HTTP API listens (same host)
 *   SMTP_MAIL_DIR               folder for <id>.eml and <id>.json (envelope) files
 *   SMTP_USER, SMTP_PASSWORD    when both are set, AUTH is required and other credentials are refused (535)
 *   SMTP_MAX_SIZE               largest message accepted, bytes (default 25 MiB)
 *
 * HTTP API (JSON):
 *   GET    /healthz             { ok: true, messages: N }
 *   GET    /messages            summaries, oldest first
 *   GET    /messages/:id        the parsed message, attachments with base64 content
 *   GET    /messages/:id/raw    the message exactly as received (message/rfc822)
 *   DELETE /messages            forget every message
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';

const host = process.env.SMTP_HOST ?? '127.0.0.1';
const smtpPort = Number(required('SMTP_PORT'));
const apiPort = Number(required('SMTP_API_PORT'));
const mailDir = required('SMTP_MAIL_DIR');
const user = process.env.SMTP_USER ?? '';
const password = process.env.SMTP_PASSWORD ?? '';
const authRequired = user !== '' && password !== '';
const maxSize = Number(process.env.SMTP_MAX_SIZE ?? 25 * 1024 * 1024);

function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    console.error(`smtp-server: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

mkdirSync(mailDir, { recursive: true });

interface Envelope {
  id: string;
  receivedAt: string;
  mailFrom: string | null;
  rcptTo: string[];
  authUser: string | null;
  remoteAddress: string;
  size: number;
}

let seq = 0;
function nextId(): string {
  seq += 1;
  // sortable by arrival, unique within one server run
  return `${Date.now().toString().padStart(14, '0')}-${String(seq).padStart(6, '0')}`;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const smtp = new SMTPServer({
  name: 'sandbox-smtp.local',
  banner: 'aks-lifecycle-bot sandbox SMTP',
  // No TLS in the sandbox: plain SMTP on loopback, so AUTH must be allowed without it.
  disabledCommands: authRequired ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
  allowInsecureAuth: true,
  authOptional: !authRequired,
  authMethods: ['PLAIN', 'LOGIN'],
  size: maxSize,
  logger: false,
  onAuth(auth, _session, callback) {
    if (auth.username !== undefined && sameSecret(auth.username, user) && sameSecret(auth.password ?? '', password)) {
      callback(null, { user: auth.username });
      return;
    }
    const err = new Error('Authentication credentials invalid') as Error & { responseCode: number };
    err.responseCode = 535;
    callback(err);
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', (err) => callback(err));
    stream.on('end', () => {
      const s = stream as typeof stream & { sizeExceeded?: boolean };
      if (s.sizeExceeded) {
        const err = new Error(`Message exceeds the fixed maximum message size of ${maxSize} bytes`) as Error & {
          responseCode: number;
        };
        err.responseCode = 552;
        callback(err);
        return;
      }
      const raw = Buffer.concat(chunks);
      const id = nextId();
      const mailFrom = session.envelope.mailFrom;
      const env: Envelope = {
        id,
        receivedAt: new Date().toISOString(),
        mailFrom: mailFrom ? mailFrom.address : null,
        rcptTo: session.envelope.rcptTo.map((r: SMTPServerAddress) => r.address),
        authUser: typeof session.user === 'string' ? session.user : null,
        remoteAddress: session.remoteAddress,
        size: raw.length,
      };
      try {
        // envelope first: a listed .eml always has its envelope beside it
        writeFileSync(join(mailDir, `${id}.json`), `${JSON.stringify(env, null, 2)}\n`);
        writeFileSync(join(mailDir, `${id}.eml`), raw);
      } catch (err) {
        callback(err as Error);
        return;
      }
      console.log(`accepted ${id} from=${env.mailFrom ?? '<>'} to=${env.rcptTo.join(',')} size=${raw.length}`);
      callback(null, `Message queued as ${id}`);
    });
  },
});

smtp.on('error', (err) => console.error(`smtp error: ${err.message}`));

function messageIds(): string[] {
  return readdirSync(mailDir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => f.slice(0, -'.eml'.length))
    .sort();
}

function readEnvelope(id: string): Envelope {
  return JSON.parse(readFileSync(join(mailDir, `${id}.json`), 'utf8')) as Envelope;
}

function addresses(a: AddressObject | AddressObject[] | undefined): { address: string; name: string }[] {
  if (!a) return [];
  const list = Array.isArray(a) ? a : [a];
  return list.flatMap((x) => x.value.map((v) => ({ address: v.address ?? '', name: v.name })));
}

async function parsed(id: string, withContent: boolean): Promise<Record<string, unknown>> {
  const env = readEnvelope(id);
  const mail = await simpleParser(readFileSync(join(mailDir, `${id}.eml`)));
  const summary = {
    id,
    receivedAt: env.receivedAt,
    envelope: { from: env.mailFrom, to: env.rcptTo },
    authUser: env.authUser,
    size: env.size,
    subject: mail.subject ?? '',
    from: addresses(mail.from),
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    date: mail.date?.toISOString() ?? null,
    messageId: mail.messageId ?? null,
    attachments: mail.attachments.map((att) => ({
      filename: att.filename ?? null,
      contentType: att.contentType,
      size: att.size,
      checksum: att.checksum,
      ...(withContent ? { contentBase64: att.content.toString('base64') } : {}),
    })),
  };
  if (!withContent) return summary;
  return {
    ...summary,
    text: mail.text ?? null,
    html: mail.html === false ? null : mail.html,
    headers: Object.fromEntries([...mail.headers.keys()].map((k) => [k, String(mail.headers.get(k))])),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const parts = url.pathname.split('/').filter(Boolean);
  if (req.method === 'GET' && url.pathname === '/healthz') {
    send(res, 200, { ok: true, messages: messageIds().length });
    return;
  }
  if (parts[0] !== 'messages' || parts.length > 3) {
    send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    return;
  }
  if (parts.length === 1) {
    if (req.method === 'GET') {
      send(res, 200, await Promise.all(messageIds().map((id) => parsed(id, false))));
      return;
    }
    if (req.method === 'DELETE') {
      for (const f of readdirSync(mailDir)) rmSync(join(mailDir, f), { force: true });
      send(res, 200, { deleted: true });
      return;
    }
  }
  const id = parts[1] ?? '';
  if (!/^[0-9]{14}-[0-9]{6}$/.test(id) || !existsSync(join(mailDir, `${id}.eml`))) {
    send(res, 404, { error: `no message ${id}` });
    return;
  }
  if (req.method === 'GET' && parts.length === 2) {
    send(res, 200, await parsed(id, true));
    return;
  }
  if (req.method === 'GET' && parts[2] === 'raw') {
    const raw = readFileSync(join(mailDir, `${id}.eml`));
    res.writeHead(200, { 'content-type': 'message/rfc822', 'content-length': raw.length });
    res.end(raw);
    return;
  }
  send(res, 405, { error: `${req.method} not allowed on ${url.pathname}` });
}

const api = createHttpServer((req, res) => {
  handle(req, res).catch((err: unknown) => send(res, 500, { error: (err as Error).message }));
});

smtp.listen(smtpPort, host, () => {
  console.log(`SMTP listening on ${host}:${smtpPort} (auth ${authRequired ? 'required' : 'off'}), mail in ${mailDir}`);
});
api.listen(apiPort, host, () => {
  console.log(`mail API listening on http://${host}:${apiPort}`);
});

function shutdown(): void {
  api.close();
  smtp.close(() => process.exit(0));
  // connections left open by a client must not keep the process alive past `down`
  setTimeout(() => process.exit(0), 2_000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
