import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sendProblem } from './problem';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Requires `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (digests hide the length). */
export function requireAdminToken(adminToken: string): RequestHandler {
  const expected = digest(adminToken);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    if (match?.[1] === undefined || !timingSafeEqual(digest(match[1]), expected)) {
      res.set('WWW-Authenticate', 'Bearer');
      return sendProblem(res, 401, 'A valid admin bearer token is required.');
    }
    next();
  };
}

/**
 * Who an admin request's changes are recorded as: a fingerprint of its bearer token (enough to tell tokens apart
 * in the event log, useless to anyone reading it).
 */
export function adminActor(authorization: string): string {
  const token = /^Bearer (.+)$/i.exec(authorization)?.[1] ?? '';
  return `admin:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}
