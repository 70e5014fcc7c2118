import type { FramecheckCatalogue } from './index';

export const framecheckPtBR: FramecheckCatalogue = {
  'framecheck.consent.rule':
    'Nos chats de vídeo, imagens da sua câmera podem ser verificadas automaticamente em busca de nudez. Uma imagem que possa violar as regras é guardada para os moderadores; as outras são descartadas na hora.',
  'framecheck.hidden.title': 'O vídeo da outra pessoa foi ocultado pela moderação automática',
  'framecheck.hidden.body': 'Ele pode violar as regras. Você pode passar para outra pessoa.',
  'framecheck.hidden.next': 'Próximo desconhecido',
  'framecheck.flagged': 'Seu vídeo foi ocultado da outra pessoa porque pode violar as regras.',
  'framecheck.admin.badge': 'automático',
  'framecheck.admin.badgeTitle': 'Registrado pelo classificador de imagens, não por um visitante',
  'framecheck.admin.title': 'Verificação automática',
  'framecheck.admin.scores': 'Pontuações do classificador',
  'framecheck.admin.label': 'Rótulo',
  'framecheck.admin.score': 'Pontuação',
  'framecheck.admin.noScores': 'Nenhuma pontuação foi registrada.',
  'framecheck.admin.frame': 'Imagem amostrada',
  'framecheck.admin.frameAlt': 'A imagem da câmera que o classificador sinalizou',
  'framecheck.admin.frameLoading': 'Carregando a imagem…',
  'framecheck.admin.frameFailed': 'Não foi possível carregar a imagem: {error}',
  'framecheck.admin.markWrong': 'Marcar como errado',
  'framecheck.admin.marking': 'Marcando…',
  'framecheck.admin.markedWrong': 'Marcado como errado: um falso positivo do classificador.',
  'framecheck.admin.markFailed': 'Não foi possível marcar como errado: {error}',
};
