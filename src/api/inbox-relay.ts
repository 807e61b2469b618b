import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { ApiConfig } from '../config';
import { ConnectionRepository } from '../db/connections';
import { WebhookInbox, type PendingDelivery } from '../db/inbox';
import type { SecretBox } from '../db/secret-box';
import { atsKinds, atsModuleFor } from '../ats';
import type { Logger } from '../logger';
import { integrationFor } from '../vendors';
import { DEFAULT_START_TIMEOUT_MS, type StartOptions } from './check-starter';
import { refusedStartBackoffMs, startRecordedDelivery } from './recorded-start';
import { Periodic } from './periodic';

export interface InboxRelayDeps {
  pool: Pool;
  connections: ConnectionRepository;
  temporal: Client;
  logger: Logger;
  start: StartOptions;
  /** Pause between two passes over the inbox (ms). */
  intervalMs: number;
  /** Deliveries leased per claim and started at once (default 20). */
  batchSize?: number;
  /** Deadline of one start attempt (ms). */
  startTimeoutMs?: number;
  /** How long a claimed delivery is left alone by other relays (ms); default: enough for a whole batch. */
  leaseMs?: number;
  /**
   * Only deliveries of these connections (read at every claim). For test stacks, which share one database with
   * other stacks on other Temporal servers; a production relay handles every connection.
   */
  connectionIds?: ReadonlySet<string>;
}

/** What one pass did. */
export interface RelayPass {
  started: number;
  alreadyRunning: number;
  /** Deliveries that, looked at again, start nothing (e.g. another stage); processed too. */
  nothingToStart: number;
  /** Starts Temporal refused; retried with backoff. */
  refused: number;
  /** True when the pass stopped because Temporal was unreachable. */
  temporalUnavailable: boolean;
}

/**
 * Finishes what webhook requests could not: every `processed_at IS NULL` start in `webhook_inbox` that is due
 * (a Lever delivery, an Ashby assessment.start) is leased (oldest first, in batches, `FOR UPDATE SKIP LOCKED`, so several API processes can run a
 * relay), its meaning is derived again from the stored connection, event and data by its ATS module (the Lever
 * handler's own decision), its workflow is started (a batch's starts run concurrently) and the row is marked processed. The
 * workflow ID is the business key, so a start that already happened counts as done. Each pass first tries one
 * delivery alone: when Temporal is unreachable the pass stops there and gives the rest of the batch back, and the
 * next pass tries again.
 */
export class InboxRelay {
  private readonly inbox: WebhookInbox;
  private readonly batchSize: number;
  private readonly startTimeoutMs: number;
  private readonly leaseMs: number;
  private readonly periodic: Periodic;
  private stopping = false;
  private temporalDown = false;

  constructor(private readonly deps: InboxRelayDeps) {
    this.inbox = new WebhookInbox(deps.pool);
    this.batchSize = deps.batchSize ?? 20;
    this.startTimeoutMs = deps.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.leaseMs = deps.leaseMs ?? this.batchSize * this.startTimeoutMs + 30_000;
    this.periodic = new Periodic(
      () => this.runOnce(),
      deps.intervalMs,
      (err) => deps.logger.error({ err }, 'inbox relay pass failed'),
    );
  }

  /** Runs a pass now and then every `intervalMs` after the previous one ended, until `stop`. */
  start(): void {
    this.stopping = false;
    this.periodic.start();
  }

  /** Stops the timer and waits for a pass in progress (it ends after the delivery at hand). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.periodic.stop();
  }

  /** One pass: claims and handles batches until nothing is due, Temporal is unreachable or the relay stops. */
  async runOnce(): Promise<RelayPass> {
    const pass: RelayPass = {
      started: 0,
      alreadyRunning: 0,
      nothingToStart: 0,
      refused: 0,
      temporalUnavailable: false,
    };
    let probed = false;
    for (;;) {
      const batch = await this.inbox.claimDue({
        source: atsKinds,
        limit: this.batchSize,
        leaseMs: this.leaseMs,
        connectionIds: this.deps.connectionIds && [...this.deps.connectionIds],
      });
      let rest = batch;
      if (!probed && batch[0] !== undefined) {
        // The pass's first delivery goes alone: while Temporal is unreachable only it waits for the deadline.
        await this.handle(batch[0], pass);
        probed = true;
        rest = batch.slice(1);
      }
      if (pass.temporalUnavailable || this.stopping) {
        await this.inbox.release(rest.map((d) => d.id));
        break;
      }
      await Promise.all(rest.map((delivery) => this.handle(delivery, pass)));
      if (batch.length < this.batchSize || pass.temporalUnavailable || this.stopping) break;
    }
    this.noteTemporal(pass);
    return pass;
  }

  private async handle(delivery: PendingDelivery, pass: RelayPass): Promise<void> {
    const { logger } = this.deps;
    try {
      const connection = await this.deps.connections.find(delivery.connectionId);
      const integration = connection && integrationFor(connection.vendor);
      if (
        connection === undefined ||
        integration === undefined ||
        connection.ats.kind !== delivery.source ||
        connection.lifecycle.status === 'deleted'
      ) {
        // Deleted after the delivery was recorded: a deleted connection starts nothing.
        logger.warn(
          { inboxId: delivery.id },
          'inbox relay: the delivery has no connection of its ATS any more',
        );
        await this.inbox.markProcessed(delivery.id, 'connection-deleted');
        pass.nothingToStart += 1;
        return;
      }
      // The ATS module decides again, from what was stored and the connection as it is now (atsModuleFor: the
      // config handed on is of the kind asked for).
      const decision = atsModuleFor(connection.ats.kind).recordedStart(delivery, connection, integration);
      if (decision.kind !== 'start') {
        if (decision.kind === 'invalid') {
          logger.warn(
            { inboxId: delivery.id, detail: decision.detail },
            'inbox relay: invalid stored delivery',
          );
        }
        await this.inbox.markProcessed(
          delivery.id,
          decision.kind === 'done' ? decision.outcome : 'ignored-event',
        );
        pass.nothingToStart += 1;
        return;
      }
      const result = await startRecordedDelivery(
        {
          inbox: this.inbox,
          temporal: this.deps.temporal,
          start: this.deps.start,
          startTimeoutMs: this.startTimeoutMs,
          logger,
        },
        {
          inboxId: delivery.id,
          attempts: delivery.attempts,
          connection,
          integration,
          subjectId: decision.subjectId,
        },
      );
      if (result.kind === 'started') {
        if (result.start.outcome === 'started') pass.started += 1;
        else pass.alreadyRunning += 1;
      } else if (result.kind === 'unavailable') {
        pass.temporalUnavailable = true;
      } else {
        pass.refused += 1;
        logger.error(
          {
            err: result.error,
            connectionId: connection.id,
            inboxId: delivery.id,
            attempts: delivery.attempts + 1,
          },
          'inbox relay: Temporal refused the start; retrying with backoff',
        );
      }
    } catch (err) {
      // Our own failure (database, decryption …): back off this delivery and go on with the next.
      logger.error({ err, inboxId: delivery.id }, 'inbox relay: could not handle the delivery');
      const message = err instanceof Error ? err.message : String(err);
      await this.inbox
        .recordFailure(delivery.id, message, refusedStartBackoffMs(delivery.attempts))
        .catch(() => undefined);
      pass.refused += 1;
    }
  }

  private noteTemporal(pass: RelayPass): void {
    const { logger } = this.deps;
    if (pass.temporalUnavailable && !this.temporalDown) {
      logger.warn('inbox relay: Temporal is unreachable; queued deliveries wait for it');
      this.temporalDown = true;
    } else if (this.temporalDown && !pass.temporalUnavailable && pass.started + pass.alreadyRunning > 0) {
      logger.info('inbox relay: Temporal is reachable again');
      this.temporalDown = false;
    }
    if (pass.started + pass.alreadyRunning + pass.nothingToStart + pass.refused > 0) {
      logger.info(pass, 'inbox relay pass');
    }
  }
}

/** The relay of an API process, configured like its webhook handler (same task queue and check settings). */
export function createInboxRelay(options: {
  config: Pick<
    ApiConfig,
    'TEMPORAL_TASK_QUEUE' | 'VENDOR_POLL_INTERVAL_MS' | 'ACTIVITY_MAX_ATTEMPTS' | 'INBOX_RELAY_INTERVAL_MS'
  >;
  pool: Pool;
  temporal: Client;
  logger: Logger;
  /** Decrypts connection secrets (the API process's box, as createApp's). */
  secretBox: SecretBox;
  connectionIds?: ReadonlySet<string>;
}): InboxRelay {
  const { config } = options;
  return new InboxRelay({
    pool: options.pool,
    connections: new ConnectionRepository(options.pool, options.secretBox),
    temporal: options.temporal,
    logger: options.logger,
    start: {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      pollIntervalMs: config.VENDOR_POLL_INTERVAL_MS,
      maxAttempts: config.ACTIVITY_MAX_ATTEMPTS,
    },
    intervalMs: config.INBOX_RELAY_INTERVAL_MS,
    connectionIds: options.connectionIds,
  });
}
