import { useEffect, useState, type FormEvent } from 'react';
import { t, useT } from '../i18n';
import type { AdminApi } from './api';
import type { Ban, BanScope } from './types';
import { banReason, describeBan, type BanPreviewReply } from './banText';
import { DurationSelect, ErrorLine, Mono, TableScroll, Time, durationHours, errorMessage, label, useDebounced, usePoll } from './util';

export function banState(b: Ban): string {
  if (b.active) return 'active';
  if (b.liftedAt) return 'lifted';
  return 'expired';
}

export function Bans({ api }: { api: AdminApi }) {
  useT();
  const [query, setQuery] = useState('');
  const [activeOnly, setActiveOnly] = useState(true);
  const q = useDebounced(query.trim(), 250);
  const list = usePoll(
    () => {
      const p = new URLSearchParams({ query: q, limit: '100' });
      if (activeOnly) p.set('active', 'true');
      return api.get<{ bans: Ban[] }>(`/api/admin/bans?${p}`);
    },
    null,
    [q, activeOnly],
  );
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);

  const lift = async (b: Ban) => {
    setBusyId(b.id);
    setError(null);
    setMessage(null);
    try {
      await api.del<Ban>(`/api/admin/bans/${encodeURIComponent(b.id)}`);
      setMessage(t('admin.bans.lifted', { scope: label('scope', b.scope), value: b.value }));
      await list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusyId(null);
    }
  };

  const bans = list.data?.bans ?? [];
  return (
    <section>
      <div className="section-head">
        <h1>{t('admin.bans.title')}</h1>
        <input
          data-testid="ban-search"
          type="search"
          placeholder={t('admin.bans.search')}
          aria-label={t('admin.bans.search')}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <label className="check">
          <input type="checkbox" data-testid="ban-active-only" checked={activeOnly} onChange={(e) => setActiveOnly(e.target.checked)} />
          {t('admin.bans.activeOnly')}
        </label>
        <button className="btn small" onClick={() => void list.reload()}>
          {t('admin.bans.refresh')}
        </button>
      </div>
      <CreateBan
        api={api}
        onCreated={(what) => {
          setMessage(t('admin.bans.created', { what }));
          void list.reload();
        }}
      />
      <ErrorLine error={list.error || error} />
      {message && (
        <p className="ok" role="status" data-testid="ban-message">
          {message}
        </p>
      )}
      <TableScroll label={t('admin.bans.title')}>
      <table className="grid cards">
        <thead>
          <tr>
            <th>{t('admin.bans.col.scope')}</th>
            <th>{t('admin.bans.col.value')}</th>
            <th>{t('admin.bans.col.reason')}</th>
            <th>{t('admin.bans.col.created')}</th>
            <th>{t('admin.bans.col.by')}</th>
            <th>{t('admin.bans.col.expires')}</th>
            <th>{t('admin.bans.col.report')}</th>
            <th>{t('admin.bans.col.state')}</th>
            <th>
              <span className="sr-only">{t('admin.staff.col.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {bans.map((b) => (
            <tr key={b.id} data-testid="ban-row" data-ban-id={b.id} className={b.active ? '' : 'dim'}>
              <td data-label={t('admin.bans.col.scope')}>{label('scope', b.scope)}</td>
              <td data-label={t('admin.bans.col.value')}>
                <Mono value={b.value} n={18} />
              </td>
              <td data-label={t('admin.bans.col.reason')}>{banReason(b)}</td>
              <td data-label={t('admin.bans.col.created')}>
                <Time value={b.createdAt} />
              </td>
              <td data-label={t('admin.bans.col.by')}>{b.automatic ? <span className="tag">{t('admin.bans.auto')}</span> : <Mono value={b.createdBy} n={10} />}</td>
              <td data-label={t('admin.bans.col.expires')}>{b.expiresAt ? <Time value={b.expiresAt} /> : t('admin.bans.never')}</td>
              <td data-label={t('admin.bans.col.report')}>{b.reportId ? <Mono value={b.reportId} n={8} /> : '—'}</td>
              <td data-label={t('admin.bans.col.state')}>
                <span className={`tag status-${banState(b)}`}>{label('banState', banState(b))}</span>
                {b.liftedAt && (
                  <span className="muted small">
                    {' '}
                    <Time value={b.liftedAt} />
                  </span>
                )}
              </td>
              <td data-label={t('admin.staff.col.actions')}>
                {b.active && (
                  <button className="btn small" data-testid="ban-lift" disabled={busyId === b.id} onClick={() => void lift(b)}>
                    {t('admin.bans.lift')}
                  </button>
                )}
              </td>
            </tr>
          ))}
          {!list.loading && bans.length === 0 && (
            <tr>
              <td colSpan={9} className="empty">
                {t('admin.bans.none')}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      </TableScroll>
    </section>
  );
}

/** What the typed value will match, asked of the server while staff type (it normalises). */
export function useBanPreview(api: AdminApi, scope: BanScope, value: string): BanPreview {
  const typed = useDebounced(value.trim(), 300);
  const [preview, setPreview] = useState<BanPreview>({ state: 'empty' });
  useEffect(() => {
    if (!typed) {
      setPreview({ state: 'empty' });
      return;
    }
    let live = true;
    setPreview({ state: 'checking' });
    api
      .post<BanPreviewReply>('/api/admin/bans/preview', { scope, value: typed })
      .then((r) => live && setPreview({ state: 'ok', description: describeBan(scope, typed, r) }))
      .catch((e) => live && setPreview({ state: 'invalid', message: errorMessage(e) }));
    return () => {
      live = false;
    };
  }, [api, scope, typed]);
  if (!value.trim()) return { state: 'empty' };
  return typed === value.trim() ? preview : { state: 'checking' };
}

export type BanPreview =
  | { state: 'empty' }
  | { state: 'checking' }
  | { state: 'ok'; description: string }
  | { state: 'invalid'; message: string };

function CreateBan({ api, onCreated }: { api: AdminApi; onCreated: (description: string) => void }) {
  useT();
  const [scope, setScope] = useState<BanScope>('device');
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const [duration, setDuration] = useState('24');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const preview = useBanPreview(api, scope, value);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const what = preview.state === 'ok' ? preview.description : value.trim();
      await api.post<Ban>('/api/admin/bans', {
        scope,
        value: value.trim(),
        reason: reason.trim(),
        durationHours: durationHours(duration),
      });
      setValue('');
      setReason('');
      onCreated(what);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const placeholder = t(scope === 'device' ? 'admin.bans.value.device' : scope === 'ip' ? 'admin.bans.value.ip' : 'admin.bans.value.account');
  return (
    <form className="inline-form" onSubmit={submit} aria-label={t('admin.bans.new')}>
      <strong>{t('admin.bans.new')}</strong>
      <select data-testid="ban-scope" aria-label={t('admin.bans.col.scope')} value={scope} onChange={(e) => setScope(e.target.value as BanScope)}>
        <option value="device">{t('admin.bans.scope.device')}</option>
        <option value="ip">{t('admin.bans.scope.ip')}</option>
        <option value="account">{t('admin.bans.scope.account')}</option>
      </select>
      <input
        data-testid="ban-value"
        dir="ltr"
        placeholder={placeholder}
        aria-label={placeholder}
        aria-describedby="ban-preview"
        required
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <input
        data-testid="ban-reason"
        placeholder={t('admin.bans.reason')}
        aria-label={t('admin.bans.reason')}
        required
        value={reason}
        onChange={(e) => setReason(e.target.value)}
      />
      <DurationSelect testId="ban-duration" value={duration} onChange={setDuration} />
      <button
        className="btn danger small"
        type="submit"
        data-testid="ban-create-submit"
        disabled={busy || !value.trim() || !reason.trim() || preview.state !== 'ok'}
      >
        {t('admin.bans.submit')}
      </button>
      <p id="ban-preview" data-testid="ban-preview" data-state={preview.state} className={preview.state === 'invalid' ? 'error small' : 'muted small'} aria-live="polite">
        {preview.state === 'ok' && t('admin.bans.willMatch', { what: preview.description })}
        {preview.state === 'invalid' && preview.message}
        {preview.state === 'checking' && t('admin.bans.checking')}
      </p>
      <ErrorLine error={error} testId="ban-create-error" />
    </form>
  );
}
