import fc from 'fast-check';
import { ADMIN_TOKEN } from '../../support/stack';
import { check, type FuzzContext, type FuzzProperty, property, sendCounted } from '../harness';
import { printable, segmentArb } from '../generators';
import type { RawHeader, RawRequest } from '../raw-http';

/** The fuzz properties of paths, methods and headers on every endpoint. */

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

export function pathProperties(ctx: FuzzContext): FuzzProperty[] {
  const realIds = [ctx.certn.id, ctx.victig.id, ctx.ashby.id];
  const segment = segmentArb(realIds);
  const templates: fc.Arbitrary<{ target: string; kind: string }> = fc.oneof(
    segment.map((id) => ({ target: `/webhooks/lever/${id}`, kind: 'lever' })),
    fc
      .tuple(
        fc.oneof(segment, fc.constantFrom('certn', 'victig', 'justifacts', 'justworks', 'CERTN')),
        segment,
      )
      .map(([vendor, id]) => ({ target: `/callbacks/${vendor}/${id}`, kind: 'callback' })),
    fc
      .tuple(
        segment,
        fc.constantFrom('assessment.list', 'assessment.start', 'assessment.cancel', 'assessment.update', ''),
      )
      .map(([id, m]) => ({ target: `/ashby/${id}/${m}`, kind: 'ashby' })),
    segment.map((id) => ({ target: `/admin/connections/${id}`, kind: 'admin-one' })),
    // Report links: without the key nobody can make a token, so every one of these is a 404.
    fc.tuple(segment, segment, printable(60)).map(([id, report, token]) => ({
      target: `/reports/${id}/${report}?token=${encodeURIComponent(token)}`,
      kind: 'report',
    })),
    fc
      .tuple(fc.constantFrom(...realIds), segment)
      .map(([id, s]) => ({ target: `/admin/connections/${id}/checks/${s}`, kind: 'admin-check' })),
    fc
      .constantFrom(
        '/healthz',
        '/healthz/',
        '/HEALTHZ',
        '/healthz?x=%ff',
        '/',
        '//',
        '/admin',
        '/webhooks',
        '/ashby',
        '/codec/encode',
        '/codec/decode',
      )
      .map((target) => ({ target, kind: 'fixed' })),
    fc
      .array(segment, { minLength: 1, maxLength: 4 })
      .map((s) => ({ target: `/${s.join('/')}`, kind: 'random' })),
  );
  return [
    property(
      ctx,
      'paths',
      'unknown connection ids and vendors, malformed percent-encoding, any method: 4xx problem+json',
      300,
      [fc.constantFrom(...METHODS), templates, fc.boolean()],
      async (method, { target, kind }, withSecrets) => {
        const pathOnly = target.split('?')[0]!;
        const realAdminPath =
          withSecrets &&
          kind === 'admin-one' &&
          realIds.some((id) => new RegExp(`^/admin/connections/${id}/?$`).test(pathOnly));
        // Deleting a real connection is its own property's business (it would end the others' connection).
        fc.pre(!(realAdminPath && method === 'DELETE'));
        const headers: RawHeader[] = [['Content-Type', 'application/json']];
        if (withSecrets && kind.startsWith('admin')) headers.push(['Authorization', `Bearer ${ADMIN_TOKEN}`]);
        if (withSecrets && kind === 'ashby')
          headers.push(['Authorization', `Bearer ${ctx.ashby.partnerSecret}`]);
        const req: RawRequest = {
          method,
          target,
          headers,
          body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.from('{}'),
        };
        const res = await sendCounted(ctx, `paths (${kind})`, req);
        if (res.status < 400) {
          // What may succeed: health, an OPTIONS answer, reading a real connection or patching it with an empty
          // patch (a no-op), listing Ashby packages.
          const okHealth = (method === 'GET' || method === 'HEAD') && /^\/healthz\/?$/i.test(pathOnly);
          const okAdmin =
            withSecrets &&
            (((method === 'GET' || method === 'HEAD') &&
              ['', ...realIds].some((id) => new RegExp(`^/admin/connections/${id}/?$`).test(pathOnly))) ||
              (method === 'PATCH' && realAdminPath));
          const okAshby =
            withSecrets &&
            method === 'POST' &&
            /^\/ashby\/[^/]+\/assessment\.list\/?$/.test(pathOnly) &&
            pathOnly.includes(ctx.ashby.id);
          check(method === 'OPTIONS' || okHealth || okAdmin || okAshby, `unexpected ${res.status}`, req, res);
        }
      },
    ),
    property(
      ctx,
      'headers',
      'oversized and malformed header bytes, odd methods and framing on every endpoint: 4xx problem+json',
      200,
      [
        fc.constantFrom(
          `/webhooks/lever/${ctx.certn.id}`,
          `/callbacks/certn/${ctx.certn.id}`,
          `/callbacks/victig/${ctx.victig.id}`,
          `/callbacks/justifacts/${ctx.ashby.id}`,
          `/ashby/${ctx.ashby.id}/assessment.start`,
          '/admin/connections',
          '/healthz',
        ),
        fc.constantFrom('POST', 'POST', 'GET', 'FOO', 'post', 'PROPFIND'),
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.constantFrom(
                'Content-Type',
                'Content-Encoding',
                'Authorization',
                'X-Signature',
                'X-Justifacts-Signature',
                'X-Victig-Signature',
                'Transfer-Encoding',
                'Accept-Charset',
                'X Bad Name',
                'Bad:Name',
                '',
              ),
              fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/),
            ),
            fc.oneof(
              printable(40).map((s): string | Buffer => s),
              fc.uint8Array({ maxLength: 40 }).map((b): string | Buffer => Buffer.from(b)),
              fc.constantFrom<string | Buffer>(
                'gzip',
                'br',
                'deflate',
                'identity',
                'x-unknown',
                'chunked',
                'gzip, chunked',
              ),
              fc.integer({ min: 8 * 1024, max: 40 * 1024 }).map((n): string | Buffer => 'a'.repeat(n)),
            ),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        fc.constantFrom(
          Buffer.from('{}'),
          Buffer.from('{"a":1}'),
          Buffer.alloc(0),
          Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
        ),
      ],
      async (target, method, extra, body) => {
        const headers: RawHeader[] = [['Authorization', `Bearer ${ADMIN_TOKEN}`], ...extra];
        const req: RawRequest = { method, target, headers, body };
        const res = await sendCounted(ctx, `headers (${target.split('/')[1]})`, req);
        if (res.status < 400) {
          check(
            target === '/healthz' || target === '/admin/connections',
            `unexpected ${res.status}`,
            req,
            res,
          );
        }
      },
    ),
  ];
}
