import { useCallback, useEffect, useRef, useState } from 'react';

export function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e && typeof (e as Error).message === 'string' && (e as Error).message)
    return (e as Error).message;
  return 'Something went wrong';
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  /** Load again now (also resets the polling interval's result ordering). */
  reload: () => Promise<void>;
  /** Replace the data locally (e.g. after an action returned the new object). */
  setData: (d: T) => void;
}

/**
 * Loads `load()` now, whenever `deps` change, and every `intervalMs` (null: no polling).
 * Out-of-order answers are dropped; the last good data stays visible on a failed refresh.
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number | null, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
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
      setError(errorMessage(e));
    } finally {
      if (my === seq.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    setLoading(true);
    void reload();
    if (!intervalMs) return;
    const t = setInterval(() => {
      if (typeof document !== 'undefined' && document.hidden) return;
      void reload();
    }, intervalMs);
    return () => {
      clearInterval(t);
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
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
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

const pad = (n: number) => String(n).padStart(2, '0');

/** 2025-01-31 14:05 (local). */
export function fmtTime(v: string | number | null | undefined): string {
  const d = toDate(v);
  if (!d) return v === null || v === undefined ? '—' : String(v);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** 14:05:09 (local). */
export function fmtClock(v: string | number | null | undefined): string {
  const d = toDate(v);
  if (!d) return v === null || v === undefined ? '' : String(v);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "5 min ago", "in 3 h". */
export function fmtAgo(v: string | number | null | undefined, now = Date.now()): string {
  const d = toDate(v);
  if (!d) return '';
  const diff = Math.round((now - d.getTime()) / 1000);
  const abs = Math.abs(diff);
  let s: string;
  if (abs < 45) s = `${abs} s`;
  else if (abs < 3600) s = `${Math.round(abs / 60)} min`;
  else if (abs < 86400 * 2) s = `${Math.round(abs / 3600)} h`;
  else s = `${Math.round(abs / 86400)} d`;
  return diff >= 0 ? `${s} ago` : `in ${s}`;
}

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
}

export function fmtNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** First/last characters of a long id or hash. */
export function short(v: string | null | undefined, n = 10): string {
  if (!v) return '—';
  return v.length > n + 2 ? `${v.slice(0, n)}…` : v;
}

/** Ban durations offered in the UI: select value → hours (null = permanent). */
export const DURATIONS: Array<{ value: string; label: string; hours: number | null }> = [
  { value: '24', label: '24 hours', hours: 24 },
  { value: '168', label: '7 days', hours: 168 },
  { value: '720', label: '30 days', hours: 720 },
  { value: 'permanent', label: 'Permanent', hours: null },
];

export function durationHours(value: string): number | null {
  return DURATIONS.find((d) => d.value === value)?.hours ?? null;
}

export function DurationSelect({ value, onChange, testId }: { value: string; onChange: (v: string) => void; testId: string }) {
  return (
    <select data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)}>
      {DURATIONS.map((d) => (
        <option key={d.value} value={d.value}>
          {d.label}
        </option>
      ))}
    </select>
  );
}

export function ErrorLine({ error, testId }: { error: string | null | undefined; testId?: string }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-testid={testId}>
      {error}
    </p>
  );
}

export function Mono({ value, n = 12 }: { value: string | null | undefined; n?: number }) {
  return (
    <code className="mono" title={value ?? ''}>
      {short(value, n)}
    </code>
  );
}

export function Time({ value }: { value: string | number | null | undefined }) {
  return (
    <time title={value === null || value === undefined ? '' : `${fmtTime(value)} (${fmtAgo(value)})`}>{fmtTime(value)}</time>
  );
}
