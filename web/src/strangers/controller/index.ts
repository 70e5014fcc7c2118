/** The strangers controller (state machine and its parts); see ChatController.ts. */
export { ChatController, AUTO_REQUEUE_MS, type ControllerDeps } from './ChatController';
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
