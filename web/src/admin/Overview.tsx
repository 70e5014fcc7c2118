/** Live figures (polled every 5 s); the ones with a queue behind them open it. */
import { useState } from 'react';
import { hasKey, useT } from '../i18n';
import type { AdminApi } from './api';
import type { Tab } from './App';
import type { Stats, TurnStatus } from './types';
import { ErrorLine, fmtClock, fmtNumber, usePoll } from './util';

export function Overview({ api, onNavigate }: { api: AdminApi; onNavigate: (t: Tab) => void }) {
  const t = useT();
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const stats = usePoll(
    async () => {
      const s = await api.get<Stats>('/api/admin/stats');
      setUpdatedAt(Date.now());
      return s;
    },
    5000,
    [],
  );
  const s = stats.data;
  const waiting = s ? (s.waiting?.video ?? 0) + (s.waiting?.text ?? 0) : null;

  return (
    <section>
      <div className="section-head">
        <h1>{t('admin.overview.title')}</h1>
        <span className="muted small">{updatedAt ? t('admin.overview.updated', { time: fmtClock(updatedAt) }) : t('admin.loading')}</span>
      </div>
      <ErrorLine error={stats.error} />
      <div className="stats">
        <Stat label={t('admin.overview.connections')} testId="stat-connections" value={s?.connections} />
        <Stat
          label={t('admin.overview.waiting')}
          testId="stat-waiting"
          value={waiting}
          sub={s ? t('admin.overview.waitingSplit', { video: fmtNumber(s.waiting?.video ?? 0), text: fmtNumber(s.waiting?.text ?? 0) }) : undefined}
        />
        <Stat label={t('admin.overview.sessions')} testId="stat-sessions" value={s?.liveSessions} onClick={() => onNavigate('sessions')} />
        <Stat label={t('admin.overview.matches')} testId="stat-matches-per-minute" value={s?.matchesPerMinute} />
        <Stat
          label={t('admin.overview.reports')}
          testId="stat-reports-pending"
          value={s?.reportsPending}
          alert={(s?.reportsPending ?? 0) > 0}
          onClick={() => onNavigate('reports')}
        />
        <Stat label={t('admin.overview.bans')} testId="stat-active-bans" value={s?.activeBans} onClick={() => onNavigate('bans')} />
        <Stat
          label={t('admin.overview.appeals')}
          testId="stat-appeals-pending"
          value={s?.appealsPending}
          alert={(s?.appealsPending ?? 0) > 0}
          onClick={() => onNavigate('appeals')}
        />
        {s?.turn && s.turn.length > 0 && <TurnStat turn={s.turn} />}
      </div>
    </section>
  );
}

/** TURN/STUN URLs answering Connect's probe; the failing ones named, with why. */
function TurnStat({ turn }: { turn: TurnStatus[] }) {
  const t = useT();
  const down = turn.filter((x) => !x.up);
  const reason = (x: TurnStatus) => {
    const key = `admin.overview.turnReason.${x.reason}`;
    return hasKey(key) ? t(key) : x.reason;
  };
  const sub = down.length
    ? down.map((x) => t('admin.overview.turnDown', { url: x.url, reason: reason(x) })).join(' · ')
    : t('admin.overview.turnAllUp', { total: fmtNumber(turn.length) });
  return <Stat label={t('admin.overview.turn')} testId="stat-turn-up" value={turn.length - down.length} sub={sub} alert={down.length > 0} />;
}

/** One figure; a clickable one is a real button (keyboard and screen readers). */
function Stat({
  label,
  value,
  testId,
  sub,
  alert,
  onClick,
}: {
  label: string;
  value: number | null | undefined;
  testId: string;
  sub?: string;
  alert?: boolean;
  onClick?: () => void;
}) {
  const body = (
    <>
      <span className="stat-label">{label}</span>
      <span className="stat-value" data-testid={testId}>
        {fmtNumber(value)}
      </span>
      {sub && <span className="stat-sub">{sub}</span>}
    </>
  );
  const cls = `stat ${alert ? 'alert' : ''}`;
  return onClick ? (
    <button type="button" className={`${cls} clickable`} onClick={onClick}>
      {body}
    </button>
  ) : (
    <div className={cls}>{body}</div>
  );
}
