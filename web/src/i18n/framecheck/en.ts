/**
 * Automatic frame moderation's English strings (keys `framecheck.*`): the rule
 * on the consent screen, the notices in a strangers video chat, and the
 * dashboard's automatic-report panel (admin/AutoReport.tsx). Merged into the
 * main catalogue by ../en.ts; the other languages live beside this file and are
 * merged by ./index.ts.
 */
export const framecheckEn = {
  'framecheck.consent.rule':
    'In video chats, frames of your camera may be checked automatically for nudity. A frame that may break the rules is kept for the moderators; the others are discarded at once.',
  'framecheck.hidden.title': "Your partner's video was hidden by automatic moderation",
  'framecheck.hidden.body': 'It may break the rules. You can go on to someone else.',
  'framecheck.hidden.next': 'Next stranger',
  'framecheck.flagged': 'Your video was hidden from your partner because it may break the rules.',
  'framecheck.admin.badge': 'automatic',
  'framecheck.admin.badgeTitle': 'Filed by the frame classifier, not by a visitor',
  'framecheck.admin.title': 'Automatic check',
  'framecheck.admin.scores': 'Classifier scores',
  'framecheck.admin.label': 'Label',
  'framecheck.admin.score': 'Score',
  'framecheck.admin.noScores': 'No scores were recorded.',
  'framecheck.admin.frame': 'Sampled frame',
  'framecheck.admin.frameAlt': 'The camera frame the classifier flagged',
  'framecheck.admin.frameLoading': 'Loading the frame…',
  'framecheck.admin.frameFailed': 'Could not load the frame: {error}',
  'framecheck.admin.markWrong': 'Mark as wrong',
  'framecheck.admin.marking': 'Marking…',
  'framecheck.admin.markedWrong': 'Marked as wrong: a false positive of the classifier.',
  'framecheck.admin.markFailed': 'Could not mark it as wrong: {error}',
} as const;
