/**
 * The English catalogue: every UI string, by key. Keys are namespaced by feature
 * (`contacts.`, `strangers.`, `admin.`...); add yours in your own section.
 * `{name}` placeholders are filled by `t(key, { name })`.
 */
export const en = {
  // ---- contacts: safety (block, report)
  'contacts.block': 'Block',
  'contacts.unblock': 'Unblock',
  'contacts.blockConfirm': 'Block {name}? They will not be able to message or call you, and you will not see them in search.',
  'contacts.blockedBanner': 'You blocked {name}. They cannot message or call you.',
  'contacts.blockedNotice': 'You blocked {name}.',
  'contacts.unblockedNotice': 'You unblocked {name}.',
  'contacts.blockedList': 'Blocked people',
  'contacts.blockedListEmpty': 'You have not blocked anyone.',
  'contacts.blockedListToggle': 'Blocked people ({count})',
  'contacts.report': 'Report',
  'contacts.reportUser': 'Report {name}',
  'contacts.reportMessage': 'Report this message',
  'contacts.reportMessageShort': 'Report',
  'contacts.reportTitleUser': 'Report {name} to the moderators',
  'contacts.reportTitleMessage': 'Report this message from {name} to the moderators',
  'contacts.reportReason': 'Reason',
  'contacts.reportComment': 'Comment (optional)',
  'contacts.reportSend': 'Send report',
  'contacts.reportSending': 'Sending…',
  'contacts.reportCancel': 'Cancel',
  'contacts.reportDone': 'Thanks — your report was sent to the moderators.',
  'contacts.reportAlsoBlock': 'Also block {name}',
  'contacts.close': 'Close',
  'contacts.reason.nudity': 'Nudity',
  'contacts.reason.harassment': 'Harassment',
  'contacts.reason.spam': 'Spam',
  'contacts.reason.underage': 'Underage',
  'contacts.reason.violence': 'Violence',
  'contacts.reason.other': 'Other',
  // ---- strangers: "don't match me with this person again"
  'strangers.avoid.next': "Next, don't show again",
  'strangers.avoid.nextLabel': "Next and don't show me this person again",
  'strangers.avoid.report': "Don't match me with this person again",
  'strangers.avoid.done': 'You will not be matched with this person again.',
  'strangers.avoid.failed': 'That chat is too old to remember — looking for someone new.',
  // ---- service availability (503 unavailable: database or Redis down)
  'unavailable.retrying': 'Connect is temporarily unavailable — retrying in {seconds} s…',
  'unavailable.failed': 'Connect is temporarily unavailable. Please try again in a moment.',
  'unavailable.reconnecting': 'Connect is temporarily unavailable — reconnecting in {seconds} s…',
} as const;

export type MessageKey = keyof typeof en;
