/**
 * Test-only: a WebSocket the test drives by hand, for unit tests of the gateway
 * client's users (the strangers controller, frame checks, contacts). `FakeSocket.last`
 * is the socket most recently opened by the code under test.
 */
import type { WebSocketLike } from './client';

export class FakeSocket implements WebSocketLike {
  static last: FakeSocket | null = null;
  readyState = 0;
  // The frames the code under test sent, parsed.
  sent: any[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.last = this;
  }
  send(d: string) {
    this.sent.push(JSON.parse(d));
  }
  close() {
    this.readyState = 3;
  }
  /** The server accepts the connection. */
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** The server sends `event`. */
  push(event: string, data: unknown) {
    this.onmessage?.({ data: JSON.stringify({ event, data }) });
  }
  /** The server acknowledges the last request that asked for an ack. */
  ackLast(extra: Record<string, unknown> = {}) {
    const f = [...this.sent].reverse().find((x) => typeof x.id === 'number');
    this.onmessage?.({ data: JSON.stringify({ ack: f.id, ok: true, ...extra }) });
  }
  /** The server refuses the last request that asked for an ack. */
  nackLast(error: { code: string; message: string }) {
    const f = [...this.sent].reverse().find((x) => typeof x.id === 'number');
    this.onmessage?.({ data: JSON.stringify({ ack: f.id, ok: false, error }) });
  }
  /** The names of the events sent so far. */
  events() {
    return this.sent.map((f) => f.event);
  }
  /** The last frame sent of `event`. */
  last(event: string) {
    return [...this.sent].reverse().find((f) => f.event === event);
  }
}
