import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  bodyJson,
  check,
  expectRejected,
  type FuzzContext,
  type FuzzProperty,
  property,
  sendCounted,
  stored,
} from '../harness';
import {
  bodyArb,
  contentTypeArb,
  flip,
  headerNoiseArb,
  jsonLikeContentType,
  printable,
  WEBHOOK_BODY_LIMIT,
} from '../generators';
import { byteDamageArb, damage, mutate, mutationArb, serialize, toDoc } from '../json-doc';
import {
  type CallbackVendor,
  expectCallback,
  hmacHex,
  isObject,
  SIGNATURE_HEADER,
  signCallback,
} from '../oracles';
import type { RawHeader, RawRequest } from '../raw-http';

/**
 * The fuzz properties of the vendor callbacks (POST /callbacks/:vendor/:connectionId): random and mutated signed
 * callbacks.
 */

type CallbackSignaturePlan =
  | 'resign'
  | 'keep'
  | 'upper'
  | 'padded'
  | 'flip'
  | 'wrong-secret'
  | 'drop'
  | 'twice'
  | 'other-header'
  | 'prefix-toggle'
  | 'empty';
const callbackSignaturePlanArb = fc.record({
  plan: fc.oneof(
    { weight: 6, arbitrary: fc.constant<CallbackSignaturePlan>('resign') },
    { weight: 2, arbitrary: fc.constant<CallbackSignaturePlan>('keep') },
    {
      weight: 5,
      arbitrary: fc.constantFrom<CallbackSignaturePlan>(
        'upper',
        'padded',
        'flip',
        'wrong-secret',
        'drop',
        'twice',
        'other-header',
        'prefix-toggle',
        'empty',
      ),
    },
  ),
  at: fc.nat({ max: 63 }),
});

function callbackBase(ctx: FuzzContext, vendor: CallbackVendor): Record<string, unknown> {
  const occurredAt = new Date().toISOString();
  if (vendor === 'certn') {
    return {
      id: ctx.unique('evt'),
      event_type: 'CASE_STATUS_CHANGED',
      object_id: randomUUID(),
      object_type: 'CASE',
    };
  }
  return {
    eventId: ctx.unique('evt'),
    orderId: `${vendor === 'victig' ? 'VG' : 'JF'}-${randomUUID().slice(0, 12).toUpperCase()}`,
    status: vendor === 'victig' ? 'IN_PROGRESS' : 'APPLICANT_STARTED',
    occurredAt,
  };
}

function callbackHeaders(
  vendor: CallbackVendor,
  secret: string,
  original: Buffer,
  body: Buffer,
  plan: { plan: CallbackSignaturePlan; at: number },
): RawHeader[] {
  const name = SIGNATURE_HEADER[vendor];
  const right = signCallback(vendor, secret, body);
  switch (plan.plan) {
    case 'resign':
      return [[name, right]];
    case 'keep':
      return [[name, signCallback(vendor, secret, original)]];
    case 'upper':
      return [
        [
          name,
          vendor === 'justifacts' ? `sha256=${hmacHex(secret, body).toUpperCase()}` : right.toUpperCase(),
        ],
      ];
    case 'padded':
      return [[name, ` \t${right}\t `]];
    case 'flip':
      return [[name, flip(right, plan.at + (vendor === 'justifacts' ? 7 : 0))]];
    case 'wrong-secret':
      return [[name, signCallback(vendor, `${secret}x`, body)]];
    case 'drop':
      return [];
    case 'twice':
      return [
        [name, right],
        [name, right],
      ];
    case 'other-header':
      return [[vendor === 'certn' ? 'X-Victig-Signature' : 'X-Signature', right]];
    case 'prefix-toggle':
      return [[name, vendor === 'justifacts' ? hmacHex(secret, body) : `sha256=${right}`]];
    case 'empty':
      return [[name, '']];
  }
}

export function callbackProperties(ctx: FuzzContext): FuzzProperty[] {
  const targets: { vendor: CallbackVendor; id: string; secret: string }[] = [
    { vendor: 'certn', id: ctx.certn.id, secret: ctx.certn.callbackSecret },
    { vendor: 'victig', id: ctx.victig.id, secret: ctx.victig.callbackSecret },
    { vendor: 'justifacts', id: ctx.ashby.id, secret: ctx.ashby.callbackSecret },
  ];
  const endpoint = 'POST /callbacks/:vendor/:connectionId';
  return [
    property(
      ctx,
      endpoint,
      'random bodies and signature headers: 4xx problem+json, nothing recorded',
      250,
      [
        fc.constantFrom(...targets),
        bodyArb(WEBHOOK_BODY_LIMIT),
        contentTypeArb,
        headerNoiseArb,
        fc.oneof(
          fc.constant(undefined),
          fc.stringMatching(/^[0-9a-fA-F]{64}$/),
          fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256=${h}`),
          printable(80),
        ),
      ],
      async (target, body, contentType, noise, signature) => {
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...(signature === undefined ? [] : [[SIGNATURE_HEADER[target.vendor], signature] as RawHeader]),
          ...noise,
        ];
        const req: RawRequest = {
          method: 'POST',
          target: `/callbacks/${target.vendor}/${target.id}`,
          headers,
          body,
        };
        const res = await sendCounted(ctx, endpoint, req);
        expectRejected(req, res, undefined, 'a random body is never signed');
      },
    ),
    property(
      ctx,
      endpoint,
      'mutated signed callbacks: valid ones recorded once (200), the rest 4xx and nothing recorded',
      300,
      [
        fc.constantFrom(...targets),
        fc.array(mutationArb, { maxLength: 3 }),
        byteDamageArb,
        callbackSignaturePlanArb,
        jsonLikeContentType,
        fc.boolean(),
      ],
      async (target, mutations, byteDamage, plan, contentType, redeliver) => {
        const original = Buffer.from(JSON.stringify(callbackBase(ctx, target.vendor)));
        const doc = toDoc(JSON.parse(original.toString()));
        for (const m of mutations) mutate(doc, m);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...callbackHeaders(target.vendor, target.secret, original, body, plan),
        ];
        const req: RawRequest = {
          method: 'POST',
          target: `/callbacks/${target.vendor}/${target.id}`,
          headers,
          body,
        };
        const verdict: ReturnType<typeof expectCallback> =
          body.length > WEBHOOK_BODY_LIMIT
            ? { accept: false, status: 413, why: 'body over the limit' }
            : expectCallback(target.vendor, target.secret, body, headers);
        const seenKey = verdict.accept
          ? `${target.id}/${target.vendor}/${stored(verdict.value.eventId)}`
          : '';
        const duplicate = verdict.accept && ctx.seen.has(seenKey);
        const res = await sendCounted(ctx, endpoint, req, () => (duplicate ? {} : { vendor_callbacks: 1 }));
        if (!verdict.accept) return expectRejected(req, res, verdict.status, verdict.why);
        const answer = bodyJson(res);
        check(
          res.status === 200 && isObject(answer) && answer.accepted === true,
          'valid callback: 200',
          req,
          res,
        );
        ctx.seen.add(seenKey);
        if (duplicate)
          return check(answer.duplicate === true, 'a repeated event id is a duplicate', req, res);
        check(answer.outcome === 'unknown-order', 'no check ordered this case: unknown-order', req, res);
        if (redeliver) {
          const again = await sendCounted(ctx, endpoint, req);
          const againBody = bodyJson(again);
          check(
            again.status === 200 && isObject(againBody) && againBody.duplicate === true,
            'a redelivered event is answered 200 duplicate',
            req,
            again,
          );
        }
      },
    ),
  ];
}
