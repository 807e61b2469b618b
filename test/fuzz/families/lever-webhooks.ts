import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  addWorkflow,
  bodyJson,
  check,
  expectRejected,
  type FuzzContext,
  type FuzzProperty,
  type LeverTarget,
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
  WEBHOOK_BODY_LIMIT,
} from '../generators';
import {
  byteDamageArb,
  damage,
  type DocNode,
  mutate,
  mutationArb,
  removeTop,
  serialize,
  setTop,
  toDoc,
} from '../json-doc';
import { expectLever, hmacHex, isObject } from '../oracles';
import type { RawHeader, RawRequest } from '../raw-http';

/**
 * The fuzz properties of the Lever webhooks (POST /webhooks/lever/:connectionId): random and mutated signed
 * deliveries.
 */

type LeverBaseKind = 'trigger' | 'other-stage' | 'verify' | 'other-event' | 'hired';
type SignaturePlan =
  | 'keep'
  | 'resign'
  | 'resign-upper'
  | 'flip'
  | 'truncate'
  | 'append'
  | 'wrong-key'
  | 'drop'
  | 'non-hex'
  | 'number'
  | 'null';
const signaturePlanArb: fc.Arbitrary<{ plan: SignaturePlan; at: number }> = fc.record({
  plan: fc.oneof(
    { weight: 6, arbitrary: fc.constant<SignaturePlan>('resign') },
    { weight: 3, arbitrary: fc.constant<SignaturePlan>('keep') },
    {
      weight: 4,
      arbitrary: fc.constantFrom<SignaturePlan>(
        'resign-upper',
        'flip',
        'truncate',
        'append',
        'wrong-key',
        'drop',
        'non-hex',
        'number',
        'null',
      ),
    },
  ),
  at: fc.nat({ max: 63 }),
});

function leverBase(ctx: FuzzContext, target: LeverTarget, kind: LeverBaseKind) {
  const token = ctx.unique('tok');
  const triggeredAt = Date.now();
  const opportunityId = randomUUID();
  const data: Record<string, unknown> =
    kind === 'verify'
      ? {}
      : kind === 'hired'
        ? { opportunityId, candidateId: opportunityId, contactId: randomUUID() }
        : {
            opportunityId,
            candidateId: opportunityId,
            contactId: randomUUID(),
            fromStageId: ctx.stack.lever.stageIdByName('Phone screen'),
            toStageId:
              kind === 'other-stage' ? ctx.stack.lever.stageIdByName('Phone screen') : target.triggerStageId,
          };
  return {
    id: randomUUID(),
    event:
      kind === 'hired'
        ? 'candidateHired'
        : kind === 'other-event'
          ? 'candidateArchiveChange'
          : 'candidateStageChange',
    triggeredAt,
    token,
    signature: hmacHex(target.signatureToken, token + String(triggeredAt)),
    data,
  };
}

function applySignaturePlan(doc: DocNode, plan: { plan: SignaturePlan; at: number }, key: string): void {
  const parsed = JSON.parse(serialize(doc)) as unknown;
  const token = isObject(parsed) ? parsed.token : undefined;
  const triggeredAt = isObject(parsed) ? parsed.triggeredAt : undefined;
  const right =
    typeof token === 'string' && typeof triggeredAt === 'number'
      ? hmacHex(key, token + String(triggeredAt))
      : hmacHex(key, 'nothing to sign');
  const current = isObject(parsed) && typeof parsed.signature === 'string' ? parsed.signature : right;
  const set = (value: unknown) => setTop(doc, 'signature', { kind: 'raw', text: JSON.stringify(value) });
  switch (plan.plan) {
    case 'keep':
      return;
    case 'resign':
      return set(right);
    case 'resign-upper':
      return set(right.toUpperCase());
    case 'flip':
      return set(flip(current, plan.at));
    case 'truncate':
      return set(current.slice(0, plan.at));
    case 'append':
      return set(`${current}0`);
    case 'wrong-key':
      return set(hmacHex(`${key}x`, typeof token === 'string' ? token + String(triggeredAt) : ''));
    case 'drop':
      return removeTop(doc, 'signature');
    case 'non-hex':
      return set(`${current.slice(0, plan.at)}g${current.slice(plan.at + 1)}`);
    case 'number':
      return set(Number.parseInt(current.slice(0, 12), 16));
    case 'null':
      return set(null);
  }
}

/** Changes to a signed field after signing (with the signature kept, the delivery must be refused). */
type Tamper =
  'none' | 'token-suffix' | 'token-case' | 'triggeredAt+1' | 'triggeredAt-string' | 'triggeredAt-float';
const tamperArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Tamper>('none') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Tamper>(
      'token-suffix',
      'token-case',
      'triggeredAt+1',
      'triggeredAt-string',
      'triggeredAt-float',
    ),
  },
);

function tamper(doc: DocNode, how: Tamper): void {
  const parsed = JSON.parse(serialize(doc)) as unknown;
  if (!isObject(parsed) || how === 'none') return;
  const { token, triggeredAt } = parsed;
  const set = (key: string, value: unknown) => setTop(doc, key, { kind: 'raw', text: JSON.stringify(value) });
  if (typeof token === 'string' && how === 'token-suffix') set('token', `${token}x`);
  if (typeof token === 'string' && how === 'token-case') set('token', token.toUpperCase());
  if (typeof triggeredAt === 'number' && how === 'triggeredAt+1') set('triggeredAt', triggeredAt + 1);
  if (typeof triggeredAt === 'number' && how === 'triggeredAt-string')
    set('triggeredAt', String(triggeredAt));
  if (typeof triggeredAt === 'number' && how === 'triggeredAt-float') set('triggeredAt', triggeredAt + 0.5);
}

export function leverProperties(ctx: FuzzContext): FuzzProperty[] {
  const targets = [ctx.certn, ctx.victig];
  const webhookPath = (id: string) => `/webhooks/lever/${id}`;
  return [
    property(
      ctx,
      'POST /webhooks/lever/:connectionId',
      'random bodies, content types and headers: 4xx problem+json, nothing recorded',
      250,
      [
        fc.constantFrom(ctx.certn.id, ctx.victig.id, ctx.ashby.id, 'conn_unknown'),
        bodyArb(WEBHOOK_BODY_LIMIT),
        contentTypeArb,
        headerNoiseArb,
      ],
      async (id, body, contentType, noise) => {
        const req: RawRequest = {
          method: 'POST',
          target: webhookPath(id),
          headers: [
            ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
            ...noise,
          ],
          body,
        };
        const res = await sendCounted(ctx, 'POST /webhooks/lever/:connectionId', req);
        expectRejected(req, res, undefined, 'a random body is never a signed delivery');
      },
    ),
    property(
      ctx,
      'POST /webhooks/lever/:connectionId',
      'mutated signed deliveries: valid ones recorded once and answered as the contract says, the rest 4xx (signed ones recorded as refused)',
      300,
      [
        fc.constantFrom(...targets),
        fc.constantFrom<LeverBaseKind>('trigger', 'other-stage', 'verify', 'other-event', 'hired'),
        fc.array(mutationArb, { maxLength: 3 }),
        signaturePlanArb,
        tamperArb,
        byteDamageArb,
        jsonLikeContentType,
        fc.boolean(),
      ],
      async (target, kind, mutations, signaturePlan, tampering, byteDamage, contentType, redeliver) => {
        const doc = toDoc(leverBase(ctx, target, kind));
        for (const m of mutations) mutate(doc, m, ['signature']);
        applySignaturePlan(doc, signaturePlan, target.signatureToken);
        tamper(doc, tampering);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        const req: RawRequest = {
          method: 'POST',
          target: webhookPath(target.id),
          headers: contentType === undefined ? [] : [['Content-Type', contentType]],
          body,
        };
        const verdict: ReturnType<typeof expectLever> =
          body.length > WEBHOOK_BODY_LIMIT
            ? { accept: false, status: 413, why: 'body over the limit' }
            : expectLever(body, target);
        const token = verdict.accept ? verdict.value.token : verdict.recordedToken;
        const seenKey = token === undefined ? '' : `${target.id}/lever/${stored(token)}`;
        const duplicate = token !== undefined && ctx.seen.has(seenKey);
        // A signed delivery that is refused is recorded all the same (its token is used up), once.
        const res = await sendCounted(
          ctx,
          'POST /webhooks/lever/:connectionId',
          req,
          () => (duplicate ? {} : { webhook_inbox: 1 }),
          token === undefined || duplicate ? {} : { webhook_inbox: 1 },
        );
        if (!verdict.accept) {
          expectRejected(req, res, verdict.status, verdict.why);
          if (token === undefined) return;
          if (!duplicate) {
            ctx.seen.add(seenKey);
            ctx.refusedTokens.add(seenKey);
            const row = await ctx.stack.pool.query<{ outcome: string; processed: boolean }>(
              `SELECT outcome, processed_at IS NOT NULL AS processed FROM webhook_inbox
               WHERE connection_id = $1 AND source = 'lever' AND token = $2`,
              [target.id, token],
            );
            check(
              row.rows.length === 1 && row.rows[0]!.outcome.startsWith('refused-') && row.rows[0]!.processed,
              `the inbox row must say refused-…: ${JSON.stringify(row.rows)}`,
              req,
              res,
            );
          }
          if (redeliver) {
            const again = await sendCounted(ctx, 'POST /webhooks/lever/:connectionId', req);
            expectRejected(req, again, verdict.status, `${verdict.why}, delivered again`);
          }
          return;
        }
        if (duplicate && ctx.refusedTokens.has(seenKey)) {
          return expectRejected(req, res, 409, 'the token was used up by a refused delivery');
        }
        const answer = bodyJson(res);
        check(isObject(answer) && answer.accepted === true, 'a valid delivery must be accepted', req, res);
        ctx.seen.add(seenKey);
        if (duplicate) {
          check(res.status === 200 && answer.duplicate === true, 'a repeated token is a duplicate', req, res);
          return;
        }
        const outcome = String(answer.outcome);
        check(
          res.status === verdict.value.status && verdict.value.outcomes.includes(outcome),
          `expected ${verdict.value.status} ${verdict.value.outcomes.join('|')}`,
          req,
          res,
        );
        const readRow = () =>
          ctx.stack.pool.query<{ outcome: string; processed: boolean }>(
            `SELECT outcome, processed_at IS NOT NULL AS processed FROM webhook_inbox
             WHERE connection_id = $1 AND source = 'lever' AND token = $2`,
            [target.id, verdict.value.token],
          );
        let row = await readRow();
        const expected = verdict.value.startOutcomes ?? [outcome];
        // A queued trigger's start follows the answer: its row says how it ended once it is processed.
        for (let waited = 0; verdict.value.startOutcomes && !row.rows[0]?.processed && waited < 15_000;) {
          await new Promise((resolve) => setTimeout(resolve, 25));
          waited += 25;
          row = await readRow();
        }
        check(
          row.rows.length === 1 && expected.includes(row.rows[0]!.outcome) && row.rows[0]!.processed,
          `the inbox row must say ${expected.join('|')}: ${JSON.stringify(row.rows)}`,
          req,
          res,
        );
        if (row.rows[0]?.outcome === 'started') addWorkflow(ctx, target.id);
        if (redeliver) {
          const again = await sendCounted(ctx, 'POST /webhooks/lever/:connectionId', req);
          const againBody = bodyJson(again);
          check(
            again.status === 200 && isObject(againBody) && againBody.duplicate === true,
            'a redelivery (same token) is answered 200 duplicate and starts nothing',
            req,
            again,
          );
        }
      },
    ),
  ];
}
