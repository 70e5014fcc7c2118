import type { FramecheckCatalogue } from './index';

export const framecheckDe: FramecheckCatalogue = {
  'framecheck.consent.rule':
    'In Video-Chats können Bilder deiner Kamera automatisch auf Nacktheit geprüft werden. Ein Bild, das gegen die Regeln verstoßen könnte, wird für die Moderation aufbewahrt; alle anderen werden sofort verworfen.',
  'framecheck.hidden.title': 'Das Video deines Gegenübers wurde von der automatischen Moderation ausgeblendet',
  'framecheck.hidden.body': 'Es könnte gegen die Regeln verstoßen. Du kannst zur nächsten Person weitergehen.',
  'framecheck.hidden.next': 'Nächste Person',
  'framecheck.flagged': 'Dein Video wurde für dein Gegenüber ausgeblendet, weil es gegen die Regeln verstoßen könnte.',
  'framecheck.admin.badge': 'automatisch',
  'framecheck.admin.badgeTitle': 'Vom Bild-Klassifikator gemeldet, nicht von einer Person',
  'framecheck.admin.title': 'Automatische Prüfung',
  'framecheck.admin.scores': 'Werte des Klassifikators',
  'framecheck.admin.label': 'Label',
  'framecheck.admin.score': 'Wert',
  'framecheck.admin.noScores': 'Es wurden keine Werte gespeichert.',
  'framecheck.admin.frame': 'Geprüftes Bild',
  'framecheck.admin.frameAlt': 'Das Kamerabild, das der Klassifikator markiert hat',
  'framecheck.admin.frameLoading': 'Bild wird geladen…',
  'framecheck.admin.frameFailed': 'Das Bild konnte nicht geladen werden: {error}',
  'framecheck.admin.markWrong': 'Als falsch markieren',
  'framecheck.admin.marking': 'Wird markiert…',
  'framecheck.admin.markedWrong': 'Als falsch markiert: ein Fehlalarm des Klassifikators.',
  'framecheck.admin.markFailed': 'Konnte nicht als falsch markiert werden: {error}',
};
