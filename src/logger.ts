import pino from 'pino';

/**
 * Structured logs. Secrets and candidate PII must never be logged: the redact list is a safety net
 * for fields that could carry them, not a licence to log whole objects.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'bgc'): pino.Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        '*.apiKey',
        '*.api_key',
        '*.signatureToken',
        '*.webhookSecret',
        '*.password',
        '*.email',
        '*.emails',
        '*.email_address',
        '*.name',
        '*.phones',
        'req.headers.authorization',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}

export type Logger = pino.Logger;
