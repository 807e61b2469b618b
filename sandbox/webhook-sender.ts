/**
 * The signed-callback sender shared by the vendor emulators (Certn, Justifacts, VICTIG): it keeps the delivery
 * records, sends each one (fault injection may drop or delay it first), retries a failed first attempt on a
 * timer after each configured delay, sends a delivery again on demand, and on `stop()` clears the retry timers
 * and aborts the requests in flight. What differs per vendor (signature header, User-Agent, redirect handling,
 * retry delays, timeout) comes in as options; the emulator builds the record (event, body, signature).
 */

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed' | 'dropped';

export interface DeliveryAttempt {
  at: string;
  statusCode: number | null;
  error: string | null;
}

/** The fields the sender reads and writes; an emulator's delivery type adds its own (event, order id, …). */
export interface DeliveryRecord {
  id: string;
  url: string;
  /** The exact bytes sent (and signed). */
  body: string;
  /** Sent in the signature header; no header when null. */
  signature: string | null;
  attempts: DeliveryAttempt[];
  /** `dropped`: fault injection decided the callback is never sent (no attempt, no retry). */
  status: DeliveryStatus;
}

/** The callback side of a `FaultInjector`. */
export interface CallbackFaults {
  callback(): { drop: boolean; delayMs: number };
  sleep(ms: number): Promise<void>;
}

export interface WebhookSenderOptions {
  /** Delays before each retry of a failed delivery; after the last one the delivery is `failed`. */
  retryDelaysMs: readonly number[];
  /** Timeout of one attempt (a timeout counts as a failed attempt). */
  timeoutMs: number;
  /** Header carrying `delivery.signature`. */
  signatureHeader: string;
  /** User-Agent header; fetch's default when absent. */
  userAgent?: string;
  /** fetch's redirect mode; its default (`follow`) when absent. */
  redirect?: 'follow' | 'manual' | 'error';
  /** Decides, per delivery, whether it is dropped or sent late; every delivery is sent at once when absent. */
  faults?: CallbackFaults;
}

function now(): string {
  return new Date().toISOString();
}

export class WebhookSender<D extends DeliveryRecord> {
  readonly #opts: WebhookSenderOptions;
  #deliveries = new Map<string, D>();
  #retryTimers = new Set<NodeJS.Timeout>();
  #shutdown = new AbortController();
  #stopped = false;

  constructor(opts: WebhookSenderOptions) {
    this.#opts = opts;
  }

  /** Copies of every delivery, oldest first. */
  deliveries(): D[] {
    return [...this.#deliveries.values()].map((d) => structuredClone(d));
  }

  /**
   * Records the delivery and sends it, unless fault injection drops it. Resolves after the first attempt;
   * a failed one is retried on a timer.
   */
  async send(delivery: D): Promise<void> {
    this.#deliveries.set(delivery.id, delivery);
    if (this.#opts.faults) {
      const fault = this.#opts.faults.callback();
      if (fault.drop) {
        delivery.status = 'dropped';
        return;
      }
      await this.#opts.faults.sleep(fault.delayMs);
    }
    await this.#deliverWithRetries(delivery, 0);
  }

  /** Sends the delivery's same body again now; resolves with a copy after that attempt, null when unknown. */
  async redeliver(deliveryId: string): Promise<D | null> {
    const delivery = this.#deliveries.get(deliveryId);
    if (!delivery) return null;
    const ok = await this.#attempt(delivery);
    if (ok) delivery.status = 'delivered';
    return structuredClone(delivery);
  }

  /** Clears the retry timers and aborts the requests in flight; a failed attempt is not retried any more. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    this.#shutdown.abort();
  }

  async #deliverWithRetries(delivery: D, retryIndex: number): Promise<void> {
    if (delivery.status === 'delivered') return;
    const ok = await this.#attempt(delivery);
    // A redeliver() may have succeeded while this attempt was in flight.
    if ((delivery.status as DeliveryStatus) === 'delivered') return;
    if (ok) {
      delivery.status = 'delivered';
      return;
    }
    const delay = this.#opts.retryDelaysMs[retryIndex];
    if (delay === undefined || this.#stopped) {
      delivery.status = 'failed';
      return;
    }
    delivery.status = 'retrying';
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      void this.#deliverWithRetries(delivery, retryIndex + 1);
    }, delay);
    this.#retryTimers.add(timer);
  }

  async #attempt(delivery: D): Promise<boolean> {
    const { signatureHeader, userAgent, redirect, timeoutMs } = this.#opts;
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (userAgent !== undefined) headers['User-Agent'] = userAgent;
    if (delivery.signature) headers[signatureHeader] = delivery.signature;
    const at = now();
    try {
      const res = await fetch(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        ...(redirect !== undefined ? { redirect } : {}),
        signal: AbortSignal.any([this.#shutdown.signal, AbortSignal.timeout(timeoutMs)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      delivery.attempts.push({ at, statusCode: res.status, error: null });
      return res.ok;
    } catch (err) {
      delivery.attempts.push({
        at,
        statusCode: null,
        error: err instanceof Error ? err.message : String(err),
      });
      return false;
    }
  }
}
