/** The strangers controller (state machine and its parts); see ChatController.ts. */
export { ChatController, type ControllerDeps } from './ChatController';
export { AUTO_REQUEUE_MS } from './waiting';
export {
  initialState,
  statusText,
  endText,
  MAX_MESSAGE_CHARS,
  type ChatLine,
  type ChatState,
  type AppealState,
  type CaptchaState,
  type Phase,
  type Screen,
  type StartOptions,
  type PartnerMedia,
  type ShownReaction,
} from './state';
