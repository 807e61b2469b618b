import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import type { ApiConfig } from '../config';
import { PayloadDecryptionError, isEncrypted } from '../temporal/codec';
import { sendProblem } from './problem';

/** Largest codec request: the Web UI sends one event's payloads at a time, each at most Temporal's 2 MB. */
export const CODEC_BODY_LIMIT = 8 * 1024 * 1024;
/** The origins of the local dev server's Web UI (CODEC_CORS_ORIGINS's default in src/config.ts). */
export const DEFAULT_CODEC_CORS_ORIGINS = ['http://127.0.0.1:8233', 'http://localhost:8233'];

/** Bytes are base64 in the codec protocol's JSON (proto3 JSON of temporal.api.common.v1.Payload). */
const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'not base64')
  .refine((s) => s.replace(/=+$/, '').length % 4 !== 1, 'not base64');
const payloadJsonSchema = z.object({
  metadata: z.record(z.string(), base64).nullish(),
  data: base64.nullish(),
});
const codecBodySchema = z.object({ payloads: z.array(payloadJsonSchema) });
type PayloadJson = z.infer<typeof payloadJsonSchema>;

export interface CodecRouterDeps {
  /** Settings absent here take their defaults: the admin token, the dev server's UI origins, no anonymity. */
  config: Pick<ApiConfig, 'ADMIN_TOKEN'> &
    Partial<Pick<ApiConfig, 'NODE_ENV' | 'CODEC_TOKEN' | 'CODEC_CORS_ORIGINS' | 'CODEC_ALLOW_ANONYMOUS'>>;
  /** The API's Temporal client: the endpoint runs exactly its payload codecs (createDataConverter). */
  temporal: Pick<Client, 'options'>;
}

/**
 * The decoding half of Temporal's codec server protocol, for the Web UI (`--ui-codec-endpoint <api>/codec`) and
 * the CLI (`--codec-endpoint <api>/codec --codec-auth 'Bearer <token>'`): `POST /decode` takes and returns
 * `{ payloads: [...] }`, and shows a payload that is not encrypted as it is (the worker refuses it, the operator
 * sees what was sent). There is no `/encode`: whoever could encrypt through it could forge inputs that the worker
 * accepts. Requires `Authorization: Bearer <CODEC_TOKEN, or ADMIN_TOKEN outside production>` (constant-time),
 * unless CODEC_ALLOW_ANONYMOUS (never in production) lets a request without one through; CORS for
 * CODEC_CORS_ORIGINS, with credentials, preflight answered. Errors are problem+json: 400 invalid body or
 * undecodable payload, 401, 413.
 */
export function codecRouter({ config, temporal }: CodecRouterDeps): Router {
  if (config.NODE_ENV === 'production') {
    if (config.CODEC_ALLOW_ANONYMOUS) {
      throw new Error(
        'Invalid configuration: CODEC_ALLOW_ANONYMOUS: not allowed when NODE_ENV is production',
      );
    }
    if (config.CODEC_TOKEN === undefined) {
      throw new Error(
        'Invalid configuration: CODEC_TOKEN is required in production: the bearer token of /codec, which reads ' +
          'every Temporal payload (16+ characters, not ADMIN_TOKEN)',
      );
    }
    if (config.CODEC_TOKEN === config.ADMIN_TOKEN) {
      throw new Error('Invalid configuration: CODEC_TOKEN must differ from ADMIN_TOKEN');
    }
  }
  const origins = new Set(config.CODEC_CORS_ORIGINS ?? DEFAULT_CODEC_CORS_ORIGINS);
  const codecs = temporal.options.loadedDataConverter.payloadCodecs;
  const router = Router();

  router.use((req, res, next) => {
    res.vary('Origin');
    const origin = req.get('origin');
    if (origin !== undefined && origins.has(origin)) {
      res.set('Access-Control-Allow-Origin', origin);
      res.set('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method !== 'OPTIONS') return next();
    if (origin !== undefined && origins.has(origin)) {
      res.set('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
      res.set('Access-Control-Max-Age', '600');
    }
    res.status(204).end();
  });

  const authorize = requireBearer(
    config.CODEC_TOKEN ?? config.ADMIN_TOKEN,
    config.CODEC_ALLOW_ANONYMOUS ?? false,
  );
  const json = express.json({ limit: CODEC_BODY_LIMIT });
  router.post('/decode', authorize, json, async (req, res, next) => {
    const body = codecBodySchema.safeParse(req.body);
    if (!body.success) {
      return sendProblem(
        res,
        400,
        'The body must be { "payloads": [{ "metadata": {...}, "data": "<base64>" }] }.',
        {
          errors: body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        },
      );
    }
    try {
      const payloads = await Promise.all(
        body.data.payloads.map(fromJson).map(async (payload) => {
          if (!isEncrypted(payload)) return payload;
          let decoded = [payload];
          for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
          return decoded[0] ?? payload;
        }),
      );
      res.json({ payloads: payloads.map(toJson) });
    } catch (err) {
      if (err instanceof PayloadDecryptionError) return sendProblem(res, 400, err.message);
      return next(err);
    }
  });
  return router;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `Authorization: Bearer <token>`, compared in constant time (digests hide the length). */
function requireBearer(token: string, allowAnonymous: boolean): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const header = req.get('authorization');
    if (header === undefined && allowAnonymous) return next();
    const match = /^Bearer (.+)$/i.exec(header ?? '');
    if (match?.[1] === undefined || !timingSafeEqual(digest(match[1]), expected)) {
      res.set('WWW-Authenticate', 'Bearer');
      return sendProblem(res, 401, 'A valid codec bearer token is required.');
    }
    next();
  };
}

function fromJson(payload: PayloadJson): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [
        name,
        Buffer.from(value ?? []).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}
