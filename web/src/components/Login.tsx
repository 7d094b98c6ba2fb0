import { useEffect, useState } from 'preact/hooks';
import type { LocalAuth } from '../auth/auth';
import { useT } from '../i18n';
import { errorMessage } from '../lib/format';
import type { UserSummary } from '../protocol';

interface Props {
  auth: LocalAuth;
  apiBase: string;
  onSignedIn: () => void;
}

/** Local mode only: pick a demo user or type any identity (the dev login). */
export function Login({ auth, apiBase, onSignedIn }: Props) {
  const t = useT();
  const [users, setUsers] = useState<UserSummary[]>([]);
  const [userId, setUserId] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    fetch(`${apiBase}/api/dev/users`)
      .then((r) => (r.ok ? r.json() : { users: [] }))
      .then((b: { users: UserSummary[] }) => setUsers(b.users ?? []))
      .catch(() => setUsers([]));
  }, [apiBase]);

  const signIn = async (identity: UserSummary): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await auth.login(identity);
      onSignedIn();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" aria-labelledby="login-title">
      <h1 id="login-title">{t('login.title')}</h1>
      <p class="muted">{t('login.subtitle')}</p>
      {users.length > 0 && (
        <section aria-labelledby="pick-title">
          <h2 id="pick-title">{t('login.signInAs')}</h2>
          <ul class="login-users">
            {users.map((u) => (
              <li key={u.user_id}>
                <button type="button" class="login-user" disabled={busy} onClick={() => void signIn(u)}>
                  <span class="avatar" aria-hidden="true">{initials(u.display_name)}</span>
                  <span>
                    <strong>{u.display_name}</strong>
                    <small>{u.user_id}</small>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <form
        class="login-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          const id = userId.trim().toLowerCase();
          if (id) void signIn({ user_id: id, display_name: name.trim() || id });
        }}
      >
        <h2>{t('login.typeUser')}</h2>
        <label>
          {t('login.userId')}
          <input type="email" required value={userId} onInput={(e) => setUserId(e.currentTarget.value)} autocomplete="username" />
        </label>
        <label>
          {t('login.displayName')}
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {t('login.signIn')}
        </button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </main>
  );
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '?') + (parts[1]?.[0] ?? '')).toUpperCase();
}
