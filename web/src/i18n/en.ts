/**
 * The English catalogue: every UI string, by key. Keys are namespaced by feature
 * (`contacts.`, `strangers.`, `admin.`...). Each app's own strings live in its
 * folder here (admin/, contacts/, framecheck/, strangers/: English and every
 * translation) and are spread in below; this file keeps only the keys the apps
 * share (the app shell, call quality, error codes, availability).
 * `{name}` placeholders are filled by `t(key, { name })`.
 */
import { adminEn } from './admin/en';
import { contactsEn } from './contacts/en';
import { framecheckEn } from './framecheck/en';
import { strangersEn } from './strangers/en';

export const en = {
  ...adminEn,
  ...contactsEn,
  ...framecheckEn,
  ...strangersEn,
  // ---- the app shell (both apps: title, navigation, theme, language, moderator warning)
  'app.name': 'Connect',
  'app.tagline.strangers': 'talk to strangers',
  'app.tagline.contacts': 'your contacts',
  'app.nav.strangers': 'Strangers',
  'app.nav.contacts': 'Contacts',
  'app.nav.main': 'Main',
  'app.skip': 'Skip to content',
  'app.theme.label': 'Colour theme',
  'app.theme.system': 'System',
  'app.theme.light': 'Light',
  'app.theme.dark': 'Dark',
  'app.language.label': 'Language of the app',
  'app.warning.title': 'Warning from a moderator:',
  'app.warning.default': 'A moderator has warned you about your behaviour.',
  'app.dismiss': 'Dismiss',
  'app.close': 'Close',
  'app.cancel': 'Cancel',
  // ---- call quality indicator (the strangers call and the contacts call screen)
  'quality.label': 'Connection: {quality}',
  'quality.good': 'good',
  'quality.fair': 'fair',
  'quality.poor': 'poor',
  'quality.details': 'Round trip {rtt} ms · loss {loss} % · {kbps} kbit/s',
  // ---- server error codes as sentences (both apps; contacts first tries messenger.err.*)
  'errors.generic': 'Something went wrong',
  'errors.timeout': 'The server did not answer — please try again.',
  'errors.retryIn': '{message} (try again in {seconds} s)',
  'errors.slowDown': 'Slow down — try again in {seconds} s.',
  'errors.rate_limited': 'You are doing that too often.',
  'errors.not_in_session': 'You are not in a chat right now.',
  'errors.not_queued': 'You are not in the queue.',
  'errors.already_queued': 'You are already looking for a stranger.',
  'errors.invalid_request': 'The app sent something the server did not understand — please reload.',
  'errors.unauthorized': 'Your session expired — please reload the page.',
  'errors.banned': 'This device is banned.',
  'errors.captcha_required': 'Please complete the quick check first.',
  'errors.captcha_failed': 'The quick check failed — please try again.',
  'errors.unavailable': 'Connect is temporarily unavailable. Please try again in a moment.',
  'errors.invalid_payload': 'The app sent something the server did not understand — please reload.',
  'errors.already_in_session': 'You are already in a chat.',
  'errors.internal_error': 'Something went wrong on our side — please try again.',
  // ---- service availability (503 unavailable: database or Redis down)
  'unavailable.retrying': 'Connect is temporarily unavailable — retrying in {seconds} s…',
  'unavailable.failed': 'Connect is temporarily unavailable. Please try again in a moment.',
  'unavailable.reconnecting': 'Connect is temporarily unavailable — reconnecting in {seconds} s…',
} as const;

export type MessageKey = keyof typeof en;
