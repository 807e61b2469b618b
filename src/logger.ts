import pino from 'pino';

/**
 * Structured logs. Secrets and candidate PII must never be logged: the redact list is a safety net
 * for fields that could carry them, not a licence to log whole objects.
 */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  name = 'bgc',
  /** Where the JSON lines go; stdout when omitted. */
  destination?: pino.DestinationStream,
): pino.Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'apiKey',
        'secrets',
        '*.apiKey',
        '*.api_key',
        '*.signatureToken',
        '*.webhookSecret',
        '*.callbackSecret',
        '*.partnerSecret',
        '*.secrets',
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
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export type Logger = pino.Logger;
