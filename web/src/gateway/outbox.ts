/**
 * What the client sends that the server has not taken yet: frames buffered
 * (bounded, oldest dropped) until the socket is welcomed, and requests waiting
 * for their ack — matched by id, rejected on a nack, a timeout or a lost
 * socket, and sent again after the server's retryAfterMs when nacked
 * `unavailable` (a few times, within the request's timeout).
 */
import { GatewayError, type AckOk, type Timers } from './types';

interface Pending {
  resolve: (v: AckOk) => void;
  reject: (e: GatewayError) => void;
  timer: unknown;
  sent: boolean;
  frame: string;
  deadline: number;
  retries: number;
}

interface Queued {
  frame: string;
  /** Set for a request: its pending entry is settled when the frame is dropped. */
  id?: number;
}

/** What the outbox needs from the client and its socket. */
export interface OutboxIo extends Timers {
  /** The socket is welcomed: frames go out at once. */
  ready(): boolean;
  /** Write one frame (dropped when the socket is not open). */
  send(frame: string): void;
  now(): number;
  /** [0, 1), the jitter of an `unavailable` retry. */
  random(): number;
}

export class Outbox {
  private nextId = 1;
  private queue: Queued[] = [];
  private pending = new Map<number, Pending>();

  constructor(
    private readonly io: OutboxIo,
    private readonly limits: { maxQueue: number; unavailableRetries: number },
  ) {}

  /** Fire and forget: sent now when welcomed, else buffered. */
  emit(event: string, data: object): void {
    const frame = JSON.stringify({ event, data });
    if (this.io.ready()) this.io.send(frame);
    else this.enqueue({ frame });
  }

  /** Send with an id and settle on its ack, or reject after timeoutMs. */
  request(event: string, data: object, timeoutMs: number): Promise<AckOk> {
    const id = this.nextId++;
    const frame = JSON.stringify({ event, data, id });
    return new Promise<AckOk>((resolve, reject) => {
      const timer = this.io.setT(() => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        this.queue = this.queue.filter((q) => q.id !== id);
        reject(new GatewayError('timeout', `no answer to ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      const p: Pending = { resolve, reject, timer, sent: false, frame, deadline: this.io.now() + timeoutMs, retries: 0 };
      this.pending.set(id, p);
      if (this.io.ready()) {
        p.sent = true;
        this.io.send(frame);
      } else {
        this.enqueue({ frame, id });
      }
    });
  }

  /** An ack frame from the server: `{ack, ok: true, ...}` or `{ack, ok: false, error, retryAfterMs?}`. */
  onAck(msg: any): void {
    const p = this.pending.get(msg.ack);
    if (!p) return;
    const retryMs = typeof msg.retryAfterMs === 'number' ? msg.retryAfterMs : undefined;
    if (!msg.ok && msg.error?.code === 'unavailable' && this.retryLater(msg.ack, p, retryMs ?? 1000)) return;
    this.pending.delete(msg.ack);
    this.io.clearT(p.timer);
    if (msg.ok) {
      p.resolve(msg as AckOk);
    } else {
      const e = msg.error ?? {};
      p.reject(
        new GatewayError(
          String(e.code ?? 'error'),
          String(e.message ?? 'request failed'),
          typeof msg.retryAfterMs === 'number' ? msg.retryAfterMs : undefined,
          typeof e.reason === 'string' ? { reason: e.reason, params: e.params ?? {} } : undefined,
        ),
      );
    }
  }

  /** The socket was welcomed: send the frames buffered meanwhile, in order. */
  flush(): void {
    const queued = this.queue;
    this.queue = [];
    for (const item of queued) {
      if (item.id !== undefined) {
        const p = this.pending.get(item.id);
        if (!p) continue; // timed out meanwhile
        p.sent = true;
      }
      this.io.send(item.frame);
    }
  }

  /** Reject requests already sent (and, with includeQueued, those still buffered, dropping every buffered frame). */
  failPending(code: string, message: string, includeQueued: boolean): void {
    for (const [id, p] of [...this.pending]) {
      if (p.sent || includeQueued) this.rejectPending(id, code, message);
    }
    if (includeQueued) this.queue = [];
  }

  private enqueue(item: Queued): void {
    this.queue.push(item);
    while (this.queue.length > this.limits.maxQueue) {
      const dropped = this.queue.shift()!;
      if (dropped.id !== undefined) this.rejectPending(dropped.id, 'queue-full', 'send queue full');
    }
  }

  private rejectPending(id: number, code: string, message: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.io.clearT(p.timer);
    p.reject(new GatewayError(code, message));
  }

  /**
   * Send a request nacked `unavailable` again after `retryMs` (plus jitter), when it
   * has retries left and the answer can still come within its timeout.
   */
  private retryLater(id: number, p: Pending, retryMs: number): boolean {
    const delay = Math.round(retryMs * (1 + 0.5 * this.io.random()));
    if (p.retries >= this.limits.unavailableRetries || this.io.now() + delay >= p.deadline) return false;
    p.retries += 1;
    p.sent = false;
    this.io.setT(() => {
      if (this.pending.get(id) !== p) return; // settled meanwhile (timeout, close)
      if (this.io.ready()) {
        p.sent = true;
        this.io.send(p.frame);
      } else {
        this.enqueue({ frame: p.frame, id });
      }
    }, delay);
    return true;
  }
}
