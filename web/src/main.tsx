/** The single entry: read config.json, sign in, render. */

import { render } from 'preact';
import { App } from './components/App';
import { OfflineApp } from './components/OfflineApp';
import { CognitoAuth, LocalAuth } from './auth/auth';
import type { Auth } from './auth/auth';
import { loadConfig } from './config';
import { errorMessage } from './lib/format';
import { setLocale, currentLocale, t } from './i18n';
import { trackUserGesture } from './notify/notifier';
import { registerServiceWorker } from './notify/push';
import './styles.css';

async function boot(root: HTMLElement): Promise<void> {
  trackUserGesture();
  // The app shell and push (issue 19); a failure here never stops the app.
  registerServiceWorker().catch((err: unknown) => console.warn('service worker', err));
  setLocale(currentLocale(), false); // <html lang> from the start
  if (!navigator.onLine) {
    // Opened without a network (issue 19): what this device saved, read-only.
    root.textContent = '';
    render(<OfflineApp />, root);
    return;
  }
  const config = await loadConfig();
  let auth: Auth;
  let signedIn = false;
  if (config.mode === 'local') {
    const local = new LocalAuth(config.apiBase);
    signedIn = await local.restore();
    auth = local;
  } else {
    const cognito = new CognitoAuth(config.cognito);
    signedIn = await cognito.completeSignIn().catch(() => false);
    if (!signedIn) await cognito.beginSignIn(); // leaves the page
    auth = cognito;
  }
  root.textContent = ''; // drop the static "Loading…"
  render(<App config={config} auth={auth} initiallySignedIn={signedIn} />, root);
}

const root = document.getElementById('app')!;
boot(root).catch((err: unknown) => {
  console.error(err);
  root.textContent = '';
  const p = document.createElement('p');
  p.className = 'fatal';
  p.setAttribute('role', 'alert');
  p.textContent = t('app.fatal', { reason: errorMessage(err) });
  root.append(p);
});
