/**
 * Sign-in. Tokens live in memory only (never localStorage), so a stolen disk
 * profile or an XSS-readable store holds no credential.
 * - local mode: the dev login of the local stack; the chosen identity (not the
 *   token) is kept in sessionStorage so a reload signs in again.
 * - cognito mode: the hosted UI with authorization code + PKCE; the ID token
 *   is the bearer token and is refreshed before it expires.
 */

import type { AppConfig, CognitoConfig } from '../config';
import { codeChallenge, jwtExpiry, newCodeVerifier } from './pkce';

export interface Auth {
  readonly mode: AppConfig['mode'];
  /** A token that is valid now (refreshing first when close to expiry). */
  getToken(): Promise<string>;
  /** The server said 401: try once to get a new token. */
  recover(): Promise<boolean>;
  signOut(): void;
}

export class NotSignedIn extends Error {}

const DEV_IDENTITY_KEY = 'warroom.devIdentity';

export interface DevIdentity {
  user_id: string;
  display_name: string;
}

export class LocalAuth implements Auth {
  readonly mode = 'local' as const;
  private token: string | null = null;
  private identity: DevIdentity | null = null;

  constructor(private readonly apiBase: string) {}

  async login(identity: DevIdentity): Promise<void> {
    const res = await fetch(`${this.apiBase}/api/dev/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(identity),
    });
    if (!res.ok) throw new Error(`dev login failed: HTTP ${res.status}`);
    const body = (await res.json()) as { token: string };
    this.token = body.token;
    this.identity = identity;
    sessionStorage.setItem(DEV_IDENTITY_KEY, JSON.stringify(identity));
  }

  /** Sign in again as the identity chosen earlier in this tab, if any. */
  async restore(): Promise<boolean> {
    const raw = sessionStorage.getItem(DEV_IDENTITY_KEY);
    if (!raw) return false;
    try {
      await this.login(JSON.parse(raw) as DevIdentity);
      return true;
    } catch {
      sessionStorage.removeItem(DEV_IDENTITY_KEY);
      return false;
    }
  }

  async getToken(): Promise<string> {
    if (!this.token) throw new NotSignedIn();
    return this.token;
  }

  async recover(): Promise<boolean> {
    if (!this.identity) return false;
    try {
      await this.login(this.identity);
      return true;
    } catch {
      return false;
    }
  }

  signOut(): void {
    this.token = null;
    this.identity = null;
    sessionStorage.removeItem(DEV_IDENTITY_KEY);
  }
}

const PKCE_KEY = 'warroom.pkce';
const REFRESH_MARGIN_MS = 60_000;

interface TokenResponse {
  id_token: string;
  access_token: string;
  refresh_token?: string;
  expires_in: number;
}

export class CognitoAuth implements Auth {
  readonly mode = 'cognito' as const;
  private idToken: string | null = null;
  private refreshToken: string | null = null;
  private expiresAt = 0;
  private refreshing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly cfg: CognitoConfig['cognito']) {}

  private get domain(): string {
    return this.cfg.domain.replace(/\/+$/, '');
  }

  /** Send the browser to the hosted sign-in page. */
  async beginSignIn(): Promise<never> {
    const verifier = newCodeVerifier();
    const state = newCodeVerifier().slice(0, 24);
    // sessionStorage survives the redirect round trip but not the tab.
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: this.cfg.clientId,
      redirect_uri: this.cfg.redirectUri,
      scope: (this.cfg.scopes ?? ['openid', 'email', 'profile']).join(' '),
      code_challenge_method: 'S256',
      code_challenge: await codeChallenge(verifier),
      state,
    });
    location.assign(`${this.domain}/oauth2/authorize?${params.toString()}`);
    return new Promise<never>(() => {});
  }

  /** On return from the hosted UI: trade the code for tokens. */
  async completeSignIn(): Promise<boolean> {
    const params = new URLSearchParams(location.search);
    const code = params.get('code');
    if (!code) return false;
    const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? 'null') as {
      verifier: string;
      state: string;
      hash: string;
    } | null;
    sessionStorage.removeItem(PKCE_KEY);
    // Drop ?code=… from the address bar whatever happens next.
    history.replaceState(null, '', `${location.pathname}${saved?.hash ?? ''}`);
    if (!saved || params.get('state') !== saved.state) return false;
    await this.tokenRequest({
      grant_type: 'authorization_code',
      client_id: this.cfg.clientId,
      code,
      redirect_uri: this.cfg.redirectUri,
      code_verifier: saved.verifier,
    });
    return true;
  }

  private async tokenRequest(form: Record<string, string>): Promise<void> {
    const res = await fetch(`${this.domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    if (!res.ok) throw new NotSignedIn(`token endpoint: HTTP ${res.status}`);
    const body = (await res.json()) as TokenResponse;
    this.idToken = body.id_token;
    if (body.refresh_token) this.refreshToken = body.refresh_token;
    this.expiresAt = jwtExpiry(body.id_token) ?? Date.now() + body.expires_in * 1000;
    this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(5_000, this.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    this.timer = setTimeout(() => void this.refresh().catch(() => undefined), wait);
  }

  private refresh(): Promise<void> {
    if (!this.refreshToken) return Promise.reject(new NotSignedIn('no refresh token'));
    this.refreshing ??= this.tokenRequest({
      grant_type: 'refresh_token',
      client_id: this.cfg.clientId,
      refresh_token: this.refreshToken,
    }).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async getToken(): Promise<string> {
    if (!this.idToken) throw new NotSignedIn();
    if (Date.now() > this.expiresAt - REFRESH_MARGIN_MS) await this.refresh();
    return this.idToken;
  }

  async recover(): Promise<boolean> {
    try {
      await this.refresh();
      return true;
    } catch {
      return false;
    }
  }

  signOut(): void {
    this.idToken = this.refreshToken = null;
    if (this.timer) clearTimeout(this.timer);
    const params = new URLSearchParams({ client_id: this.cfg.clientId, logout_uri: this.cfg.redirectUri });
    location.assign(`${this.domain}/logout?${params.toString()}`);
  }
}
