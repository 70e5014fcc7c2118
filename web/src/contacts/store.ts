/**
 * Controller part 1 of 6 — the store and the account: state + subscribers,
 * login / sign-up / logout, profile and avatar, blocks and reports, my devices,
 * export and account deletion. Later parts (conversations.ts → messaging.ts →
 * sync.ts → calls.ts → callMedia.ts) extend this class; the hooks they fill are
 * declared abstract here.
 */
import type { UserOut } from '../protocol';
import { ApiError } from '../lib/api';
import { AuthStore, type Account } from '../lib/auth';
import { isCallActive } from '../lib/callState';
import { publishContacts } from '../lib/debug';
import type { PeerCall } from '../lib/peer';
import type { GatewayClient } from '../gateway/client';
import { t } from '../i18n';
import {
  enc,
  initialContactsState,
  revokeUrl,
  sendFailure,
  type BlockedUser,
  type ErrorNote,
  type ContactsDeps,
  type ContactsState,
  type ConversationReport,
  type MySession,
} from './model';
import { loadMuted, notificationPermission, Notifier } from './notify';

/** The notice under the profile disappears after this long. */
export const NOTICE_MS = 4000;

export abstract class ContactsStore {
  protected state: ContactsState = initialContactsState();
  private listeners = new Set<() => void>();
  readonly auth: AuthStore;
  protected readonly deps: ContactsDeps;
  gateway: GatewayClient | null = null;
  protected peer: PeerCall | null = null;
  protected blobCache = new Map<string, Promise<string>>();
  protected session = 0;
  protected readonly notifier = new Notifier();
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(deps: ContactsDeps = {}) {
    this.deps = deps;
    this.auth = deps.auth ?? new AuthStore();
    this.auth.onSignedOut(() => this.signedOut({ key: 'messenger.sessionEnded' }));
    this.state = { ...this.state, muted: loadMuted(this.storage()), notifyPermission: notificationPermission() };
    this.publishDebug();
  }

  // hooks for the later parts
  protected abstract afterLogin(): void;
  protected abstract resetLocal(): void;
  abstract hangup(): void;
  protected abstract teardownCall(): void;
  protected abstract teardownGateway(): void;

  // ------------------------------------------------------------ store API

  getState = (): ContactsState => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  protected set(patch: Partial<ContactsState>): void {
    this.state = { ...this.state, ...patch };
    this.publishDebug();
    for (const l of [...this.listeners]) l();
  }

  protected publishDebug(): void {
    publishContacts({
      pc: this.peer?.pc ?? null,
      sessionId: this.state.call.sessionId,
      callId: this.state.call.callId,
      connectionId: this.gateway?.connectionId ?? null,
      controller: this as never,
    });
  }

  protected storage(): Pick<Storage, 'getItem' | 'setItem'> | null {
    if (this.deps.storage !== undefined) return this.deps.storage;
    try {
      return typeof localStorage === 'undefined' ? null : localStorage;
    } catch {
      return null;
    }
  }

  protected visible(): boolean {
    if (this.deps.isVisible) return this.deps.isVisible();
    return typeof document === 'undefined' || document.visibilityState !== 'hidden';
  }

  protected fail(err: unknown): void {
    this.set({ error: sendFailure(err) });
  }

  dismissError(): void {
    this.set({ error: null });
  }

  /** A notice under the profile that goes away by itself. */
  protected notice(text: string): void {
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.set({ profileNotice: text });
    this.noticeTimer = setTimeout(() => {
      this.noticeTimer = null;
      if (this.state.profileNotice === text) this.set({ profileNotice: null });
    }, NOTICE_MS);
  }

  // ------------------------------------------------------------ session

  /** Restore the session from the stored refresh token (call once at startup). */
  async init(): Promise<void> {
    if (!this.auth.loggedIn) {
      this.set({ auth: 'loggedOut' });
      return;
    }
    await this.loadSession();
  }

  protected async loadSession(): Promise<void> {
    const seq = ++this.session;
    this.set({ auth: 'checking', authError: null });
    let me: Account;
    try {
      me = await this.auth.json<Account>('GET', '/api/auth/me');
    } catch (err) {
      if (seq !== this.session) return;
      if (!this.auth.loggedIn) this.set({ auth: 'loggedOut' });
      else this.set({ auth: 'error', authError: sendFailure(err) });
      return;
    }
    if (seq !== this.session) return;
    this.set({ auth: 'loggedIn', me, authError: null });
    this.afterLogin();
    void this.findMyAvatar(me);
  }

  /** /me has no avatar field: my own avatar route answers 404 when I have none. */
  private async findMyAvatar(me: Account): Promise<void> {
    const seq = this.session;
    const url = `/api/users/${enc(me.id)}/avatar`;
    try {
      await this.blobUrl(url);
      if (seq === this.session && !this.state.myAvatarUrl) this.set({ myAvatarUrl: url });
    } catch {
      /* no avatar: initials are shown */
    }
  }

  retrySession(): void {
    void this.loadSession();
  }

  /** The login and sign-up forms share one error line: switching forms clears it. */
  clearAuthError(): void {
    if (this.state.authError) this.set({ authError: null });
  }

  async signup(email: string, password: string, displayName: string): Promise<void> {
    if (password.length < 10) {
      this.set({ authError: { key: 'messenger.passwordShort' } });
      return;
    }
    this.set({ authBusy: true, authError: null });
    try {
      await this.auth.signup(email.trim(), password, displayName.trim());
      await this.auth.login(email.trim(), password);
    } catch (err) {
      this.set({ authBusy: false, authError: sendFailure(err) });
      return;
    }
    this.set({ authBusy: false });
    await this.loadSession();
  }

  async login(email: string, password: string): Promise<void> {
    this.set({ authBusy: true, authError: null });
    try {
      await this.auth.login(email.trim(), password);
    } catch (err) {
      this.set({ authBusy: false, authError: sendFailure(err) });
      return;
    }
    this.set({ authBusy: false });
    await this.loadSession();
  }

  async logout(): Promise<void> {
    if (isCallActive(this.state.call)) this.hangup();
    this.teardownGateway();
    await this.auth.logout();
    this.baseReset();
    this.set({ ...initialContactsState(), muted: this.state.muted, notifyPermission: this.state.notifyPermission, auth: 'loggedOut' });
  }

  protected signedOut(message: ErrorNote): void {
    this.teardownCall();
    this.teardownGateway();
    this.baseReset();
    this.set({ ...initialContactsState(), muted: this.state.muted, notifyPermission: this.state.notifyPermission, auth: 'loggedOut', authError: message });
  }

  private baseReset(): void {
    this.session++;
    this.notifier.stopRing();
    for (const p of this.blobCache.values()) p.then((u) => revokeUrl(u)).catch(() => undefined);
    this.blobCache.clear();
    this.resetLocal();
  }

  async saveProfile(displayName: string): Promise<boolean> {
    const name = displayName.trim();
    if (!name) return false;
    this.set({ profileNotice: null, error: null });
    try {
      const me = await this.auth.json<Account>('PUT', '/api/auth/profile', { displayName: name });
      this.set({ me });
      this.notice(t('messenger.saved'));
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  async uploadAvatar(file: File): Promise<void> {
    this.set({ profileNotice: null, error: null });
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const u = await this.auth.upload<UserOut>('/api/auth/avatar', form);
      // The same URL serves the new picture: forget the cached copy.
      for (const key of [u.avatarUrl, this.state.myAvatarUrl]) if (key) this.blobCache.delete(key);
      const url = u.avatarUrl ? `${u.avatarUrl}${u.avatarUrl.includes('?') ? '&' : '?'}v=${Date.now()}` : null;
      this.set({ myAvatarUrl: url });
      if (this.state.me) this.set({ me: { ...this.state.me, displayName: u.displayName } });
      this.notice(t('messenger.avatarUpdated'));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Object URL of a protected resource (avatar, attachment), cached per URL. */
  blobUrl(url: string): Promise<string> {
    let p = this.blobCache.get(url);
    if (!p) {
      const make = this.deps.createObjectURL ?? ((b: Blob) => URL.createObjectURL(b));
      p = this.auth.blob(url).then(make);
      p.catch(() => this.blobCache.delete(url));
      this.blobCache.set(url, p);
    }
    return p;
  }

  // ------------------------------------------------------------ safety: block, report

  async refreshBlocks(): Promise<void> {
    const seq = this.session;
    try {
      const r = await this.auth.json<{ blocks: BlockedUser[] }>('GET', '/api/blocks');
      if (seq === this.session) this.set({ blocks: r.blocks ?? [] });
    } catch {
      /* the list just stays as it was */
    }
  }

  /** Block a user: the server stops everything of theirs reaching us; true on success. */
  async block(user: UserOut): Promise<boolean> {
    try {
      await this.auth.json('POST', `/api/users/${enc(user.id)}/block`);
    } catch (err) {
      this.fail(err);
      return false;
    }
    this.setBlocked(user.id, true);
    this.set({ blocks: [{ user, createdAt: new Date().toISOString() }, ...this.state.blocks.filter((b) => b.user.id !== user.id)] });
    void this.refreshBlocks();
    return true;
  }

  async unblock(userId: string): Promise<boolean> {
    try {
      await this.auth.json('DELETE', `/api/users/${enc(userId)}/block`);
    } catch (err) {
      this.fail(err);
      return false;
    }
    this.setBlocked(userId, false);
    this.set({ blocks: this.state.blocks.filter((b) => b.user.id !== userId) });
    void this.refreshBlocks();
    return true;
  }

  isBlocked(userId: string): boolean {
    return this.state.blocks.some((b) => b.user.id === userId) || this.state.channels.some((c) => c.peer.id === userId && c.blocked);
  }

  private setBlocked(userId: string, blocked: boolean): void {
    this.set({ channels: this.state.channels.map((c) => (c.peer.id === userId ? { ...c, blocked } : c)) });
  }

  /** Report the other member of a conversation (or one of their messages); throws on refusal. */
  async report(r: ConversationReport): Promise<void> {
    const body: Record<string, unknown> = { channelId: r.channelId, reason: r.reason };
    if (r.messageId) body.messageId = r.messageId;
    const comment = r.comment?.trim();
    if (comment) body.comment = comment.slice(0, 1000);
    await this.auth.json('POST', '/api/reports', body);
  }

  // ------------------------------------------------------------ privacy: presence, devices, my data

  async refreshPresenceVisibility(): Promise<void> {
    try {
      const r = await this.auth.json<{ visibility: 'contacts' | 'nobody' }>('GET', '/api/auth/presence');
      this.set({ presenceVisibility: r.visibility });
    } catch {
      /* unknown: the setting is shown disabled */
    }
  }

  async setPresenceVisibility(visibility: 'contacts' | 'nobody'): Promise<void> {
    try {
      const r = await this.auth.json<{ visibility: 'contacts' | 'nobody' }>('PUT', '/api/auth/presence', { visibility });
      this.set({ presenceVisibility: r.visibility });
    } catch (err) {
      this.fail(err);
    }
  }

  async refreshSessions(): Promise<void> {
    try {
      const r = await this.auth.json<{ sessions: MySession[] }>('GET', '/api/auth/sessions');
      this.set({ sessions: r.sessions ?? [] });
    } catch (err) {
      this.set({ sessions: [] });
      if ((err as ApiError)?.status !== 404) this.fail(err);
    }
  }

  async signOutSession(id: string): Promise<void> {
    try {
      await this.auth.json('DELETE', `/api/auth/sessions/${enc(id)}`);
    } catch (err) {
      this.fail(err);
    }
    await this.refreshSessions();
  }

  async signOutOthers(): Promise<void> {
    try {
      await this.auth.json('POST', '/api/auth/sessions/revoke-others');
    } catch (err) {
      this.fail(err);
    }
    await this.refreshSessions();
  }

  /** Download everything the server holds about me (a zip, streamed by the server). */
  async exportData(): Promise<void> {
    try {
      const blob = await this.auth.blob('/api/auth/export');
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `connect-export-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}.zip`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => revokeUrl(url), 10_000);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Delete my account (the password confirms it); throws on refusal so the form shows why. */
  async deleteAccount(password: string): Promise<void> {
    await this.auth.json('DELETE', '/api/auth/account', { password });
    this.signedOut({ key: 'messenger.accountDeleted' });
  }
}
