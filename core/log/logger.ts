import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import type { Redactor } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: LevelWithSilent;
  redactor: Redactor;
  /** Where JSON lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

/**
 * JSON logs in which secrets never appear: every object and message passes through the Redactor, which masks
 * secret-named fields, credential-shaped text and the exact secret values resolved at runtime.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const { redactor } = opts;
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'aks-lifecycle-bot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactor.value(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? redactor.text(a) : redactor.value(a))) as Parameters<typeof method>;
          method.apply(this, scrubbed);
        },
        // last line of defence: whatever a serializer or interpolation produced, known values are masked
        streamWrite: (line) => redactor.text(line),
      },
      serializers: {
        err: (err: unknown) => redactor.value(err),
      },
    },
    opts.destination ?? pino.destination(1),
  );
}
