import type { FramecheckCatalogue } from './index';

export const framecheckFr: FramecheckCatalogue = {
  'framecheck.consent.rule':
    'Dans les chats vidéo, des images de ta caméra peuvent être vérifiées automatiquement pour détecter la nudité. Une image qui pourrait enfreindre les règles est conservée pour les modérateurs ; les autres sont supprimées aussitôt.',
  'framecheck.hidden.title': 'La vidéo de ton interlocuteur a été masquée par la modération automatique',
  'framecheck.hidden.body': 'Elle pourrait enfreindre les règles. Tu peux passer à quelqu’un d’autre.',
  'framecheck.hidden.next': 'Inconnu suivant',
  'framecheck.flagged': 'Ta vidéo a été masquée pour ton interlocuteur, car elle pourrait enfreindre les règles.',
  'framecheck.admin.badge': 'automatique',
  'framecheck.admin.badgeTitle': 'Signalé par le classificateur d’images, pas par un visiteur',
  'framecheck.admin.title': 'Vérification automatique',
  'framecheck.admin.scores': 'Scores du classificateur',
  'framecheck.admin.label': 'Étiquette',
  'framecheck.admin.score': 'Score',
  'framecheck.admin.noScores': 'Aucun score n’a été enregistré.',
  'framecheck.admin.frame': 'Image prélevée',
  'framecheck.admin.frameAlt': 'L’image de caméra signalée par le classificateur',
  'framecheck.admin.frameLoading': 'Chargement de l’image…',
  'framecheck.admin.frameFailed': 'Impossible de charger l’image : {error}',
  'framecheck.admin.markWrong': 'Marquer comme erroné',
  'framecheck.admin.marking': 'Marquage…',
  'framecheck.admin.markedWrong': 'Marqué comme erroné : un faux positif du classificateur.',
  'framecheck.admin.markFailed': 'Impossible de le marquer comme erroné : {error}',
};
