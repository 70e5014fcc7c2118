/**
 * The heartbeat of a welcomed socket: `ping` every heartbeatMs (the server's
 * figure from welcome); a connection from which nothing at all has arrived
 * for 2 × heartbeatMs + 5 s is silent (e.g. the network changed), and the
 * client drops it and reconnects.
 */
import type { Timers } from './types';

export interface HeartbeatOptions extends Timers {
  now: () => number;
  /** The socket is still the welcomed one (else the heartbeat just stops). */
  alive: () => boolean;
  ping: () => void;
  /** Nothing arrived for too long: drop the socket. */
  silent: () => void;
}

export class Heartbeat {
  private timer: unknown = null;
  private lastReceived = 0;

  constructor(private readonly o: HeartbeatOptions) {}

  /** Something arrived (or the socket opened). */
  received(): void {
    this.lastReceived = this.o.now();
  }

  /** (Re)start with the server's interval; 0: no heartbeat. */
  start(intervalMs: number): void {
    this.stop();
    if (!intervalMs) return;
    const tick = () => {
      this.timer = null;
      if (!this.o.alive()) return;
      if (this.o.now() - this.lastReceived > 2 * intervalMs + 5000) {
        this.o.silent();
        return;
      }
      this.o.ping();
      this.timer = this.o.setT(tick, intervalMs);
    };
    this.timer = this.o.setT(tick, intervalMs);
  }

  stop(): void {
    if (this.timer !== null) {
      this.o.clearT(this.timer);
      this.timer = null;
    }
  }
}
