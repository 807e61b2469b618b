import express from 'express';
import { FaultyEmulator, faultRoutes } from './faults';
import { param } from './kit';
import { linkBaseRoutes } from './link-base';
import { WebhookSender } from './webhook-sender';
import type { DeliveryRecord, WebhookSenderOptions } from './webhook-sender';

/**
 * What the vendor emulators that send signed callbacks (Certn, Justifacts, VICTIG) share beyond the HTTP shell of
 * kit.ts: auto-advance on a timer, the callback sender with its deliveries, `stop()`, and the `/_sandbox` control
 * routes for deliveries, faults and the link base. What each vendor's orders are and how they move stays in its
 * own file.
 */

export interface CallbackEmulatorOptions {
  /** null/undefined: orders (cases) move only through advance()/setStatus(); a number: one step every N ms. */
  autoAdvanceMs?: number | null;
  /** Delays before each retry of a failed callback (webhook) delivery. Default [200, 1000, 5000]. */
  webhookRetryDelaysMs?: number[];
}

const DEFAULT_RETRY_DELAYS_MS = [200, 1000, 5000];
const CALLBACK_TIMEOUT_MS = 10_000;

/** Faults (`FaultyEmulator`): a dropped callback is never sent nor retried; only polling sees that change. */
export abstract class CallbackEmulator<D extends DeliveryRecord> extends FaultyEmulator {
  readonly autoAdvanceMs: number | null;
  readonly webhookRetryDelaysMs: number[];
  /** Absolute base URL of the links the emulator hands out; falls back to the request's Host header when null. */
  publicUrl: string | null = null;

  protected readonly webhooks: WebhookSender<D>;
  readonly #autoTimers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  /** `sender`: the vendor's signature header, User-Agent and redirect handling. */
  constructor(
    opts: CallbackEmulatorOptions,
    sender: Pick<WebhookSenderOptions, 'signatureHeader' | 'userAgent' | 'redirect'>,
  ) {
    super();
    this.autoAdvanceMs = opts.autoAdvanceMs ?? null;
    this.webhookRetryDelaysMs = opts.webhookRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.webhooks = new WebhookSender({
      retryDelaysMs: this.webhookRetryDelaysMs,
      timeoutMs: CALLBACK_TIMEOUT_MS,
      ...sender,
      faults: this.faultInjector,
    });
  }

  /** One step of the order (case) `id`; resolves after the first delivery attempt of its callback. */
  abstract advance(id: string): Promise<unknown>;

  /** Whether the order (case) `id` exists and has a next step for advance(). */
  protected abstract hasNextStep(id: string): boolean;

  /** The emulator's own 404 for an unknown delivery. */
  protected abstract deliveryNotFound(deliveryId: string): Error;

  deliveries(): D[] {
    return this.webhooks.deliveries();
  }

  /** Sends the delivery's same body again now; resolves with the delivery after that attempt. */
  async redeliver(deliveryId: string): Promise<D> {
    const delivery = await this.webhooks.redeliver(deliveryId);
    if (!delivery) throw this.deliveryNotFound(deliveryId);
    return delivery;
  }

  /** Stops auto-advance and retry timers and aborts callback requests in flight. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#autoTimers.values()) clearTimeout(t);
    this.#autoTimers.clear();
    this.webhooks.stop();
    this.faultInjector.stop();
  }

  /**
   * With auto-advance on, advances `id` one step after `autoAdvanceMs`, and so on until it has no next step. A
   * no-op when it has a timer already (the timer counts until its step has settled).
   */
  protected scheduleAuto(id: string): void {
    const ms = this.autoAdvanceMs;
    if (ms === null || this.#stopped || this.#autoTimers.has(id)) return;
    if (!this.hasNextStep(id)) return;
    const timer = setTimeout(() => {
      void (async () => {
        try {
          await this.advance(id);
        } catch {
          // the order reached a state without a next step meanwhile
        } finally {
          this.#autoTimers.delete(id);
          this.scheduleAuto(id);
        }
      })();
    }, ms);
    this.#autoTimers.set(id, timer);
  }
}

/**
 * The `/_sandbox` control routes every callback emulator has: `GET /deliveries`, `POST /deliveries/:id/redeliver`,
 * `/faults` (faults.ts) and `/link-base` (link-base.ts).
 */
export function callbackControlRoutes<D extends DeliveryRecord>(
  emulator: CallbackEmulator<D>,
): express.Router {
  const router = express.Router();
  router.get('/deliveries', (_req, res) => {
    res.json(emulator.deliveries());
  });
  router.post('/deliveries/:id/redeliver', async (req, res) => {
    res.json(await emulator.redeliver(param(req, 'id')));
  });
  router.use('/faults', faultRoutes(emulator.faultInjector));
  router.use('/link-base', linkBaseRoutes(emulator));
  return router;
}
