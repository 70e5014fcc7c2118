/** Reporting a stranger and appealing a ban: the strangers controller's REST side. */
import { ApiError, postAppeal, postReport, type ReportResult } from '../../lib/api';
import type { ReportReason } from '../../protocol';
import { t } from '../../i18n';
import type { Host } from './host';

export async function sendReport(
  host: Host,
  getToken: () => Promise<string>,
  fetchImpl: typeof fetch | undefined,
  r: { reason: ReportReason; comment: string; evidence?: string | null; avoid: boolean },
): Promise<ReportResult> {
  const sessionId = host.state().reportableSessionId;
  if (!sessionId) throw new Error(t('report.nothing'));
  const token = await getToken();
  return postReport(token, { sessionId, reason: r.reason, comment: r.comment, evidence: r.evidence ?? null, avoid: r.avoid }, fetchImpl);
}

/** Ban screen: POST /api/appeals with the ban's appeal token. */
export async function sendAppeal(host: Host, raw: string, fetchImpl: typeof fetch | undefined): Promise<void> {
  const s = host.state();
  const text = raw.trim();
  const token = s.ban?.appeal?.token;
  if (s.appeal.status === 'sending' || s.appeal.status === 'done') return;
  if (!token) return host.set({ appeal: { status: 'error', error: t('ban.appealNoToken') } });
  if (!text) return host.set({ appeal: { status: 'error', error: t('ban.appealEmpty') } });
  host.set({ appeal: { status: 'sending', error: null } });
  try {
    await postAppeal(token, text, fetchImpl);
    host.set({ appeal: { status: 'done', error: null } });
  } catch (err) {
    const e = err as ApiError;
    if (e?.code === 'already_appealed') host.set({ appeal: { status: 'already', error: t('ban.appealAlready') } });
    else host.set({ appeal: { status: 'error', error: e?.message || t('ban.appealFailed') } });
  }
}
