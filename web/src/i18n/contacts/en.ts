/**
 * The contacts app's English strings (keys `contacts.*`, or `messenger.*` for contacts).
 * Merged into the main catalogue by ../en.ts; the other languages live beside this
 * file and are merged by ./index.ts.
 *
 * The older contacts keys (`contacts.*`, `account.*`, `messenger.*`) stay in ../en.ts;
 * their translations are here (de.ts, fr.ts, ...) with the newer keys below.
 */
export const contactsEn = {
  // ---- server error codes of the contacts product, said as sentences (errText: `messenger.err.<code>`, then `errors.<code>`)
  'messenger.err.account_deleted': 'This account was deleted.',
  'messenger.err.already_in_call': 'You are already in a call.',
  'messenger.err.already_reported': 'You already reported this.',
  'messenger.err.blocked': 'This person does not accept messages or calls from you.',
  'messenger.err.busy': 'They are in another call.',
  'messenger.err.callee_offline': 'They are offline — they will see a missed call.',
  'messenger.err.caller_gone': 'The caller is no longer there.',
  'messenger.err.cannot_call_self': 'You cannot call yourself.',
  'messenger.err.conflict': 'That changed meanwhile — please try again.',
  'messenger.err.edit_window_passed': 'This message is too old to edit.',
  'messenger.err.email_taken': 'An account with this email already exists.',
  'messenger.err.forbidden': 'You are not allowed to do that.',
  'messenger.err.invalid_attachment': 'This file cannot be sent.',
  'messenger.err.invalid_call_state': 'This call is already over.',
  'messenger.err.invalid_credentials': 'Wrong email or password.',
  'messenger.err.invalid_emoji': 'A reaction must be a single emoji.',
  'messenger.err.invalid_reply': 'The message you reply to is not in this conversation.',
  'messenger.err.invalid_upload': 'This file type is not allowed.',
  'messenger.err.message_deleted': 'This message was deleted.',
  'messenger.err.network': 'Network error — check your connection.',
  'messenger.err.not_found': 'Not found — it may have been deleted.',
  'messenger.err.not_your_call': 'This call is not yours.',
  'messenger.err.payload_too_large': 'This is too large to send.',
  'messenger.err.token_expired': 'Your session expired — please log in again.',
  'messenger.err.upload_too_large': 'This file is too large to send.',
  'messenger.err.too_many_reactions': 'You already gave this message the most reactions allowed.',
  'messenger.err.wrong_password': 'The password is wrong.',
  // ---- contacts UI strings added for issue 15 (every string through the catalogue)
  'messenger.ok': 'OK',
  'messenger.attachmentIcon': 'Attachment',
  'messenger.fileSize.b': '{n} B',
  'messenger.fileSize.kb': '{n} KB',
  'messenger.fileSize.mb': '{n} MB',
  'messenger.callQuality': 'Quality {quality}: {details}',
  'messenger.callQualityRtt': '{n} ms round trip',
  'messenger.callQualityLoss': '{n} % loss',
  'messenger.callQualityKbps': '{n} kbit/s',
  'messenger.profile': 'Your profile',
  'messenger.conversationWith': 'Conversation with {name}',
  'messenger.messages': 'Messages',
  'messenger.callScreen': 'Call with {name}',
  'messenger.gatewayReady': 'Connected to the server',
  'messenger.gatewayConnecting': 'Connecting to the server…',
  'messenger.emoji.search': 'Search emoji',
  'messenger.emoji.searchLabel': 'Search for an emoji',
  'messenger.emoji.noResults': 'No emoji found',
  'messenger.emoji.loading': 'Loading emoji…',
  'messenger.emoji.failed': 'The emoji could not be loaded.',
  'messenger.emoji.skinTone': 'Skin tone',
  'messenger.emoji.recent': 'Quick reactions',
  'messenger.closePicker': 'Close the emoji picker',
  'messenger.reactedBy': 'from {names}',
} as const;
