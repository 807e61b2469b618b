import { runProductionCrash } from '../support/production-crash';

// The long version, with figures: npx tsx scripts/faults/production-crash.ts [--checks 1000 --worker-kills 10].
const CHECKS = Number(process.env.PRODUCTION_CHECKS ?? 300);
const CUSTOMERS = 10;
const TIMEOUT_MS = 15 * 60_000;

/**
 * The production shape (Temporal on PostgreSQL, 2 APIs behind a load balancer, 2 workers, 10 customers) through
 * 5 worker SIGKILLs, 1 Temporal server restart and 1 API SIGKILL + restart (each proven in
 * test/support/production-crash.ts before the run goes on): every check reaches its final status, with one vendor
 * order, no note written twice, no status tag written again, one run each.
 */
describe('production shape under crashes', () => {
  it(
    `completes ${CHECKS} checks, once each, through 5 worker kills, a Temporal restart and an API restart`,
    async () => {
      const figures = await runProductionCrash({
        checks: CHECKS,
        customers: CUSTOMERS,
        workerKills: 5,
        certnStepMs: 1000,
        timeoutMs: TIMEOUT_MS,
      });
      console.log(`production-shape figures: ${JSON.stringify(figures)}`);
      expect(figures.workerKills).toBe(5);
      expect(figures.temporalRestarts).toBe(1);
      expect(figures.apiRestarts).toBe(1);
      expect(figures.complete).toBe(CHECKS);
      expect(figures.closedCompleted).toBe(CHECKS);
      expect(figures.checksWithSeveralRuns).toBe(0);
      expect(figures.vendorOrders).toBe(CHECKS);
      expect(figures.duplicateOrders).toBe(0);
      // Each completed Certn check leaves notes on the candidate (the check's outcome and its report link).
      expect(figures.notes).toBeGreaterThanOrEqual(CHECKS);
      expect(figures.duplicateNotes).toBe(0);
      expect(figures.duplicateTags).toBe(0);
      // Both APIs took part (the load balancer sent each some of the webhooks and callbacks).
      expect(Math.min(...figures.perApi)).toBeGreaterThan(0);
    },
    TIMEOUT_MS + 300_000,
  );
});
