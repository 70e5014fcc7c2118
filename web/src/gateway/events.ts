/**
 * The client's subscribers: handlers by event name (server events and the
 * client's own lifecycle events alike), called in subscription order. A
 * handler that throws is logged and does not stop the others or the client.
 */

// Payloads are typed by GatewayClient.on()'s overloads; here they are opaque.
export type Handler = (data: any) => void;

export class EventHandlers {
  private readonly handlers = new Map<string, Set<Handler>>();

  /** Subscribe; returns the unsubscribe function. */
  on(event: string, handler: Handler): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler);
    return () => {
      set!.delete(handler);
    };
  }

  dispatch(event: string, data: unknown): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const h of [...set]) {
      try {
        h(data);
      } catch (err) {
        // A failing handler must not break the client.
        console.error(`GatewayClient: handler for "${event}" threw`, err);
      }
    }
  }
}
