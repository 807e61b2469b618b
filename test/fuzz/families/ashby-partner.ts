import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  addWorkflow,
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
  ASHBY_BODY_LIMIT,
  authorizationArb,
  bodyArb,
  contentTypeArb,
  jsonLikeContentType,
} from '../generators';
import { byteDamageArb, damage, expressJson, mutate, mutationArb, serialize, toDoc } from '../json-doc';
import { ashbyAuthorized, expectAshbyCancel, expectAshbyStart, isObject } from '../oracles';
import type { RawHeader, RawRequest } from '../raw-http';

/** The fuzz properties of the Ashby partner API (assessment.list / start / cancel). */

type AshbyMethod = 'assessment.list' | 'assessment.start' | 'assessment.cancel';

export function ashbyProperties(ctx: FuzzContext): FuzzProperty[] {
  const { ashby } = ctx;
  const endpointOf = (method: AshbyMethod) => `POST /ashby/:connectionId/${method}`;
  const bearer: RawHeader[] = [['Authorization', `Bearer ${ashby.partnerSecret}`]];
  return [
    property(
      ctx,
      'POST /ashby/:connectionId/assessment.*',
      'random bodies, content types and Authorization headers: list may answer 200, nothing recorded',
      250,
      [
        fc.constantFrom<AshbyMethod>('assessment.list', 'assessment.start', 'assessment.cancel'),
        fc.constantFrom(ashby.id, ctx.certn.id, 'conn_unknown'),
        bodyArb(ASHBY_BODY_LIMIT),
        contentTypeArb,
        authorizationArb(ashby.partnerSecret),
      ],
      async (method, id, body, contentType, authorization) => {
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...authorization,
        ];
        const req: RawRequest = { method: 'POST', target: `/ashby/${id}/${method}`, headers, body };
        const res = await sendCounted(ctx, endpointOf(method), req);
        const authorized = id === ashby.id && ashbyAuthorized(headers, ashby.partnerSecret);
        const parsed = expressJson(body);
        if (res.status < 300) {
          check(
            method === 'assessment.list' && authorized && parsed.ok && body.length <= ASHBY_BODY_LIMIT,
            'only an authorized assessment.list with a JSON body may succeed on random input',
            req,
            res,
          );
          const answer = bodyJson(res);
          check(
            isObject(answer) && Array.isArray(answer.results),
            'assessment.list lists packages',
            req,
            res,
          );
          return;
        }
        if (body.length > ASHBY_BODY_LIMIT) return expectRejected(req, res, undefined, 'body over the limit');
        if (!parsed.ok) return expectRejected(req, res, undefined, 'not JSON');
        if (!authorized) return expectRejected(req, res, undefined, 'not authorized');
        expectRejected(req, res, undefined, 'random input');
      },
    ),
    property(
      ctx,
      'POST /ashby/:connectionId/assessment.*',
      'mutated assessment.start and assessment.cancel: valid starts start one check, the rest 4xx',
      250,
      [
        fc.constantFrom<AshbyMethod>('assessment.start', 'assessment.start', 'assessment.cancel'),
        fc.constantFrom(...ashby.packageIds, 'x'),
        fc.array(mutationArb, { maxLength: 3 }),
        byteDamageArb,
        fc.oneof(
          { weight: 5, arbitrary: fc.constant(bearer) },
          { weight: 1, arbitrary: authorizationArb(ashby.partnerSecret) },
        ),
        jsonLikeContentType,
        fc.boolean(),
      ],
      async (method, typeId, mutations, byteDamage, authorization, contentType, again) => {
        const known = [...ctx.assessments];
        const base =
          method === 'assessment.start'
            ? {
                assessment_type_id: typeId,
                candidate: {
                  ashby_id: randomUUID(),
                  first_name: 'Grace',
                  last_name: 'Hopper',
                  email: `grace-${randomUUID().slice(0, 8)}@example.com`,
                  ashby_profile_url: 'https://app.ashbyhq.com/candidates/x',
                },
                application: { ashby_id: randomUUID(), status: 'Active' },
                job: { ashby_id: randomUUID(), name: 'Compiler Engineer' },
              }
            : { assessment_id: known.length > 0 ? known[known.length - 1] : 'asm_unknown' };
        const doc = toDoc(base);
        for (const m of mutations) mutate(doc, m);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...authorization,
        ];
        const req: RawRequest = { method: 'POST', target: `/ashby/${ashby.id}/${method}`, headers, body };
        const parsed = expressJson(body);
        const authorized = ashbyAuthorized(headers, ashby.partnerSecret);
        if (body.length > ASHBY_BODY_LIMIT || !parsed.ok || !authorized) {
          const res = await sendCounted(ctx, endpointOf(method), req);
          const [status, why] =
            body.length > ASHBY_BODY_LIMIT
              ? [413, 'body over the limit']
              : parsed.ok
                ? [401, 'not authorized']
                : [400, 'not JSON'];
          return expectRejected(req, res, status, why);
        }
        if (method === 'assessment.cancel') {
          const verdict = expectAshbyCancel(parsed.value, ctx.assessments);
          const res = await sendCounted(ctx, endpointOf(method), req);
          if (!verdict.accept) return expectRejected(req, res, verdict.status, verdict.why);
          const answer = bodyJson(res);
          check(res.status === 200 && isObject(answer) && answer.success === true, 'cancel: 200', req, res);
          return;
        }
        const verdict = expectAshbyStart(parsed.value, ashby.packageIds);
        const key = verdict.accept
          ? `${stored(verdict.value.candidateAshbyId)}/${verdict.value.assessmentTypeId}`
          : '';
        const maybeRunning = verdict.accept && ctx.assessmentKeys.has(key);
        // An accepted start is recorded with its start in the inbox (one row each).
        const res = await sendCounted(ctx, endpointOf(method), req, () => ({
          ashby_assessments: 1,
          webhook_inbox: 1,
        }));
        if (!verdict.accept) return expectRejected(req, res, verdict.status, verdict.why);
        if (res.status === 409) {
          return check(maybeRunning, '409 only while the same candidate and package run', req, res);
        }
        const answer = bodyJson(res);
        check(
          res.status === 200 &&
            isObject(answer) &&
            answer.success === true &&
            isObject(answer.results) &&
            typeof answer.results.assessment_id === 'string',
          'a valid start answers 200 with the assessment id',
          req,
          res,
        );
        const assessmentId = answer.results.assessment_id;
        ctx.assessments.add(assessmentId);
        ctx.assessmentKeys.add(key);
        addWorkflow(ctx, ashby.id);
        if (again) {
          // The same candidate and package again: 409 while the check runs (it may already have ended, e.g.
          // when the vendor refused a mutated email; then it is a new assessment).
          const second = await sendCounted(ctx, endpointOf(method), req, () => ({
            ashby_assessments: 1,
            webhook_inbox: 1,
          }));
          check(
            second.status === 409 || second.status === 200,
            'a repeated start: 409, or 200 once ended',
            req,
            second,
          );
          if (second.status === 200) addWorkflow(ctx, ashby.id);
        }
      },
    ),
  ];
}
