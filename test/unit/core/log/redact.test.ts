import { describe, expect, it } from 'vitest';
import { AppError, ExecError } from '../../../../core/errors/app-error.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { MemoryStream } from '../../../helpers/deps.js';

const SECRET = 'p4ss-W0rd-that-must-never-leak';

function setup() {
  const redactor = new Redactor();
  redactor.add(SECRET);
  const out = new MemoryStream();
  const log = createLogger({ level: 'trace', redactor, destination: out });
  return { redactor, out, log };
}

describe('log redaction', () => {
  it('keeps a known secret out of every place a log line can carry it', () => {
    const { out, log } = setup();
    log.info({ password: SECRET }, 'field named password');
    log.info({ config: { nested: { deeper: [`prefix ${SECRET} suffix`] } } }, 'nested value');
    log.warn(`message with ${SECRET} inside`);
    log.error({ err: new Error(`boom ${SECRET}`) }, 'error object');
    log.info({ err: new ExecError('AKS_EXEC_FAILED', { command: 'mongodump', exitCode: 1, stderr: `auth failed for ${SECRET}` }) }, 'exec');
    log.info({ headers: { authorization: 'Bearer abcdefghijklmnop', 'x-auth-token': 'tok-1234567890' } }, 'headers');
    log.info('%s and %o', SECRET, { SECRET });
    expect(out.chunks.length).toBe(7);
    expect(out.text).not.toContain(SECRET);
    expect(out.text).not.toContain('abcdefghijklmnop');
    expect(out.text).not.toContain('tok-1234567890');
    expect(out.text).toContain('[REDACTED]');
  });

  it.each([
    ['mongodb://root:s3cr3t@mongo:27017/admin', 'mongodb://root:[REDACTED]@mongo:27017/admin'],
    ['mongodump --password=s3cr3t --archive', 'mongodump --password=[REDACTED] --archive'],
    ['mongodump --password "s3 cr3t" --gzip', 'mongodump --password [REDACTED] --gzip'],
    ['DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;', 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=[REDACTED];'],
    ['https://a.blob.core.windows.net/c?sv=2024&sig=abc%2Bdef&se=1', 'https://a.blob.core.windows.net/c?sv=2024&sig=[REDACTED]&se=1'],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x', 'Authorization: Bearer [REDACTED]'],
    ['nothing secret here', 'nothing secret here'],
  ])('masks credential-shaped text: %s', (input, expected) => {
    expect(new Redactor().text(input)).toBe(expected);
  });

  it('ignores values too short to be secrets, so ordinary words are not masked', () => {
    const r = new Redactor();
    r.add('ab');
    r.add(undefined);
    expect(r.text('abc')).toBe('abc');
  });

  it('keeps AppError codes readable', () => {
    const { out, log } = setup();
    log.error({ err: new AppError('AKS_FORBIDDEN', { actor: 'eve', command: 'teardown', role: 'admin' }) }, 'refused');
    expect(out.text).toContain('AKS_FORBIDDEN');
  });
});
