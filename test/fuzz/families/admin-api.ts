import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { ADMIN_TOKEN } from '../../support/stack';
import {
  bodyJson,
  check,
  EMP,
  expectRejected,
  type FuzzContext,
  type FuzzProperty,
  property,
  send,
  sendCounted,
} from '../harness';
import {
  ADMIN_BODY_LIMIT,
  authorizationArb,
  bodyArb,
  contentTypeArb,
  headerNoiseArb,
  printable,
} from '../generators';
import { byteDamageArb, damage, expressJson, mutate, mutationArb, serialize, toDoc } from '../json-doc';
import { adminAuthorized, isObject } from '../oracles';
import type { RawHeader, RawRequest } from '../raw-http';

/**
 * The fuzz properties of the admin API (/admin/connections): Authorization, bodies, merge patches, pause, resume
 * and DELETE.
 */

export function adminProperties(ctx: FuzzContext): FuzzProperty[] {
  const admin: RawHeader = ['Authorization', `Bearer ${ADMIN_TOKEN}`];
  const routes = [
    { method: 'GET', target: '/admin/connections', ok: 200 },
    { method: 'POST', target: '/admin/connections', ok: 400 },
    { method: 'GET', target: `/admin/connections/${ctx.certn.id}`, ok: 200 },
    { method: 'GET', target: '/admin/connections/conn_unknown', ok: 404 },
    { method: 'GET', target: `/admin/connections/${ctx.certn.id}/checks/${randomUUID()}`, ok: 404 },
    { method: 'DELETE', target: '/admin/connections/conn_unknown', ok: 404 },
    // An invalid query is refused before anything is deleted.
    { method: 'DELETE', target: `/admin/connections/${ctx.certn.id}?cancelRunning=maybe`, ok: 400 },
    // No body: not a merge patch.
    { method: 'PATCH', target: `/admin/connections/${ctx.certn.id}`, ok: 400 },
    { method: 'POST', target: '/admin/connections/conn_unknown/pause', ok: 404 },
    { method: 'POST', target: '/admin/connections/conn_unknown/resume', ok: 404 },
    { method: 'GET', target: `/admin/connections/${ctx.certn.id}/events`, ok: 200 },
    { method: 'GET', target: '/admin/nothing-here', ok: 404 },
  ];
  const validBodies = () => {
    const lever = ctx.stack.leverAccount();
    return [
      {
        name: ctx.unique('Fuzz Certn'),
        lever: { ...lever, triggerStageName: 'Background Check' },
        vendor: {
          type: 'certn',
          apiBaseUrl: ctx.stack.certn.apiBaseUrl,
          apiKey: ctx.unique('certn-key'),
          webhookSecret: ctx.unique('whsec'),
          packages: [
            { name: 'Basic', packageId: randomUUID(), default: true },
            { name: 'Executive Screening', packageId: randomUUID() },
          ],
        },
      },
      {
        name: ctx.unique('Fuzz VICTIG'),
        lever: { ...lever, triggerStageId: ctx.certn.triggerStageId },
        vendor: {
          type: 'victig',
          apiBaseUrl: ctx.stack.victig.apiBaseUrl,
          accountId: ctx.unique('acct'),
          apiKey: ctx.unique('victig-key'),
          callbackSecret: ctx.unique('victig-cb'),
          defaultProduct: 'Criminal Package 1',
          forwardTagPrefixes: ['Region: '],
        },
      },
      {
        name: ctx.unique('Fuzz Ashby'),
        ashby: { apiBaseUrl: ctx.stack.ashby.apiBaseUrl, apiKey: ctx.unique('ashby-key') },
        vendor: {
          type: 'justifacts',
          apiBaseUrl: ctx.stack.justifacts.apiBaseUrl,
          apiKey: ctx.unique('jf-key'),
          callbackSecret: ctx.unique('jf-cb'),
          packages: [EMP],
        },
      },
    ];
  };
  /** Changes an admin makes to a connection, as PATCH bodies (JSON merge patches). */
  const validPatches = () => [
    { name: ctx.unique('Renamed') },
    {
      vendor: {
        packages: ctx.lifecycle.packageIds.map((packageId, i) => ({
          name: `Package ${i}`,
          packageId,
          default: i === 1,
        })),
      },
    },
    { lever: { signatureToken: ctx.unique('sig') } },
    { vendor: { apiKey: ctx.unique('certn-key'), webhookSecret: ctx.unique('whsec') } },
    { lever: { triggerStageName: 'On-site interview' } },
    { lever: { triggerStageName: 'Background Check' } },
  ];
  const lifecycleVersion = async () =>
    (
      await ctx.stack.pool.query<{ version: number }>('SELECT version FROM connections WHERE id = $1', [
        ctx.lifecycle.id,
      ])
    ).rows[0]!.version;
  /** The secrets a connection body carries (where the contract puts them). */
  const secretsOf = (body: unknown): string[] => {
    if (!isObject(body)) return [];
    const found: unknown[] = [];
    for (const part of [body.lever, body.ashby, body.vendor]) {
      if (!isObject(part)) continue;
      for (const key of ['apiKey', 'signatureToken', 'webhookSecret', 'callbackSecret', 'partnerSecret']) {
        found.push(part[key]);
      }
    }
    return found.filter((s): s is string => typeof s === 'string' && s.length >= 8);
  };

  return [
    property(
      ctx,
      'admin API',
      'Authorization variants on every admin route: 401 + WWW-Authenticate unless the token is right',
      200,
      [fc.constantFrom(...routes), authorizationArb(ADMIN_TOKEN), contentTypeArb],
      async (route, authorization, contentType) => {
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...authorization,
        ];
        const req: RawRequest = {
          method: route.method,
          target: route.target,
          headers,
          body: route.method === 'POST' ? Buffer.from('{}') : undefined,
        };
        const res = await sendCounted(
          ctx,
          `${route.method} ${route.target.replace(/conn_\w+|[0-9a-f-]{36}/g, ':id')}`,
          req,
        );
        if (!adminAuthorized(headers, ADMIN_TOKEN)) {
          expectRejected(req, res, 401, 'no valid admin token');
          check(res.headers['www-authenticate'] === 'Bearer', 'WWW-Authenticate: Bearer on 401', req, res);
          return;
        }
        if (route.ok >= 400)
          return expectRejected(req, res, route.method === 'POST' ? undefined : route.ok, 'route');
        check(res.status === route.ok, `expected ${route.ok}`, req, res);
      },
    ),
    property(
      ctx,
      'POST /admin/connections',
      'random bodies and content types with the admin token: 4xx, no connection created',
      200,
      [
        bodyArb(ADMIN_BODY_LIMIT),
        contentTypeArb,
        headerNoiseArb.map((h) => h.filter(([n]) => !/^authorization$/i.test(n))),
      ],
      async (body, contentType, noise) => {
        const req: RawRequest = {
          method: 'POST',
          target: '/admin/connections',
          headers: [
            admin,
            ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
            ...noise,
          ],
          body,
        };
        const res = await sendCounted(ctx, 'POST /admin/connections', req);
        expectRejected(req, res, undefined, 'a random body is not a connection');
      },
    ),
    property(
      ctx,
      'POST /admin/connections',
      'mutated valid connections: 201 creates exactly one readable connection without secrets, else 4xx',
      120,
      [fc.nat({ max: 2 }), fc.array(mutationArb, { maxLength: 3 }), byteDamageArb],
      async (which, mutations, byteDamage) => {
        const base = validBodies()[which]!;
        const doc = toDoc(base);
        // Base URLs stay: another URL would make the service call out (a 502 is the right answer to that).
        for (const m of mutations) mutate(doc, m, ['apiBaseUrl']);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        // Damaged bytes can still drop a base URL (e.g. "apiBaseUrl" → "ApiBaseUrl"): the default is the real Lever.
        const parsed = expressJson(body);
        const lever = parsed.ok && isObject(parsed.value) ? parsed.value.lever : undefined;
        fc.pre(!isObject(lever) || lever.apiBaseUrl === ctx.stack.lever.apiBaseUrl);
        const req: RawRequest = {
          method: 'POST',
          target: '/admin/connections',
          headers: [admin, ['Content-Type', 'application/json']],
          body,
        };
        const res = await sendCounted(ctx, 'POST /admin/connections', req, () => ({
          connections: 1,
          connection_events: 1,
        }));
        if (res.status >= 400) return expectRejected(req, res, undefined, 'invalid connection');
        check(res.status === 201, 'a created connection answers 201', req, res);
        const created = bodyJson(res);
        check(isObject(created) && typeof created.id === 'string', 'the answer carries the id', req, res);
        const answerText = JSON.stringify(created);
        const leaked = secretsOf(JSON.parse(body.toString('utf8'))).filter((s) => answerText.includes(s));
        check(leaked.length === 0, `secrets in the answer: ${leaked.join(', ')}`, req, res);
        const read = await send(ctx, 'GET /admin/connections/:id', {
          method: 'GET',
          target: `/admin/connections/${created.id}`,
          headers: [admin],
        });
        check(read.status === 200, 'the created connection can be read', req, read);
      },
    ),
    property(
      ctx,
      'PATCH /admin/connections/:id',
      'mutated merge patches: 200 with at most one new version and event and no secret in the answer, else 4xx and nothing changed',
      120,
      [fc.nat({ max: validPatches().length - 1 }), fc.array(mutationArb, { maxLength: 3 }), byteDamageArb],
      async (which, mutations, byteDamage) => {
        const doc = toDoc(validPatches()[which]!);
        for (const m of mutations) mutate(doc, m, ['apiBaseUrl']);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        // Another base URL would make the service call out (a 502 is the right answer to that).
        const parsed = expressJson(body);
        const lever = parsed.ok && isObject(parsed.value) ? parsed.value.lever : undefined;
        fc.pre(!isObject(lever) || !('apiBaseUrl' in lever));
        const before = await lifecycleVersion();
        const req: RawRequest = {
          method: 'PATCH',
          target: `/admin/connections/${ctx.lifecycle.id}`,
          headers: [admin, ['Content-Type', 'application/merge-patch+json']],
          body,
        };
        const res = await sendCounted(ctx, 'PATCH /admin/connections/:id', req, (r) => {
          const answer = bodyJson(r);
          const version = isObject(answer) && typeof answer.version === 'number' ? answer.version : before;
          return { connection_events: version - before };
        });
        const after = await lifecycleVersion();
        if (res.status >= 400) {
          expectRejected(req, res, undefined, 'an invalid change');
          return check(after === before, 'a refused change left the connection as it was', req, res);
        }
        check(res.status === 200, 'a change answers 200', req, res);
        check(after === before || after === before + 1, `version ${before} → ${after}`, req, res);
        const leaked = secretsOf(parsed.ok ? parsed.value : undefined).filter((x) =>
          res.body.toString('utf8').includes(x),
        );
        check(leaked.length === 0, `secrets in the answer: ${leaked.join(', ')}`, req, res);
      },
    ),
    property(
      ctx,
      'POST /admin/connections/:id/pause|resume, DELETE',
      'pause and resume with any body: 200 and one event per real change, or 4xx; DELETE with a bad query deletes nothing',
      120,
      [
        fc.constantFrom('pause', 'resume', 'delete'),
        bodyArb(1024),
        contentTypeArb,
        fc.oneof(
          printable(30),
          fc.constantFrom('cancelRunning=maybe', 'cancelRunning=', 'x=1', 'cancelRunning=TRUE'),
        ),
      ],
      async (action, body, contentType, query) => {
        const state = async () =>
          (
            await ctx.stack.pool.query<{ paused: boolean; deleted: boolean }>(
              'SELECT paused_at IS NOT NULL AS paused, deleted_at IS NOT NULL AS deleted FROM connections WHERE id = $1',
              [ctx.lifecycle.id],
            )
          ).rows[0]!;
        const before = await state();
        const target =
          action === 'delete'
            ? `/admin/connections/${ctx.lifecycle.id}?${query}`
            : `/admin/connections/${ctx.lifecycle.id}/${action}`;
        // Only invalid queries: a valid DELETE would end the connection the other runs use.
        fc.pre(action !== 'delete' || !/^(cancelRunning=(true|false))?$/.test(query));
        const req: RawRequest = {
          method: action === 'delete' ? 'DELETE' : 'POST',
          target,
          headers: [
            admin,
            ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ],
          body,
        };
        const changes = action !== 'delete' && before.paused !== (action === 'pause') ? 1 : 0;
        const res = await sendCounted(ctx, `${req.method} /admin/connections/:id/${action}`, req, () => ({
          connection_events: changes,
        }));
        const after = await state();
        check(!after.deleted, 'the connection was not deleted', req, res);
        if (res.status >= 400) {
          expectRejected(req, res, undefined, 'refused');
          return check(after.paused === before.paused, 'a refused request changed nothing', req, res);
        }
        check(action !== 'delete', 'a DELETE with a bad query is refused', req, res);
        check(after.paused === (action === 'pause'), `the connection is ${action}d`, req, res);
      },
    ),
  ];
}
