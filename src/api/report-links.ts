import { Router, type Response } from 'express';
import { z } from 'zod';
import { ExternalApiError, type HttpLimits } from '../integrations/http-client';
import type { Logger } from '../logger';
import type { ReportLinkKey } from '../report-links';
import { checkAdapterFor } from '../vendors';
import { sendProblem } from './problem';
import type { ConnectionReader } from './connection-cache';

export interface ReportLinkDeps {
  connections: ConnectionReader;
  key: ReportLinkKey;
  logger: Logger;
  /** Request timeout and response limit of the vendor calls (src/config.ts); their defaults when not given. */
  httpLimits?: HttpLimits;
}

const linkSchema = z.object({
  connectionId: z.string().min(1).max(200),
  reportId: z.string().min(1).max(200),
  token: z.string().min(1).max(200),
});

/** Seconds a client should wait before opening the link again when the vendor could not be asked. */
const RETRY_AFTER_SECONDS = 60;

/**
 * The report links on candidate profiles (src/report-links.ts): a valid link is answered with a redirect to a URL
 * of the report that the connection's vendor signs now. Whatever is wrong with a link (token, connection, report,
 * a vendor whose links do not expire) gets the same 404, so a guess learns nothing. Neither the token nor the
 * vendor's URL is logged: each opens the report.
 */
export function reportLinkRouter(deps: ReportLinkDeps): Router {
  const router = Router();
  const notFound = (res: Response) => sendProblem(res, 404, 'No report at this link.');

  router.get('/reports/:connectionId/:reportId', async (req, res) => {
    // The answer is personal and short-lived (a signed URL): no shared cache may keep it.
    res.set('Cache-Control', 'no-store');
    const link = linkSchema.safeParse({ ...req.params, token: req.query.token });
    if (!link.success) return notFound(res);
    const { connectionId, reportId, token } = link.data;
    // Checked before the connection is used, so a wrong token costs no vendor call and tells nothing.
    if (!deps.key.matches(connectionId, reportId, token)) return notFound(res);

    const connection = await deps.connections.find(connectionId);
    const adapter = connection && checkAdapterFor(connection.vendor);
    if (connection === undefined || adapter === undefined) return notFound(res);
    const vendor = adapter.client(
      adapter.settingsSchema.parse(connection.vendorSettings),
      adapter.secretsSchema.parse(connection.vendorSecrets),
      deps.httpLimits,
    );
    if (vendor.reportUrl === undefined) return notFound(res);

    let url: string;
    try {
      url = await vendor.reportUrl(reportId);
    } catch (err) {
      if (!(err instanceof ExternalApiError)) throw err;
      if (err.status === 404) return notFound(res);
      deps.logger.warn(
        { connectionId, vendor: adapter.vendor, vendorStatus: err.status },
        'report link: the vendor did not sign a report URL',
      );
      if (err.permanent) {
        // No status: the vendor's link to the report is not one we may redirect to (src/integrations/url-policy.ts).
        const what =
          err.status === null
            ? 'gave no usable link to the report'
            : `refused to give the report (HTTP ${err.status})`;
        return sendProblem(
          res,
          502,
          `${adapter.displayName} ${what}; the connection may need new ${adapter.displayName} settings.`,
        );
      }
      res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      return sendProblem(
        res,
        503,
        `${adapter.displayName} could not give the report just now; try again in a minute.`,
      );
    }
    res.redirect(302, url);
  });
  return router;
}
