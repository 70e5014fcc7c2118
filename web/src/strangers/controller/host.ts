/** What the controller's parts (captcha, media, chat, reporting) need from the controller. */
import type { GatewayClient } from '../../gateway/client';
import type { ChatState } from './state';

export interface Host {
  readonly gateway: GatewayClient;
  state(): ChatState;
  set(patch: Partial<ChatState>): void;
  notify(text: string, ms?: number): void;
}
