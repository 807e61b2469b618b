/**
 * The load balancer in front of a benchmark's API processes (`BENCH_APIS` > 1), as a process of its own as in
 * production: round-robin over the upstreams (test/support/load-balancer.ts). bench/service.ts starts it; on
 * SIGTERM or SIGINT it prints how many requests each upstream answered, then exits.
 *
 *   npx tsx bench/load-balancer.ts PORT UPSTREAM_URL…
 */
import { startLoadBalancer } from '../test/support/load-balancer';

async function main(): Promise<void> {
  const [port, ...upstreams] = process.argv.slice(2);
  if (port === undefined || !/^\d+$/.test(port) || upstreams.length === 0) {
    console.error('usage: npx tsx bench/load-balancer.ts PORT UPSTREAM_URL…');
    process.exit(2);
  }
  const balancer = await startLoadBalancer(upstreams, Number(port));
  console.log(`load balancer on ${balancer.url} → ${upstreams.join(', ')}`);
  const stop = () => {
    console.log(`requests answered: ${JSON.stringify(balancer.counts())}`);
    balancer.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
