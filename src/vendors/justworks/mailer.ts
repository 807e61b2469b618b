import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { unsafeUrlReason } from '../../integrations/url-policy';

/**
 * The e-mail every Justworks admin with "Manage employees" receives when a candidate is hired in Lever
 * (contract: docs/vendors/justworks.md §4): one message per admin, so nobody sees the others' addresses.
 */

export const HIRE_NOTIFICATION_SUBJECT = 'A candidate has been hired in Lever!';

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  auth?: { user: string; pass: string };
}

export interface HireReview {
  candidateName: string;
  /** The pending hire's `review_url`; null when Justworks gave one that is not a URL we may write. */
  reviewUrl: string | null;
  companyName?: string;
}

export interface HireNotificationOptions {
  /**
   * The same on every retry of this notification (e.g. derived from the pending hire id). Sent as
   * `X-Idempotency-Key`, and it makes each admin's Message-ID deterministic, so a retried send can be
   * recognised as the same message.
   */
  idempotencyKey?: string;
  timeoutMs?: number;
}

/** What happened to the message for one admin. */
export interface AdminDelivery {
  to: string;
  messageId: string;
  /** true: the SMTP server took the message for this admin. */
  accepted: boolean;
  /** Set when the server refused the message for this admin (or it failed). */
  error?: string;
  /** true: a permanent refusal (SMTP 5xx) — retrying would not help. */
  permanent?: boolean;
}

export interface HireNotificationResult {
  /** The Message-ID of the first admin's message (each admin gets their own; see `deliveries`). */
  messageId: string;
  /** Admins whose message was accepted. */
  accepted: string[];
  /** Admins whose message was refused permanently (reported, not retried). */
  rejected: string[];
  /** One entry per admin, in the order given (duplicates removed). */
  deliveries: AdminDelivery[];
}

/** Some admins could not be reached for a reason that may pass (4xx, connection): retry the whole call. */
export class HireNotificationError extends Error {
  override readonly name = 'HireNotificationError';
  constructor(
    message: string,
    readonly result: HireNotificationResult,
  ) {
    super(message);
  }
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A single-line value for a header or a plain-text line. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\t]+/g, ' ').trim();
}

function domainOf(address: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(address);
  return match?.[1] ?? 'bgc-bridge.local';
}

export function hireNotificationText(review: HireReview): string {
  const name = oneLine(review.candidateName);
  const at = review.companyName ? ` for ${oneLine(review.companyName)}` : '';
  return [
    'Hello,',
    '',
    `${name} has been hired in Lever${at}. Their information is waiting in Justworks as a pending hire.`,
    '',
    ...(review.reviewUrl === null
      ? ['Review the pending hire in Justworks and invite the new member.']
      : ['Review the pending hire and invite the new member:', review.reviewUrl]),
    '',
    'In Justworks: Manage > Employees > Pending hire > Review.',
    '',
    'Files and resumes are not sent to Justworks.',
  ].join('\n');
}

export function hireNotificationHtml(review: HireReview): string {
  const name = escapeHtml(oneLine(review.candidateName));
  const at = review.companyName ? ` for ${escapeHtml(oneLine(review.companyName))}` : '';
  return [
    '<!doctype html>',
    '<html><body>',
    '<p>Hello,</p>',
    `<p><strong>${name}</strong> has been hired in Lever${at}. Their information is waiting in Justworks as a pending hire.</p>`,
    review.reviewUrl === null
      ? '<p>Review the pending hire in Justworks and invite the new member.</p>'
      : `<p><a href="${escapeHtml(review.reviewUrl)}">Review the pending hire</a> and invite the new member.</p>`,
    '<p>In Justworks: Manage &gt; Employees &gt; Pending hire &gt; Review.</p>',
    '<p>Files and resumes are not sent to Justworks.</p>',
    '</body></html>',
  ].join('\n');
}

function isPermanent(err: unknown): boolean {
  const code = (err as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/**
 * Sends `A candidate has been hired in Lever!` with the review link to each admin, one message per admin.
 * Tries every admin; a permanent refusal (5xx) for one admin is reported in the result; if any admin failed
 * temporarily, throws HireNotificationError (with the per-admin result) after trying all of them, so the
 * caller retries — with the same idempotencyKey, the retried messages have the same Message-IDs.
 */
export async function sendHireNotification(
  smtp: SmtpSettings,
  from: string,
  to: string[],
  review: HireReview,
  opts: HireNotificationOptions = {},
): Promise<HireNotificationResult> {
  const seen = new Set<string>();
  const recipients: string[] = [];
  for (const address of to.map((a) => a.trim()).filter((a) => a !== '')) {
    if (seen.has(address.toLowerCase())) continue;
    seen.add(address.toLowerCase());
    recipients.push(address);
  }
  if (recipients.length === 0) throw new Error('sendHireNotification: no admin address to notify');
  if (review.reviewUrl !== null && unsafeUrlReason(review.reviewUrl) !== undefined) {
    throw new Error('sendHireNotification: reviewUrl must be an https:// URL');
  }
  const key = opts.idempotencyKey;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new Error('sendHireNotification: idempotencyKey must be 1 to 200 visible ASCII characters');
  }

  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure ?? false,
    ...(smtp.auth ? { auth: { user: smtp.auth.user, pass: smtp.auth.pass } } : {}),
    connectionTimeout: opts.timeoutMs ?? 15_000,
    greetingTimeout: opts.timeoutMs ?? 15_000,
    socketTimeout: opts.timeoutMs ?? 30_000,
  });
  const text = hireNotificationText(review);
  const html = hireNotificationHtml(review);
  const domain = domainOf(from);
  const deliveries: AdminDelivery[] = [];
  try {
    for (const recipient of recipients) {
      const messageId =
        key === undefined
          ? undefined
          : `<hire-${createHash('sha256').update(`${key}\n${recipient.toLowerCase()}`).digest('hex').slice(0, 40)}@${domain}>`;
      try {
        const info = await transport.sendMail({
          from,
          to: recipient,
          subject: HIRE_NOTIFICATION_SUBJECT,
          text,
          html,
          ...(messageId === undefined ? {} : { messageId }),
          ...(key === undefined ? {} : { headers: { 'X-Idempotency-Key': key } }),
        });
        const accepted = info.accepted.length > 0;
        deliveries.push({
          to: recipient,
          messageId: info.messageId,
          accepted,
          ...(accepted ? {} : { error: 'not accepted by the SMTP server', permanent: true }),
        });
      } catch (err) {
        deliveries.push({
          to: recipient,
          messageId: messageId ?? '',
          accepted: false,
          error: err instanceof Error ? err.message : String(err),
          permanent: isPermanent(err),
        });
      }
    }
  } finally {
    transport.close();
  }

  const result: HireNotificationResult = {
    messageId: deliveries[0]?.messageId ?? '',
    accepted: deliveries.filter((d) => d.accepted).map((d) => d.to),
    rejected: deliveries.filter((d) => !d.accepted && d.permanent === true).map((d) => d.to),
    deliveries,
  };
  const temporary = deliveries.filter((d) => !d.accepted && d.permanent !== true);
  if (temporary.length > 0) {
    throw new HireNotificationError(
      `hire notification not delivered to ${temporary.length} admin(s): ${temporary
        .map((d) => `${d.to}: ${d.error ?? 'failed'}`)
        .join('; ')}`,
      result,
    );
  }
  return result;
}
