/**
 * The moderation dashboard's shell: sign-in, the top bar (name, screens, language,
 * theme, who is signed in) and the current screen, chosen by the URL hash (#/reports).
 */
import { useEffect, useState } from 'react';
import { LogOut } from 'lucide-react';
import { useT, type MessageKey } from '../i18n';
import { Toolbar } from '../ui/Toolbar';
import { UnavailableBanner } from '../lib/UnavailableBanner';
import type { AdminApi } from './api';
import type { Account } from './types';
import { Login, isStaff, type LoginError } from './Login';
import { Overview } from './Overview';
import { Reports } from './Reports';
import { Bans } from './Bans';
import { Appeals } from './Appeals';
import { Audit } from './Audit';
import { Sessions } from './Sessions';
import { Staff } from './Staff';

export type Tab = 'overview' | 'reports' | 'bans' | 'appeals' | 'audit' | 'sessions' | 'staff';

const TABS: Array<{ tab: Tab; label: MessageKey; adminOnly?: boolean }> = [
  { tab: 'overview', label: 'admin.nav.overview' },
  { tab: 'reports', label: 'admin.nav.reports' },
  { tab: 'bans', label: 'admin.nav.bans' },
  { tab: 'appeals', label: 'admin.nav.appeals' },
  { tab: 'audit', label: 'admin.nav.audit' },
  { tab: 'sessions', label: 'admin.nav.sessions' },
  { tab: 'staff', label: 'admin.nav.staff', adminOnly: true },
];

function tabFromHash(): Tab {
  const h = (typeof location !== 'undefined' ? location.hash : '').replace(/^#\/?/, '');
  return (TABS.find((x) => x.tab === h)?.tab ?? 'overview') as Tab;
}

export function AdminApp({ api }: { api: AdminApi }) {
  const t = useT();
  const [me, setMe] = useState<Account | null>(null);
  const [booting, setBooting] = useState(api.hasSession);
  const [loginError, setLoginError] = useState<LoginError>(null);
  const [tab, setTab] = useState<Tab>(tabFromHash);
  const brand = t('admin.brand');
  useEffect(() => {
    document.title = brand; // the tab's title in the moderator's language too
  }, [brand]);

  useEffect(() => {
    api.onSignedOut = () => {
      setMe(null);
      setLoginError({ kind: 'expired' });
    };
    return () => {
      api.onSignedOut = null;
    };
  }, [api]);

  useEffect(() => {
    if (!api.hasSession) return;
    let alive = true;
    api
      .me()
      .then(async (acc) => {
        if (!alive) return;
        if (!isStaff(acc)) {
          await api.logout();
          setLoginError({ kind: 'noAccess' });
        } else setMe(acc);
      })
      .catch(() => undefined)
      .finally(() => alive && setBooting(false));
    return () => {
      alive = false;
    };
  }, [api]);

  useEffect(() => {
    const on = () => setTab(tabFromHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);

  const go = (next: Tab) => {
    setTab(next);
    if (location.hash !== `#/${next}`) history.replaceState(null, '', `#/${next}`);
  };

  const logout = async () => {
    await api.logout();
    setMe(null);
    setLoginError(null);
  };

  if (booting)
    return (
      <div className="admin-loading" role="status">
        {t('admin.loading')}
      </div>
    );
  if (!me)
    return (
      <Login
        api={api}
        error={loginError}
        onError={setLoginError}
        onSignedIn={(acc) => {
          setLoginError(null);
          setMe(acc);
        }}
      />
    );

  const isAdmin = me.role === 'admin';
  const current: Tab = tab === 'staff' && !isAdmin ? 'overview' : tab;

  return (
    <div className="admin">
      <a className="skip-link" href="#admin-main">
        {t('app.skip')}
      </a>
      <header className="admin-top">
        <span className="brand">{t('admin.brand')}</span>
        <nav className="admin-nav" aria-label={t('admin.nav.label')}>
          {TABS.filter((x) => !x.adminOnly || isAdmin).map((x) => (
            <a
              key={x.tab}
              href={`#/${x.tab}`}
              className={current === x.tab ? 'active' : ''}
              data-testid={`nav-${x.tab}`}
              aria-current={current === x.tab ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                go(x.tab);
              }}
            >
              {t(x.label)}
            </a>
          ))}
        </nav>
        <div className="top-end">
          <Toolbar />
          <span className="whoami" data-testid="admin-whoami">
            <span data-testid="admin-user-email" dir="ltr">
              {me.email}
            </span>{' '}
            <span className={`role role-${me.role}`} data-testid="admin-role" data-role={me.role}>
              {t(`admin.staff.role.${me.role}`)}
            </span>
          </span>
          <button className="btn small" data-testid="admin-logout" onClick={() => void logout()}>
            <LogOut aria-hidden="true" size={16} className="flip-rtl" />
            {t('admin.logout')}
          </button>
        </div>
      </header>
      <UnavailableBanner />
      <main className="admin-main" id="admin-main" tabIndex={-1}>
        {current === 'overview' && <Overview api={api} onNavigate={go} />}
        {current === 'reports' && <Reports api={api} />}
        {current === 'bans' && <Bans api={api} />}
        {current === 'appeals' && <Appeals api={api} />}
        {current === 'audit' && <Audit api={api} />}
        {current === 'sessions' && <Sessions api={api} />}
        {current === 'staff' && isAdmin && <Staff api={api} />}
      </main>
    </div>
  );
}
