/** Small pieces every contacts screen uses: the store hook, routes, protected images, avatars, times. */
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { ContactsController } from './callMedia';
import type { ContactsState, PresenceInfo } from './model';
import { resetTokenOf } from '../lib/auth';
import { t } from '../i18n';
import { callDuration, sameDayOrDate } from './format';

export type ContactsRoute = { name: 'contacts'; channelId: string | null; resetToken?: string };

/** `#/contacts`, `#/contacts/c/<channelId>` and `#/contacts/reset/<token>` (the mailed link); null otherwise. */
export function parseContactsRoute(hash: string): ContactsRoute | null {
  const resetToken = resetTokenOf(hash);
  if (resetToken) return { name: 'contacts', channelId: null, resetToken };
  const h = hash.replace(/^#/, '');
  if (h === '/contacts' || h === '/contacts/') return { name: 'contacts', channelId: null };
  const m = /^\/contacts\/c\/([A-Za-z0-9_-]+)\/?$/.exec(h);
  if (m) return { name: 'contacts', channelId: m[1]! };
  return null;
}

export const channelHash = (id: string) => `#/contacts/c/${id}`;

export function useContacts(c: ContactsController): ContactsState {
  return useSyncExternalStore(c.subscribe, c.getState);
}

/** Object URL of a protected resource (null while loading or on error). */
export function useBlobUrl(c: ContactsController, url: string | null | undefined): string | null {
  const [state, setState] = useState<{ url: string; blob: string } | null>(null);
  useEffect(() => {
    if (!url) return;
    let live = true;
    c.blobUrl(url)
      .then((blob) => live && setState({ url, blob }))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [c, url]);
  return url && state?.url === url ? state.blob : null;
}

export function Avatar({
  c,
  user,
  size = 36,
  online,
}: {
  c: ContactsController;
  user: { displayName: string; avatarUrl?: string | null } | null;
  size?: number;
  online?: boolean;
}) {
  const src = useBlobUrl(c, user?.avatarUrl ?? null);
  const initials = (user?.displayName ?? '?')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('');
  return (
    <span className="avatar" style={{ width: size, height: size, fontSize: size * 0.4 }} aria-hidden data-testid="avatar">
      {src ? <img src={src} alt="" data-testid="avatar-img" /> : initials || '?'}
      {online && <span className="presence-dot" />}
    </span>
  );
}

/** "online" / "last seen 14:02" / "last seen 3 Dec" / nothing when unknown. */
export function presenceText(p: PresenceInfo | undefined, now = Date.now()): string {
  if (!p) return '';
  if (p.online) return t('messenger.online');
  const when = sameDayOrDate(p.lastSeenAt, now);
  return when ? t('messenger.lastSeen', { when }) : '';
}

/** A duration in seconds as "1:05" in the UI locale's digits ('' when unknown). */
export function formatDuration(sec: number | null): string {
  return callDuration(sec);
}
