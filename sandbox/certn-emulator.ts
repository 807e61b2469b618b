import { randomUUID } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { certnSignature, hexSignatureMatches, hmacSha256Hex } from '../src/integrations/signature';
import {
  baseUrlOf,
  bodyParser,
  canonicalJson,
  clone,
  emulatorApp,
  errorHandler,
  now,
  param,
  startEmulator,
} from './kit';
import type { Running } from './kit';
import { CallbackEmulator, callbackControlRoutes, type CallbackEmulatorOptions } from './vendor-emulator';
import type { DeliveryAttempt, DeliveryRecord } from './webhook-sender';

/**
 * Emulator of Certn's public API (CertnCentric): API-key teams, case ordering (by check types or by
 * package, with Idempotency-Key), case progress driven by hand (`advance`/`setStatus`) or by a timer,
 * signed webhooks with retries, report generation and signed PDF downloads. A real HTTP server, so the
 * adapter under test talks to it exactly as it would to Certn. Control endpoints live under `/_sandbox/*`.
 */

export const CERTN_CASE_STATUSES = [
  'CASE_ORDERED',
  'APPLICANT_INVITED',
  'APPLICANT_OPENED',
  'APPLICANT_STARTED',
  'APPLICANT_SUBMITTED',
  'IN_PROGRESS',
  'IN_DISPUTE',
  'APPLICANT_ACTION_REQUIRED',
  'CLIENT_ACTION_REQUIRED',
  'INVITE_UNDELIVERABLE',
  'APPLICANT_EXPIRED',
  'CANCELLED',
  'COMPLETE',
] as const;
export type CertnCaseStatus = (typeof CERTN_CASE_STATUSES)[number];

export const CERTN_CHECK_TYPES = [
  'IDENTITY_VERIFICATION',
  'CRIMINAL_RECORD_CHECK',
  'ENHANCED_CRIMINAL_RECORD_CHECK',
  'EMPLOYMENT_VERIFICATION',
  'EDUCATION_VERIFICATION',
  'CREDENTIAL_VERIFICATION',
  'CREDIT_CHECK',
  'MOTOR_VEHICLE_RECORDS',
  'REFERENCE_CHECK',
  'SOCIAL_MEDIA_CHECK',
  'SEX_OFFENDER_CHECK',
] as const;
export type CertnCheckType = (typeof CERTN_CHECK_TYPES)[number];

export type CertnCheckExecutionStatus = 'PENDING' | 'IN_PROGRESS' | 'COMPLETE' | 'CANCELLED';
export type CertnScore = 'CLEAR' | 'REVIEW';
export type CertnWebhookEventType = 'CASE_STATUS_CHANGED' | 'CHECK_STATUS_CHANGED' | 'CASE_REPORT_READY';

export interface CertnCheckExecution {
  id: string;
  check_type: string;
  status: CertnCheckExecutionStatus;
  result: null | 'CLEAR';
}

/** A case as the public API returns it. */
export interface CertnCase {
  id: string;
  created: string;
  modified: string;
  email_address: string;
  overall_status: CertnCaseStatus;
  overall_score: null | CertnScore;
  package_id: string | null;
  external_reference: string | null;
  check_executions: CertnCheckExecution[];
  report_ready: boolean;
}

export interface CertnPackage {
  id: string;
  name: string;
  check_types: string[];
}

export interface CertnEmulatorOptions extends CallbackEmulatorOptions {
  /** How long a signed pdf_url works (ms). Default one hour, as Certn's. */
  reportUrlTtlMs?: number;
  port?: number;
}

export interface AddTeamInput {
  apiKey: string;
  webhookUrl?: string;
  webhookSecret?: string;
  packages?: { id?: string; name: string; check_types: string[] }[];
}

export interface CertnOrderRecord {
  id: string;
  at: string;
  apiKey: string;
  endpoint: 'order' | 'order-package';
  idempotencyKey: string | null;
  body: unknown;
  caseId: string;
  replayed: boolean;
}

export interface CertnInviteRecord {
  caseId: string;
  email: string;
  at: string;
  undeliverable: boolean;
}

export interface CertnWebhookEvent {
  id: string;
  event_type: CertnWebhookEventType;
  object_id: string;
  object_type: 'CASE';
}

export type CertnDeliveryAttempt = DeliveryAttempt;

export interface CertnDelivery extends DeliveryRecord {
  caseId: string;
  event: CertnWebhookEvent;
  /** Sent as X-Signature; null when the team has no webhook secret (no header). */
  signature: string | null;
}

export interface CertnReportFileRecord {
  id: string;
  case_id: string;
  file_name: string;
  created: string;
}

/** An error with the HTTP status the control endpoints answer with. */
export class CertnEmulatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'CertnEmulatorError';
  }
}

interface Team {
  apiKey: string;
  webhookUrl: string | null;
  webhookSecret: string | null;
  packages: CertnPackage[];
  revoked: boolean;
}

interface CaseEntry {
  apiKey: string;
  data: CertnCase;
}

interface ReportFileEntry extends CertnReportFileRecord {
  apiKey: string;
  lines: string[];
}

const DEFAULT_PACKAGES: { name: string; check_types: CertnCheckType[] }[] = [
  { name: 'Basic', check_types: ['IDENTITY_VERIFICATION', 'CRIMINAL_RECORD_CHECK'] },
  {
    name: 'Standard',
    check_types: ['IDENTITY_VERIFICATION', 'CRIMINAL_RECORD_CHECK', 'EMPLOYMENT_VERIFICATION'],
  },
];

const DEFAULT_REPORT_URL_TTL_MS = 60 * 60 * 1000;
const UNDELIVERABLE_DOMAIN = '@undeliverable.test';

function isCheckType(value: string): value is CertnCheckType {
  return (CERTN_CHECK_TYPES as readonly string[]).includes(value);
}

function isCaseStatus(value: unknown): value is CertnCaseStatus {
  return typeof value === 'string' && (CERTN_CASE_STATUSES as readonly string[]).includes(value);
}

/** JSON with object keys sorted, so two bodies that differ only in key order compare equal. */
// ---------------------------------------------------------------------------------------------------
// Request bodies

const required =
  (invalid: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'This field is required.' : invalid;

const optionalText = (max: number) =>
  z
    .string({ error: 'Not a valid string.' })
    .max(max, { error: `Ensure this field has no more than ${max} characters.` })
    .nullable()
    .optional();

const checkTypesWithArgumentsSchema = z
  .record(z.string(), z.record(z.string(), z.unknown(), { error: 'Expected a dictionary of arguments.' }), {
    error: required('Expected a dictionary of check types.'),
  })
  .superRefine((value, ctx) => {
    const keys = Object.keys(value);
    if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'At least one check type is required.' });
    for (const key of keys) {
      if (!isCheckType(key)) ctx.addIssue({ code: 'custom', message: `"${key}" is not a valid check type.` });
    }
  });

const commonOrderFields = {
  email_address: z.email({ error: required('Enter a valid email address.') }),
  send_invite_email: z.boolean({ error: 'Must be a valid boolean.' }).optional(),
  first_name: optionalText(255),
  last_name: optionalText(255),
  external_reference: optionalText(255),
};

const orderSchema = z.object({
  ...commonOrderFields,
  check_types_with_arguments: checkTypesWithArgumentsSchema,
});
const orderPackageSchema = z.object({
  ...commonOrderFields,
  package_id: z
    .string({ error: required('Must be a valid UUID.') })
    .min(1, { error: 'Must be a valid UUID.' }),
});
type OrderBody = z.infer<typeof orderSchema>;
type OrderPackageBody = z.infer<typeof orderPackageSchema>;

const addTeamSchema = z.object({
  apiKey: z.string({ error: required('Must be a string.') }).min(1),
  webhookUrl: z.url().optional(),
  webhookSecret: z.string().min(1).optional(),
  packages: z
    .array(
      z.object({
        id: z.string().min(1).optional(),
        name: z.string().min(1),
        check_types: z
          .array(z.string())
          .min(1)
          .refine((types) => types.every(isCheckType), { error: 'Unknown check type.' }),
      }),
    )
    .optional(),
});
const setWebhookSchema = z.object({
  url: z.url({ error: required('Enter a valid URL.') }),
  secret: z.string().min(1),
});
const setStatusSchema = z.object({
  status: z.enum(CERTN_CASE_STATUSES, { error: required('Not a valid case status.') }),
  score: z.enum(['CLEAR', 'REVIEW']).optional(),
});

/** Django REST framework's error shape: `{ field: ['message'] }`, root errors under `non_field_errors`. */
function drfErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'non_field_errors';
    (out[field] ??= []).push(issue.message);
  }
  return out;
}

class BadRequest extends Error {
  constructor(readonly body: Record<string, string[]>) {
    super('Bad request');
  }
}

const parseBody = bodyParser((error) => new BadRequest(drfErrors(error)));

// ---------------------------------------------------------------------------------------------------
// PDF

function buildPdf(lines: string[]): Buffer {
  const escape = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?').replace(/[\\()]/g, '\\$&');
  const content = [
    'BT',
    '/F1 12 Tf',
    '14 TL',
    '72 740 Td',
    ...lines.map((l) => `(${escape(l)}) '`),
    'ET',
  ].join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

// ---------------------------------------------------------------------------------------------------
// The emulator

/**
 * Faults (`FaultyEmulator`): a dropped webhook is never sent nor retried; only polling sees that change.
 * `publicUrl` is what the signed pdf_url links start with.
 */
export class CertnEmulator extends CallbackEmulator<CertnDelivery> {
  /** Lifetime of the pdf_url links signed from now on (ms); a test shortens it to see one expire. */
  reportUrlTtlMs: number;

  #teams = new Map<string, Team>();
  #cases = new Map<string, CaseEntry>();
  #orders: CertnOrderRecord[] = [];
  #invites: CertnInviteRecord[] = [];
  #reportFiles = new Map<string, ReportFileEntry>();
  #idempotency = new Map<string, { fingerprint: string; caseId: string }>();
  readonly #signingSecret = randomUUID();

  constructor(opts: CertnEmulatorOptions = {}) {
    super(opts, { signatureHeader: 'X-Signature' });
    this.reportUrlTtlMs = opts.reportUrlTtlMs ?? DEFAULT_REPORT_URL_TTL_MS;
  }

  // ----- teams

  addTeam(input: AddTeamInput): { packages: CertnPackage[] } {
    const parsed = addTeamSchema.safeParse(input);
    if (!parsed.success)
      throw new CertnEmulatorError(400, `invalid team: ${JSON.stringify(drfErrors(parsed.error))}`);
    const t = parsed.data;
    const source: { id?: string; name: string; check_types: string[] }[] = t.packages ?? DEFAULT_PACKAGES;
    const packages = source.map((p) => ({
      id: p.id ?? randomUUID(),
      name: p.name,
      check_types: [...p.check_types],
    }));
    this.#teams.set(t.apiKey, {
      apiKey: t.apiKey,
      webhookUrl: t.webhookUrl ?? null,
      webhookSecret: t.webhookSecret ?? null,
      packages,
      revoked: false,
    });
    return { packages: clone(packages) };
  }

  setWebhook(apiKey: string, webhook: { url: string; secret: string }): void {
    const team = this.#team(apiKey);
    const parsed = setWebhookSchema.safeParse(webhook);
    if (!parsed.success)
      throw new CertnEmulatorError(400, `invalid webhook: ${JSON.stringify(drfErrors(parsed.error))}`);
    team.webhookUrl = parsed.data.url;
    team.webhookSecret = parsed.data.secret;
  }

  /** The key stops working (401); the team's cases stay. */
  revokeApiKey(apiKey: string): void {
    this.#team(apiKey).revoked = true;
  }

  /** The team behind a valid `Api-Key` value, or null (missing, unknown, revoked). */
  authenticate(apiKey: string | null | undefined): { apiKey: string; packages: CertnPackage[] } | null {
    if (!apiKey) return null;
    const team = this.#teams.get(apiKey);
    if (!team || team.revoked) return null;
    return { apiKey: team.apiKey, packages: clone(team.packages) };
  }

  // ----- inspection

  case(caseId: string): CertnCase {
    return clone(this.#entry(caseId).data);
  }

  cases(): CertnCase[] {
    return [...this.#cases.values()].map((e) => clone(e.data));
  }

  orders(): CertnOrderRecord[] {
    return clone(this.#orders);
  }

  invites(): CertnInviteRecord[] {
    return clone(this.#invites);
  }

  reportFiles(): CertnReportFileRecord[] {
    return [...this.#reportFiles.values()].map(({ id, case_id, file_name, created }) => ({
      id,
      case_id,
      file_name,
      created,
    }));
  }

  // ----- progress

  /**
   * Moves the case one step: APPLICANT_INVITED → APPLICANT_STARTED → APPLICANT_SUBMITTED → IN_PROGRESS →
   * IN_PROGRESS with the first check COMPLETE (skipped for single-check cases) → COMPLETE.
   * CASE_ORDERED goes to APPLICANT_INVITED; IN_DISPUTE and the *_ACTION_REQUIRED states resume IN_PROGRESS.
   * Resolves after the first delivery attempt of each resulting webhook. 409 when there is no next step.
   */
  override async advance(caseId: string): Promise<CertnCase> {
    const entry = this.#entry(caseId);
    const step = this.#nextStep(entry.data);
    if (!step) {
      throw new CertnEmulatorError(
        409,
        `case ${caseId} is ${entry.data.overall_status}: nothing to advance (use setStatus)`,
      );
    }
    await this.#change(entry, step);
    return clone(entry.data);
  }

  /** Sets any status directly, keeping check executions consistent with it. Resolves like advance(). */
  async setStatus(
    caseId: string,
    status: CertnCaseStatus,
    opts: { score?: CertnScore } = {},
  ): Promise<CertnCase> {
    if (!isCaseStatus(status)) throw new CertnEmulatorError(400, `unknown case status ${String(status)}`);
    const entry = this.#entry(caseId);
    await this.#change(entry, (c) => this.#applyStatus(c, status, opts.score));
    this.scheduleAuto(caseId);
    return clone(entry.data);
  }

  protected override deliveryNotFound(deliveryId: string): Error {
    return new CertnEmulatorError(404, `no delivery ${deliveryId}`);
  }

  // ----- public API operations (team-scoped; used by the HTTP routes)

  /** Returns the case and whether it is an idempotent replay. Throws BadRequest / CertnEmulatorError. */
  order(
    apiKey: string,
    endpoint: 'order' | 'order-package',
    rawBody: unknown,
    idempotencyKey: string | null,
  ): { case: CertnCase; replayed: boolean } {
    const team = this.#activeTeam(apiKey);
    let checkTypes: string[];
    let packageId: string | null = null;
    let body: OrderBody | OrderPackageBody;
    if (endpoint === 'order') {
      const b = parseBody(orderSchema, rawBody);
      checkTypes = Object.keys(b.check_types_with_arguments);
      body = b;
    } else {
      const b = parseBody(orderPackageSchema, rawBody);
      const pkg = team.packages.find((p) => p.id === b.package_id);
      if (!pkg)
        throw new BadRequest({ package_id: [`Invalid package "${b.package_id}" - object does not exist.`] });
      checkTypes = [...pkg.check_types];
      packageId = pkg.id;
      body = b;
    }

    const fingerprint = `${endpoint} ${canonicalJson(rawBody)}`;
    const idemKey = idempotencyKey ? `${apiKey}\n${idempotencyKey}` : null;
    if (idemKey) {
      const previous = this.#idempotency.get(idemKey);
      if (previous) {
        if (previous.fingerprint !== fingerprint) {
          throw new CertnEmulatorError(
            422,
            'Idempotency-Key has already been used with a different request body.',
          );
        }
        this.#recordOrder(apiKey, endpoint, rawBody, idempotencyKey, previous.caseId, true);
        return { case: this.case(previous.caseId), replayed: true };
      }
    }

    const created = now();
    const sendInvite = body.send_invite_email ?? true;
    const data: CertnCase = {
      id: randomUUID(),
      created,
      modified: created,
      email_address: body.email_address,
      overall_status: sendInvite ? 'APPLICANT_INVITED' : 'CASE_ORDERED',
      overall_score: null,
      package_id: packageId,
      external_reference: body.external_reference ?? null,
      check_executions: checkTypes.map((check_type) => ({
        id: randomUUID(),
        check_type,
        status: 'PENDING',
        result: null,
      })),
      report_ready: false,
    };
    const entry: CaseEntry = { apiKey, data };
    this.#cases.set(data.id, entry);
    if (idemKey) this.#idempotency.set(idemKey, { fingerprint, caseId: data.id });
    this.#recordOrder(apiKey, endpoint, rawBody, idempotencyKey, data.id, false);
    if (sendInvite && this.#recordInvite(data)) {
      void this.#change(entry, (c) => this.#applyStatus(c, 'INVITE_UNDELIVERABLE'));
    }
    this.scheduleAuto(data.id);
    return { case: clone(data), replayed: false };
  }

  /** The case if the team may see it; 404 otherwise. */
  teamCase(apiKey: string, caseId: string): CertnCase {
    return clone(this.#teamEntry(apiKey, caseId).data);
  }

  cancel(apiKey: string, caseId: string): CertnCase {
    const entry = this.#teamEntry(apiKey, caseId);
    const status = entry.data.overall_status;
    if (status === 'COMPLETE' || status === 'CANCELLED') {
      throw new CertnEmulatorError(409, `Case is already ${status} and cannot be cancelled.`);
    }
    void this.#change(entry, (c) => this.#applyStatus(c, 'CANCELLED'));
    return clone(entry.data);
  }

  generateReport(
    apiKey: string,
    caseId: string,
  ): { id: string; case_id: string; status: 'READY'; created: string } {
    const entry = this.#teamEntry(apiKey, caseId);
    const c = entry.data;
    if (!c.check_executions.some((x) => x.status === 'COMPLETE')) {
      throw new CertnEmulatorError(409, 'No results to report yet.');
    }
    const file: ReportFileEntry = {
      id: randomUUID(),
      case_id: c.id,
      file_name: `certn-report-${c.id}.pdf`,
      created: now(),
      apiKey,
      lines: [
        'Certn background check report',
        `Case: ${c.id}`,
        `Applicant: ${c.email_address}`,
        `Overall status: ${c.overall_status}`,
        `Overall score: ${c.overall_score ?? 'PENDING'}`,
        ...c.check_executions.map((x) => `${x.check_type}: ${x.status}${x.result ? ` (${x.result})` : ''}`),
      ],
    };
    this.#reportFiles.set(file.id, file);
    return { id: file.id, case_id: c.id, status: 'READY', created: file.created };
  }

  reportFile(
    apiKey: string,
    reportFileId: string,
    baseUrl: string,
  ): { id: string; case_id: string; file_name: string; pdf_url: string; created: string } {
    const file = this.#reportFiles.get(reportFileId);
    if (!file || file.apiKey !== apiKey) throw new CertnEmulatorError(404, 'Not found.');
    const expires = Date.now() + this.reportUrlTtlMs;
    const signature = this.#signReport(file.id, expires);
    const base = (this.publicUrl ?? baseUrl).replace(/\/+$/, '');
    return {
      id: file.id,
      case_id: file.case_id,
      file_name: file.file_name,
      pdf_url: `${base}/files/reports/${file.id}.pdf?expires=${expires}&signature=${signature}`,
      created: file.created,
    };
  }

  /**
   * The PDF for a signed download link; 403 when the signature is wrong, or when it is right but the link has
   * expired (as a signed storage URL answers); 404 when unknown.
   */
  reportPdf(reportFileId: string, expires: string | undefined, signature: string | undefined): Buffer {
    const expiresMs = Number(expires);
    if (
      !expires ||
      !/^\d+$/.test(expires) ||
      !Number.isSafeInteger(expiresMs) ||
      !hexSignatureMatches(this.#signReport(reportFileId, expiresMs), signature)
    ) {
      throw new CertnEmulatorError(403, 'The signature is invalid.');
    }
    if (expiresMs < Date.now()) throw new CertnEmulatorError(403, 'Request has expired.');
    const file = this.#reportFiles.get(reportFileId);
    if (!file) throw new CertnEmulatorError(404, 'Not found.');
    return buildPdf(file.lines);
  }

  // ----- internals

  #signReport(reportFileId: string, expires: number): string {
    return hmacSha256Hex(this.#signingSecret, `${reportFileId}:${expires}`);
  }

  #team(apiKey: string): Team {
    const team = this.#teams.get(apiKey);
    if (!team) throw new CertnEmulatorError(404, `no team with API key ${apiKey}`);
    return team;
  }

  #activeTeam(apiKey: string): Team {
    const team = this.#teams.get(apiKey);
    if (!team || team.revoked) throw new CertnEmulatorError(401, 'Invalid API key.');
    return team;
  }

  #entry(caseId: string): CaseEntry {
    const entry = this.#cases.get(caseId);
    if (!entry) throw new CertnEmulatorError(404, `no case ${caseId}`);
    return entry;
  }

  #teamEntry(apiKey: string, caseId: string): CaseEntry {
    const entry = this.#cases.get(caseId);
    if (!entry || entry.apiKey !== apiKey) throw new CertnEmulatorError(404, 'Not found.');
    return entry;
  }

  #recordOrder(
    apiKey: string,
    endpoint: 'order' | 'order-package',
    body: unknown,
    idempotencyKey: string | null,
    caseId: string,
    replayed: boolean,
  ): void {
    this.#orders.push({
      id: randomUUID(),
      at: now(),
      apiKey,
      endpoint,
      idempotencyKey,
      body: clone(body),
      caseId,
      replayed,
    });
  }

  /** Records the invite email; true when it bounces (an address at @undeliverable.test). */
  #recordInvite(c: CertnCase): boolean {
    const undeliverable = c.email_address.toLowerCase().endsWith(UNDELIVERABLE_DOMAIN);
    this.#invites.push({ caseId: c.id, email: c.email_address, at: now(), undeliverable });
    return undeliverable;
  }

  #nextStep(c: CertnCase): ((c: CertnCase) => void) | null {
    switch (c.overall_status) {
      case 'CASE_ORDERED':
        return (x) => {
          x.overall_status = this.#recordInvite(x) ? 'INVITE_UNDELIVERABLE' : 'APPLICANT_INVITED';
        };
      case 'APPLICANT_INVITED':
      case 'APPLICANT_OPENED':
        return (x) => this.#applyStatus(x, 'APPLICANT_STARTED');
      case 'APPLICANT_STARTED':
        return (x) => this.#applyStatus(x, 'APPLICANT_SUBMITTED');
      case 'APPLICANT_SUBMITTED':
      case 'IN_DISPUTE':
      case 'APPLICANT_ACTION_REQUIRED':
      case 'CLIENT_ACTION_REQUIRED':
        return (x) => this.#applyStatus(x, 'IN_PROGRESS');
      case 'IN_PROGRESS': {
        const active = c.check_executions.filter((x) => x.status !== 'CANCELLED');
        const done = active.filter((x) => x.status === 'COMPLETE');
        if (done.length === 0 && active.length > 1) {
          return (x) => {
            const first = x.check_executions.find((e) => e.status !== 'CANCELLED');
            if (first) {
              first.status = 'COMPLETE';
              first.result = 'CLEAR';
            }
          };
        }
        return (x) => this.#applyStatus(x, 'COMPLETE');
      }
      default:
        return null;
    }
  }

  #applyStatus(c: CertnCase, status: CertnCaseStatus, score?: CertnScore): void {
    c.overall_status = status;
    if (status === 'IN_PROGRESS') {
      for (const x of c.check_executions) if (x.status === 'PENDING') x.status = 'IN_PROGRESS';
    } else if (status === 'COMPLETE') {
      for (const x of c.check_executions) {
        if (x.status === 'CANCELLED') continue;
        x.status = 'COMPLETE';
        x.result = 'CLEAR';
      }
      c.overall_score = score ?? 'CLEAR';
      c.report_ready = true;
    } else if (status === 'CANCELLED') {
      for (const x of c.check_executions) if (x.status !== 'COMPLETE') x.status = 'CANCELLED';
    }
  }

  /** Applies a mutation, then sends one webhook per kind of change. Resolves after each first attempt. */
  async #change(entry: CaseEntry, mutate: (c: CertnCase) => void): Promise<void> {
    const before = clone(entry.data);
    mutate(entry.data);
    const after = entry.data;
    const checksChanged = after.check_executions.some(
      (x, i) => before.check_executions[i]?.status !== x.status,
    );
    const events: CertnWebhookEventType[] = [];
    if (before.overall_status !== after.overall_status) events.push('CASE_STATUS_CHANGED');
    if (checksChanged) events.push('CHECK_STATUS_CHANGED');
    if (!before.report_ready && after.report_ready) events.push('CASE_REPORT_READY');
    if (events.length === 0 && before.overall_score === after.overall_score) return;
    after.modified = now();
    const team = this.#teams.get(entry.apiKey);
    if (!team?.webhookUrl) return;
    // Sequential first attempts keep the receiver's view ordered within one change.
    for (const eventType of events) {
      const event: CertnWebhookEvent = {
        id: randomUUID(),
        event_type: eventType,
        object_id: after.id,
        object_type: 'CASE',
      };
      const body = JSON.stringify(event);
      await this.webhooks.send({
        id: randomUUID(),
        caseId: after.id,
        url: team.webhookUrl,
        event,
        body,
        signature: team.webhookSecret ? certnSignature(team.webhookSecret, body) : null,
        attempts: [],
        status: 'pending',
      });
    }
  }

  protected override hasNextStep(caseId: string): boolean {
    const entry = this.#cases.get(caseId);
    return entry !== undefined && this.#nextStep(entry.data) !== null;
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP

function apiKeyOf(req: Request): string | null {
  const match = /^Api-Key\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  return match?.[1] ?? null;
}

const FAULT_DETAILS: Record<number, string> = {
  429: 'Request was throttled.',
  500: 'A server error occurred.',
  502: 'Bad gateway.',
  503: 'Service temporarily unavailable, try again later.',
};

export function createCertnEmulatorApp(emulator: CertnEmulator): express.Express {
  const app = emulatorApp();
  app.use(express.json({ limit: '1mb' }));

  // ----- public API

  const api = express.Router();
  api.use((req: Request, res: Response, next: NextFunction) => {
    const team = emulator.authenticate(apiKeyOf(req));
    if (!team) {
      res.status(401).json({ detail: 'Invalid API key.' });
      return;
    }
    next();
  });
  api.use(
    emulator.faultInjector.middleware((status) => ({ detail: FAULT_DETAILS[status] ?? 'Server error.' })),
  );
  const teamKey = (req: Request): string => apiKeyOf(req) ?? '';

  api.get('/packages/', (req, res) => {
    const team = emulator.authenticate(teamKey(req));
    const results = team?.packages ?? [];
    res.json({ count: results.length, next: null, previous: null, results });
  });

  const orderRoute = (endpoint: 'order' | 'order-package') => (req: Request, res: Response) => {
    const idempotencyKey = req.get('idempotency-key')?.trim() || null;
    const { case: c, replayed } = emulator.order(teamKey(req), endpoint, req.body as unknown, idempotencyKey);
    res.status(replayed ? 200 : 201).json(c);
  };
  api.post('/cases/order/', orderRoute('order'));
  api.post('/cases/order-package/', orderRoute('order-package'));

  api.get('/cases/:id/', (req, res) => {
    res.json(emulator.teamCase(teamKey(req), param(req, 'id')));
  });
  api.post('/cases/:id/cancel/', (req, res) => {
    res.json(emulator.cancel(teamKey(req), param(req, 'id')));
  });
  api.post('/cases/:id/generate-report/', (req, res) => {
    res.status(201).json(emulator.generateReport(teamKey(req), param(req, 'id')));
  });
  api.get('/report-files/:id/', (req, res) => {
    res.json(emulator.reportFile(teamKey(req), param(req, 'id'), baseUrlOf(req)));
  });
  app.use('/api/public', api);

  // ----- signed downloads (no API key)

  app.get('/files/reports/:name', (req, res) => {
    const match = /^(.+)\.pdf$/.exec(param(req, 'name'));
    const expires = typeof req.query.expires === 'string' ? req.query.expires : undefined;
    const signature = typeof req.query.signature === 'string' ? req.query.signature : undefined;
    if (!match?.[1]) throw new CertnEmulatorError(404, 'Not found.');
    const pdf = emulator.reportPdf(match[1], expires, signature);
    res.status(200).type('application/pdf').send(pdf);
  });

  // ----- sandbox control (no auth)

  const sandbox = express.Router();
  sandbox.post('/teams', (req, res) => {
    const body = parseBody(addTeamSchema, req.body as unknown);
    res.status(201).json(emulator.addTeam(body));
  });
  sandbox.post('/teams/:apiKey/webhook', (req, res) => {
    const body = parseBody(setWebhookSchema, req.body as unknown);
    emulator.setWebhook(param(req, 'apiKey'), body);
    res.json({ ok: true });
  });
  sandbox.delete('/teams/:apiKey', (req, res) => {
    emulator.revokeApiKey(param(req, 'apiKey'));
    res.status(204).end();
  });
  sandbox.get('/cases', (_req, res) => {
    res.json(emulator.cases());
  });
  sandbox.get('/cases/:id', (req, res) => {
    res.json(emulator.case(param(req, 'id')));
  });
  sandbox.post('/cases/:id/advance', async (req, res) => {
    res.json(await emulator.advance(param(req, 'id')));
  });
  sandbox.post('/cases/:id/status', async (req, res) => {
    const body = parseBody(setStatusSchema, req.body as unknown);
    res.json(await emulator.setStatus(param(req, 'id'), body.status, { score: body.score }));
  });
  sandbox.get('/orders', (_req, res) => {
    res.json(emulator.orders());
  });
  sandbox.get('/invites', (_req, res) => {
    res.json(emulator.invites());
  });
  sandbox.use(callbackControlRoutes(emulator));
  app.use('/_sandbox', sandbox);

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ detail: 'Not found.' });
  });

  app.use(
    errorHandler({
      own: (err, res) => {
        if (err instanceof BadRequest) res.status(400).json(err.body);
        else if (err instanceof CertnEmulatorError) res.status(err.status).json({ detail: err.message });
        else return false;
        return true;
      },
      parseFailed: (res, message) => res.status(400).json({ detail: `JSON parse error - ${message}` }),
      tooLarge: (res) => res.status(413).json({ detail: 'Request body is too large.' }),
      clientError: (res, status, message) => res.status(status).json({ detail: message }),
      internal: (res, message) => res.status(500).json({ detail: message ?? 'Internal server error.' }),
    }),
  );
  return app;
}

/** Listening: `apiBaseUrl` (= url) is the base URL of the adapter's Certn client; API paths start with /api/public. */
export type RunningCertnEmulator = Running<CertnEmulator>;

export async function startCertnEmulator(opts: CertnEmulatorOptions = {}): Promise<RunningCertnEmulator> {
  return startEmulator(new CertnEmulator(opts), createCertnEmulatorApp, opts.port ?? 0);
}
