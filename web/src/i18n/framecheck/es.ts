import type { FramecheckCatalogue } from './index';

export const framecheckEs: FramecheckCatalogue = {
  'framecheck.consent.rule':
    'En los chats de vídeo, las imágenes de tu cámara pueden revisarse automáticamente para detectar desnudos. Una imagen que pueda infringir las normas se guarda para los moderadores; las demás se descartan al instante.',
  'framecheck.hidden.title': 'La moderación automática ocultó el vídeo de tu compañero',
  'framecheck.hidden.body': 'Podría infringir las normas. Puedes pasar a otra persona.',
  'framecheck.hidden.next': 'Siguiente desconocido',
  'framecheck.flagged': 'Tu vídeo se ocultó a tu compañero porque podría infringir las normas.',
  'framecheck.admin.badge': 'automático',
  'framecheck.admin.badgeTitle': 'Presentado por el clasificador de imágenes, no por un visitante',
  'framecheck.admin.title': 'Revisión automática',
  'framecheck.admin.scores': 'Puntuaciones del clasificador',
  'framecheck.admin.label': 'Etiqueta',
  'framecheck.admin.score': 'Puntuación',
  'framecheck.admin.noScores': 'No se registraron puntuaciones.',
  'framecheck.admin.frame': 'Imagen muestreada',
  'framecheck.admin.frameAlt': 'La imagen de la cámara que marcó el clasificador',
  'framecheck.admin.frameLoading': 'Cargando la imagen…',
  'framecheck.admin.frameFailed': 'No se pudo cargar la imagen: {error}',
  'framecheck.admin.markWrong': 'Marcar como erróneo',
  'framecheck.admin.marking': 'Marcando…',
  'framecheck.admin.markedWrong': 'Marcado como erróneo: un falso positivo del clasificador.',
  'framecheck.admin.markFailed': 'No se pudo marcar como erróneo: {error}',
};
