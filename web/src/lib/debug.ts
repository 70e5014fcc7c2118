/**
 * `window.__connect` for end-to-end tests: `{pc, sessionId, callId, connectionId, controller, contacts}`.
 * The strangers app and the contacts product each publish their own slot; the
 * active direct call (contacts) wins for pc/sessionId.
 */
import type { ChatController } from './controller';
import type { ContactsController } from './contacts';

export interface DebugSlot {
  pc: RTCPeerConnection | null;
  sessionId: string | null;
  callId?: string | null;
  connectionId?: string | null;
}

export interface ConnectDebug {
  pc: RTCPeerConnection | null;
  sessionId: string | null;
  callId: string | null;
  connectionId: string | null;
  controller?: ChatController;
  contacts?: ContactsController;
}

declare global {
  interface Window {
    __connect?: ConnectDebug;
  }
}

const slots: {
  strangers?: DebugSlot & { controller: ChatController };
  contacts?: DebugSlot & { controller: ContactsController };
} = {};

export function publishStrangers(slot: DebugSlot & { controller: ChatController }): void {
  slots.strangers = slot;
  render();
}

export function publishContacts(slot: DebugSlot & { controller: ContactsController }): void {
  slots.contacts = slot;
  render();
}

function render(): void {
  if (typeof window === 'undefined') return;
  const s = slots.strangers;
  const c = slots.contacts;
  const callOn = Boolean(c && (c.pc || c.sessionId));
  window.__connect = {
    pc: (callOn ? c!.pc : null) ?? s?.pc ?? null,
    sessionId: callOn ? c!.sessionId : (s?.sessionId ?? null),
    callId: c?.callId ?? null,
    connectionId: c?.connectionId ?? s?.connectionId ?? null,
    controller: s?.controller,
    contacts: c?.controller,
  };
}
