import type { FramecheckCatalogue } from './index';

export const framecheckAr: FramecheckCatalogue = {
  'framecheck.consent.rule':
    'في محادثات الفيديو قد تُفحص لقطات من كاميرتك تلقائيًا بحثًا عن العري. تُحفظ اللقطة التي قد تخالف القواعد للمشرفين، وتُحذف اللقطات الأخرى فورًا.',
  'framecheck.hidden.title': 'أخفى الإشراف التلقائي فيديو الطرف الآخر',
  'framecheck.hidden.body': 'قد يخالف القواعد. يمكنك الانتقال إلى شخص آخر.',
  'framecheck.hidden.next': 'الغريب التالي',
  'framecheck.flagged': 'أُخفي الفيديو الخاص بك عن الطرف الآخر لأنه قد يخالف القواعد.',
  'framecheck.admin.badge': 'تلقائي',
  'framecheck.admin.badgeTitle': 'أبلغ عنه مصنّف الصور، وليس زائرًا',
  'framecheck.admin.title': 'فحص تلقائي',
  'framecheck.admin.scores': 'درجات المصنّف',
  'framecheck.admin.label': 'التصنيف',
  'framecheck.admin.score': 'الدرجة',
  'framecheck.admin.noScores': 'لم تُسجَّل أي درجات.',
  'framecheck.admin.frame': 'اللقطة المفحوصة',
  'framecheck.admin.frameAlt': 'لقطة الكاميرا التي علّمها المصنّف',
  'framecheck.admin.frameLoading': 'جارٍ تحميل اللقطة…',
  'framecheck.admin.frameFailed': 'تعذّر تحميل اللقطة: {error}',
  'framecheck.admin.markWrong': 'تعليم كخطأ',
  'framecheck.admin.marking': 'جارٍ التعليم…',
  'framecheck.admin.markedWrong': 'عُلّم كخطأ: إنذار كاذب من المصنّف.',
  'framecheck.admin.markFailed': 'تعذّر تعليمه كخطأ: {error}',
};
