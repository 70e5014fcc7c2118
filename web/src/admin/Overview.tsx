import type { AdminApi } from './api';
import type { Tab } from './App';
import type { Stats } from './types';
import { ErrorLine, fmtClock, fmtNumber, usePoll } from './util';
import { useState } from 'react';

export function Overview({ api, onNavigate }: { api: AdminApi; onNavigate: (t: Tab) => void }) {
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
        <h2>Overview</h2>
        <span className="muted small">{updatedAt ? `updated ${fmtClock(updatedAt)} · refreshes every 5 s` : 'loading…'}</span>
      </div>
      <ErrorLine error={stats.error} />
      <div className="stats">
        <Stat label="Connections" testId="stat-connections" value={s?.connections} />
        <Stat
          label="Waiting"
          testId="stat-waiting"
          value={waiting}
          sub={s ? `video ${s.waiting?.video ?? 0} · text ${s.waiting?.text ?? 0}` : undefined}
        />
        <Stat label="Live sessions" testId="stat-sessions" value={s?.liveSessions} onClick={() => onNavigate('sessions')} />
        <Stat label="Matches / min" testId="stat-matches-per-minute" value={s?.matchesPerMinute} />
        <Stat
          label="Reports pending"
          testId="stat-reports-pending"
          value={s?.reportsPending}
          alert={(s?.reportsPending ?? 0) > 0}
          onClick={() => onNavigate('reports')}
        />
        <Stat label="Active bans" testId="stat-active-bans" value={s?.activeBans} onClick={() => onNavigate('bans')} />
        <Stat
          label="Appeals pending"
          testId="stat-appeals-pending"
          value={s?.appealsPending}
          alert={(s?.appealsPending ?? 0) > 0}
          onClick={() => onNavigate('appeals')}
        />
      </div>
    </section>
  );
}

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
  return (
    <div className={`stat ${alert ? 'alert' : ''} ${onClick ? 'clickable' : ''}`} onClick={onClick}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {fmtNumber(value)}
      </div>
      {sub && <div className="stat-sub">{sub}</div>}
    </div>
  );
}
