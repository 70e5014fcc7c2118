/**
 * The dashboard's shared plumbing: polling, debouncing, localised formatting
 * (Intl in the active UI locale) and small display components.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { getLocale, hasKey, t, useT } from '../i18n';

/**
 * A failed request as a sentence in the moderator's language: the server's code
 * (`admin.errors.<code>`, then the visitor app's `errors.<code>`), else the server's
 * own message (a specific reason, e.g. why a typed ban value cannot match, inside a
 * localised sentence: the server words these reasons in English only), else a
 * generic sentence.
 */
export function errorMessage(e: unknown): string {
  const err = (e && typeof e === 'object' ? e : {}) as {
    code?: unknown;
    message?: unknown;
    retryAfterMs?: unknown;
    reason?: unknown;
    params?: unknown;
  };
  const code = typeof err.code === 'string' ? err.code : '';
  const own = `admin.errors.${code}`;
  const why = `admin.errors.reason.${typeof err.reason === 'string' ? err.reason : ''}`;
  let text: string | null = null;
  // A refusal's reason code (why a typed ban value cannot match…) in the catalogue; the
  // server's English message only when this dashboard does not know the code yet.
  // An invalid_request's reason is a clause ("Not accepted: …"); another code's reason
  // (account_not_found) is a sentence of its own.
  if (typeof err.reason === 'string' && hasKey(why))
    text =
      code === 'invalid_request'
        ? t('admin.errors.invalidBecause', { reason: t(why, reasonParams(err.params)) })
        : t(why, reasonParams(err.params));
  else if (code && hasKey(own)) text = t(own);
  else if (code && code !== 'invalid_request' && hasKey(`errors.${code}`)) text = t(`errors.${code}` as Parameters<typeof t>[0]);
  else if (code === 'invalid_request' && typeof err.message === 'string' && err.message)
    text = t('admin.errors.invalidBecause', { reason: err.message });
  else if (typeof err.message === 'string' && err.message) text = err.message;
  text ??= t('admin.errors.generic');
  if (typeof err.retryAfterMs === 'number' && err.retryAfterMs > 0)
    return t('admin.errors.retryIn', { message: text, seconds: fmtNumber(Math.ceil(err.retryAfterMs / 1000)) });
  return text;
}

function reasonParams(params: unknown): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!params || typeof params !== 'object') return out;
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  return out;
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  /** Load again now (also resets the polling interval's result ordering). */
  reload: () => Promise<void>;
  /** Replace the data locally (e.g. after an action returned the new object). */
  setData: (d: T) => void;
}

/**
 * Loads `load()` now, whenever `deps` change, and every `intervalMs` (null: no polling).
 * Out-of-order answers are dropped; the last good data stays visible on a failed refresh.
 * The error is kept raw so it is put into words in the language shown at render time.
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number | null, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);

  const reload = useCallback(async () => {
    const my = ++seq.current;
    try {
      const d = await loadRef.current();
      if (my !== seq.current) return;
      setData(d);
      setError(null);
    } catch (e) {
      if (my !== seq.current) return;
      setError(e ?? new Error(''));
    } finally {
      if (my === seq.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    setLoading(true);
    void reload();
    if (!intervalMs) return;
    const timer = setInterval(() => {
      if (typeof document !== 'undefined' && document.hidden) return;
      void reload();
    }, intervalMs);
    return () => {
      clearInterval(timer);
      seq.current++; // drop answers for the old deps
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, intervalMs]);

  return { data, error, loading, reload, setData };
}

/** The value of an input, debounced. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setV(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return v;
}

function toDate(v: string | number | null | undefined): Date | null {
  if (v === null || v === undefined || v === '') return null;
  let d: Date;
  if (typeof v === 'number') d = new Date(v < 1e12 ? v * 1000 : v); // epoch seconds or ms
  else d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Date and time in the active locale ("31 Jan 2025, 14:05", "31.01.2025, 14:05"). */
export function fmtTime(v: string | number | null | undefined, locale = getLocale()): string {
  const d = toDate(v);
  if (!d) return v === null || v === undefined ? '—' : String(v);
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A time of day with seconds, in the active locale. */
export function fmtClock(v: string | number | null | undefined, locale = getLocale()): string {
  const d = toDate(v);
  if (!d) return v === null || v === undefined ? '' : String(v);
  return new Intl.DateTimeFormat(locale, { timeStyle: 'medium' }).format(d);
}

/** "5 minutes ago", "in 3 hours" (Intl.RelativeTimeFormat, numeric, in the active locale). */
export function fmtAgo(v: string | number | null | undefined, now = Date.now(), locale = getLocale()): string {
  const d = toDate(v);
  if (!d) return '';
  const diff = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'always', style: 'short' });
  if (abs < 45) return rtf.format(diff, 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86400 * 2) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}

function unit(n: number, u: 'hour' | 'minute' | 'second', locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(n);
}

/** 75 → "1m 15s" in the active locale's units (e.g. Arabic digits and unit names). */
export function fmtDuration(seconds: number | null | undefined, locale = getLocale()): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return unit(s, 'second', locale);
  if (s < 3600) return `${unit(Math.floor(s / 60), 'minute', locale)} ${unit(s % 60, 'second', locale)}`;
  return `${unit(Math.floor(s / 3600), 'hour', locale)} ${unit(Math.floor((s % 3600) / 60), 'minute', locale)}`;
}

/** A count or rate in the active locale (one decimal at most); "—" when unknown. */
export function fmtNumber(n: number | null | undefined, locale = getLocale()): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(n);
}

/** First characters of a long id or hash. */
export function short(v: string | null | undefined, n = 10): string {
  if (!v) return '—';
  return v.length > n + 2 ? `${v.slice(0, n)}…` : v;
}

/** Ban durations offered in the UI: select value → hours (null = permanent). */
export const DURATIONS: Array<{ value: string; hours: number | null }> = [
  { value: '24', hours: 24 },
  { value: '168', hours: 168 },
  { value: '720', hours: 720 },
  { value: 'permanent', hours: null },
];

export function durationHours(value: string): number | null {
  return DURATIONS.find((d) => d.value === value)?.hours ?? null;
}

/** "24 hours", "7 days" … in the active locale; "Permanent" from the catalogue. */
export function durationLabel(hours: number | null, locale = getLocale()): string {
  if (hours === null) return t('admin.duration.permanent');
  const [n, u] = hours % 24 === 0 && hours > 24 ? [hours / 24, 'day' as const] : [hours, 'hour' as const];
  return new Intl.NumberFormat(locale, { style: 'unit', unit: u, unitDisplay: 'long' }).format(n);
}

/** The ban duration picker, always labelled (axe: a select needs an accessible name). */
export function DurationSelect({ value, onChange, testId }: { value: string; onChange: (v: string) => void; testId: string }) {
  const tr = useT();
  return (
    <select data-testid={testId} aria-label={tr('admin.duration.label')} value={value} onChange={(e) => onChange(e.target.value)}>
      {DURATIONS.map((d) => (
        <option key={d.value} value={d.value}>
          {durationLabel(d.hours)}
        </option>
      ))}
    </select>
  );
}

/** An error (raw or already a sentence) as an alert line. */
export function ErrorLine({ error, testId }: { error: unknown; testId?: string }) {
  useT();
  if (!error) return null;
  return (
    <p className="error" role="alert" data-testid={testId}>
      {typeof error === 'string' ? error : errorMessage(error)}
    </p>
  );
}

export function Mono({ value, n = 12 }: { value: string | null | undefined; n?: number }) {
  return (
    <code className="mono" title={value ?? ''} dir="ltr">
      {short(value, n)}
    </code>
  );
}

export function Time({ value }: { value: string | number | null | undefined }) {
  useT();
  const d = toDate(value);
  return (
    <time dateTime={d ? d.toISOString() : undefined} title={value === null || value === undefined ? '' : fmtAgo(value)}>
      {fmtTime(value)}
    </time>
  );
}

/**
 * A table that scrolls sideways by itself on a narrow screen instead of widening the
 * page; focusable and labelled so keyboard users can scroll it (axe: scrollable-region-focusable).
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/**
 * A server enum value (reason, status, scope, mode, audit action…) in the active
 * language: `admin.<group>.<value>` when the catalogue has it, else the value itself.
 */
export function label(group: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const key = `admin.${group}.${value}`;
  return hasKey(key) ? t(key) : value;
}
