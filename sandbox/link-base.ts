import express from 'express';
import { z } from 'zod';

/**
 * `PUT /_sandbox/link-base { "url": … }`: what the links an emulator hands out from then on (result, report and
 * review pages) start with; `GET` shows it. Any string, on purpose: with `javascript:alert(1)//` the emulator acts
 * like a vendor whose links must never reach a recruiter, which the service refuses to write
 * (src/integrations/url-policy.ts). `null`: the address of each request again.
 */
export function linkBaseRoutes(emulator: { publicUrl: string | null }): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: '64kb' }));
  router.get('/', (_req, res) => {
    res.json({ url: emulator.publicUrl });
  });
  router.put('/', (req, res) => {
    const body = z.object({ url: z.string().min(1).nullable() }).safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ message: 'send { "url": "<what the links start with>" } or { "url": null }' });
      return;
    }
    emulator.publicUrl = body.data.url;
    res.json({ url: emulator.publicUrl });
  });
  return router;
}
