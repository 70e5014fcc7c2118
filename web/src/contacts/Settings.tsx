/**
 * The profile header and settings: name and avatar behind "Edit", blocked
 * people, password, notifications, presence privacy, my devices, export my
 * data and delete my account.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { ContactsController } from './callMedia';
import type { ContactsState } from './model';
import { errText } from './model';
import { Avatar } from './common';
import { shortDateTime } from './format';
import { ChangePassword } from './Account';
import { t } from '../i18n';

export function ProfilePanel({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  const me = s.me!;
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(me.displayName);
  useEffect(() => setName(me.displayName), [me.displayName]);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (await contacts.saveProfile(name)) setEditing(false);
  };
  return (
    <section className="profile" aria-label={t('messenger.profile')}>
      <div className="profile-head">
        <Avatar c={contacts} user={{ displayName: me.displayName, avatarUrl: s.myAvatarUrl }} size={44} />
        <div className="profile-who">
          <strong data-testid="me-name">{me.displayName}</strong>
          <span className="muted small">{me.email}</span>
        </div>
        <span
          className={`gw-dot ${s.gateway}`}
          role="img"
          aria-label={s.gateway === 'ready' ? t('messenger.gatewayReady') : t('messenger.gatewayConnecting')}
          title={s.gateway === 'ready' ? t('messenger.gatewayReady') : t('messenger.gatewayConnecting')}
        />
        <button className="btn small-btn" data-testid="profile-edit-toggle" aria-expanded={editing} onClick={() => setEditing((v) => !v)}>
          {t('messenger.edit')}
        </button>
        <button className="btn small-btn" data-testid="logout-button" onClick={() => void contacts.logout()}>
          {t('messenger.logout')}
        </button>
      </div>
      {editing && (
        <form className="profile-edit" onSubmit={(e) => void save(e)}>
          <input
            data-testid="profile-name"
            aria-label={t('account.displayName')}
            value={name}
            maxLength={64}
            autoFocus
            onChange={(e) => setName(e.target.value)}
          />
          <button className="btn small-btn" type="submit" data-testid="profile-save" disabled={!name.trim()}>
            {t('messenger.save')}
          </button>
          <label className="btn small-btn file-btn">
            {t('messenger.avatar')}
            <input
              data-testid="avatar-input"
              type="file"
              accept="image/png,image/jpeg,image/gif,image/webp"
              onChange={(e) => {
                const f = e.target.files?.[0];
                if (f) void contacts.uploadAvatar(f);
                e.target.value = '';
              }}
            />
          </label>
        </form>
      )}
      {s.profileNotice && (
        <p className="muted small" data-testid="profile-notice" role="status">
          {s.profileNotice}
        </p>
      )}
      <BlockedList contacts={contacts} s={s} />
      <ChangePassword contacts={contacts} />
      <SettingsPanel contacts={contacts} s={s} />
    </section>
  );
}

/** Settings: the people you blocked, each with Unblock. */
function BlockedList({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  return (
    <details className="blocked-list" data-testid="blocked-list">
      <summary data-testid="blocked-list-toggle">{t('contacts.blockedListToggle', { count: s.blocks.length })}</summary>
      {s.blocks.length === 0 ? (
        <p className="muted small" data-testid="blocked-empty">
          {t('contacts.blockedListEmpty')}
        </p>
      ) : (
        <ul aria-label={t('contacts.blockedList')}>
          {s.blocks.map((b) => (
            <li key={b.user.id} className="blocked-row" data-testid="blocked-row" data-user-id={b.user.id}>
              <Avatar c={contacts} user={b.user} size={24} />
              <span className="blocked-name">{b.user.displayName}</span>
              <button className="btn small-btn" data-testid="blocked-unblock" onClick={() => void contacts.unblock(b.user.id)}>
                {t('contacts.unblock')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

function SettingsPanel({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="settings" data-testid="settings" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary data-testid="settings-toggle">{t('messenger.settings')}</summary>
      <div className="settings-body">
        <div className="settings-row">
          <span>{t('messenger.notifications')}</span>
          {s.notifyPermission === 'granted' ? (
            <span className="muted small" data-testid="notify-state">
              {t('messenger.notificationsOn')}
            </span>
          ) : s.notifyPermission === 'default' ? (
            <button className="btn small-btn" data-testid="notify-enable" onClick={() => void contacts.askNotifications()}>
              {t('messenger.notificationsEnable')}
            </button>
          ) : (
            <span className="muted small" data-testid="notify-state">
              {s.notifyPermission === 'denied' ? t('messenger.notificationsBlocked') : t('messenger.notificationsUnsupported')}
            </span>
          )}
        </div>
        <label className="settings-row">
          <span>{t('messenger.presenceWho')}</span>
          <select
            data-testid="presence-visibility"
            value={s.presenceVisibility ?? 'contacts'}
            disabled={s.presenceVisibility === null}
            onChange={(e) => void contacts.setPresenceVisibility(e.target.value === 'nobody' ? 'nobody' : 'contacts')}
          >
            <option value="contacts">{t('messenger.presenceContacts')}</option>
            <option value="nobody">{t('messenger.presenceNobody')}</option>
          </select>
        </label>
        {open && <Devices contacts={contacts} s={s} />}
        <div className="settings-row">
          <span>{t('messenger.exportTitle')}</span>
          <button className="btn small-btn" data-testid="export-data" onClick={() => void contacts.exportData()}>
            {t('messenger.exportButton')}
          </button>
        </div>
        <DeleteAccount contacts={contacts} />
      </div>
    </details>
  );
}

function Devices({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  useEffect(() => {
    void contacts.refreshSessions();
  }, [contacts]);
  const list = s.sessions;
  return (
    <div className="devices" data-testid="devices">
      <strong>{t('messenger.devices')}</strong>
      {list === null ? (
        <p className="muted small">{t('messenger.loading')}</p>
      ) : list.length === 0 ? (
        <p className="muted small">{t('messenger.devicesNone')}</p>
      ) : (
        <ul>
          {list.map((d) => (
            <li key={d.id} className="device-row" data-testid="device-row" data-current={d.current ? 'true' : 'false'}>
              <span>
                {d.browser || t('messenger.deviceUnknown')}
                {d.current ? ` · ${t('messenger.deviceThis')}` : ''}
                <span className="muted small">
                  {' '}
                  · {t('messenger.deviceSince', { when: shortDateTime(d.createdAt) })}
                  {d.lastUsedAt ? ` · ${t('messenger.deviceUsed', { when: shortDateTime(d.lastUsedAt) })}` : ''}
                </span>
              </span>
              {!d.current && (
                <button className="btn small-btn" data-testid="device-signout" onClick={() => void contacts.signOutSession(d.id)}>
                  {t('messenger.deviceSignOut')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {list && list.some((d) => !d.current) && (
        <button className="btn small-btn" data-testid="devices-signout-others" onClick={() => void contacts.signOutOthers()}>
          {t('messenger.devicesSignOutOthers')}
        </button>
      )}
    </div>
  );
}

function DeleteAccount({ contacts }: { contacts: ContactsController }) {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await contacts.deleteAccount(password);
    } catch (err) {
      setError(errText(err));
      setBusy(false);
    }
  };
  if (!open)
    return (
      <div className="settings-row">
        <span>{t('messenger.deleteTitle')}</span>
        <button className="btn small-btn danger" data-testid="delete-account-toggle" onClick={() => setOpen(true)}>
          {t('messenger.deleteButton')}
        </button>
      </div>
    );
  return (
    <form className="safety-panel" data-testid="delete-account-form" onSubmit={(e) => void submit(e)}>
      <p>{t('messenger.deleteWarning')}</p>
      <label className="field">
        <span>{t('account.password')}</span>
        <input
          type="password"
          data-testid="delete-account-password"
          autoComplete="current-password"
          required
          autoFocus
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error && (
        <p className="notice warn" role="alert" data-testid="delete-account-error">
          {error}
        </p>
      )}
      <div className="row">
        <button className="btn danger" type="submit" data-testid="delete-account-submit" disabled={busy || !password}>
          {t('messenger.deleteConfirm')}
        </button>
        <button className="btn" type="button" onClick={() => setOpen(false)}>
          {t('contacts.reportCancel')}
        </button>
      </div>
    </form>
  );
}
