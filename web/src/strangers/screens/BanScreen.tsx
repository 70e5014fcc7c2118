import { useState, type FormEvent } from 'react';
import type { ChatController, ChatState } from '../controller';
import { hasKey, useT } from '../../i18n';
import { formatDateTime } from '../../ui/format';
import { Button } from '../../ui/Button';

function formatUntil(until: unknown, t: ReturnType<typeof useT>): string {
  if (until === null || until === undefined || until === '') return t('ban.permanently');
  const d = typeof until === 'number' ? new Date(until) : new Date(String(until));
  if (Number.isNaN(d.getTime())) return t('ban.untilDate', { date: String(until) });
  return t('ban.untilDate', { date: formatDateTime(d) });
}

/**
 * Why, in the visitor's language when the server worded it (an automatic ban's
 * `reasonCode`); a moderator's reason is shown as they typed it.
 */
export function banReasonText(ban: ChatState['ban'], t: ReturnType<typeof useT>): string {
  if (!ban) return '';
  const key = `ban.reasonCode.${ban.reasonCode ?? ''}`;
  if (!ban.reasonCode || !hasKey(key)) return ban.reason ?? '';
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(ban.reasonParams ?? {})) if (v !== null && v !== undefined) params[k] = v;
  return t(key, params);
}

export function BanScreen({ controller, state }: { controller: ChatController; state: ChatState }) {
  const t = useT();
  const ban = state.ban;
  const appeal = ban?.appeal ?? null;
  const [text, setText] = useState('');
  const { status, error } = state.appeal;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void controller.submitAppeal(text);
  };

  let appealNode = null;
  if (status === 'done')
    appealNode = (
      <p className="notice" data-testid="appeal-done" role="status">
        {t('ban.appealDone')}
      </p>
    );
  else if (status === 'already')
    appealNode = (
      <p className="notice" data-testid="appeal-error" role="status">
        {error}
      </p>
    );
  else if (appeal?.token)
    appealNode = (
      <form className="appeal-form" onSubmit={submit}>
        <label className="field">
          <span>{t('ban.appealPrompt')}</span>
          <textarea
            data-testid="appeal-text"
            rows={4}
            maxLength={2000}
            value={text}
            onChange={(e) => setText(e.target.value)}
            disabled={status === 'sending'}
          />
        </label>
        {error && (
          <p className="notice warn" data-testid="appeal-error" role="alert">
            {error}
          </p>
        )}
        <Button variant="primary" type="submit" data-testid="appeal-submit" disabled={status === 'sending' || !text.trim()}>
          {status === 'sending' ? t('ban.appealSending') : t('ban.appealSubmit')}
        </Button>
      </form>
    );

  const until = formatUntil(ban?.until, t);
  const [before, after] = t('ban.until', { until: '\u0000' }).split('\u0000');
  return (
    <main className="card ban" data-testid="ban-screen" id="main">
      <h1>{t('ban.title')}</h1>
      <p>
        {before}
        <strong data-testid="ban-until">{until}</strong>
        {after}
      </p>
      {ban?.reason && (
        <p>
          {t('ban.reason', { reason: '' }).replace(/\s*$/, ' ')}
          <strong data-testid="ban-reason">{banReasonText(ban, t)}</strong>
        </p>
      )}
      {appealNode}
      {appeal?.banId && <p className="muted small">{t('ban.reference', { id: appeal.banId })}</p>}
    </main>
  );
}
