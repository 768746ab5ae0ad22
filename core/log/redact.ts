const MASK = '[REDACTED]';

/** Field names whose values are secrets wherever they appear in a logged object. */
export const SECRET_FIELD_PATTERN = /pass(word)?|secret|token|authorization|api[-_]?key|private[-_]?key|credential|cookie|signature|^key$|accountkey|connectionstring/i;

/** Secrets embedded in text: URI credentials, bearer tokens, password flags. */
const TEXT_PATTERNS: readonly [RegExp, string][] = [
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]+:)[^@\s/]+@/gi, `$1${MASK}@`],
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${MASK}`],
  [/(--?(?:password|pass|token|secret|key)[= ])("[^"]*"|'[^']*'|\S+)/gi, `$1${MASK}`],
  [/((?:AccountKey|SharedAccessSignature|sig|password|pwd)=)[^;&\s]+/gi, `$1${MASK}`],
];

/**
 * Removes secrets from text and objects before they reach a log, chat, email or an error detail.
 * Known secret values (resolved at runtime from env or Key Vault) are registered with `add`; anything that
 * looks like a credential by field name or shape is masked as well.
 */
export class Redactor {
  private readonly values = new Set<string>();

  /** Register a secret value; values shorter than 4 characters would mask ordinary text and are refused. */
  add(value: string | undefined): void {
    if (value === undefined || value.length < 4) return;
    this.values.add(value);
  }

  text(input: string): string {
    let out = input;
    // longest first so a secret that contains another is masked whole
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join(MASK);
    for (const [re, replacement] of TEXT_PATTERNS) out = out.replace(re, replacement);
    return out;
  }

  value(input: unknown, depth = 0): unknown {
    if (typeof input === 'string') return this.text(input);
    if (depth > 8 || input === null || typeof input !== 'object') return input;
    if (input instanceof Error) {
      const copy: Record<string, unknown> = { type: input.name, message: this.text(input.message) };
      if (input.stack) copy.stack = this.text(input.stack);
      for (const [k, v] of Object.entries(input)) copy[k] = SECRET_FIELD_PATTERN.test(k) ? MASK : this.value(v, depth + 1);
      return copy;
    }
    if (Array.isArray(input)) return input.map((v) => this.value(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) {
      out[k] = SECRET_FIELD_PATTERN.test(k) && v !== null && v !== undefined && typeof v !== 'object' ? MASK : this.value(v, depth + 1);
    }
    return out;
  }
}

export const REDACTION_MASK = MASK;
