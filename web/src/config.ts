/** Runtime configuration: the same build runs locally and in the cloud. */

export interface LocalConfig {
  mode: 'local';
  apiBase: string;
  wsUrl: string;
}

export interface CognitoConfig {
  mode: 'cognito';
  apiBase: string;
  wsUrl: string;
  cognito: { domain: string; clientId: string; redirectUri: string; scopes?: string[] };
}

export type AppConfig = LocalConfig | CognitoConfig;

export async function loadConfig(): Promise<AppConfig> {
  // Relative on purpose: dist/ may be served from any path.
  const res = await fetch('config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  const cfg = (await res.json()) as Partial<AppConfig>;
  if (!cfg || (cfg.mode !== 'local' && cfg.mode !== 'cognito') || !cfg.apiBase || !cfg.wsUrl) {
    throw new Error('config.json must name mode, apiBase and wsUrl');
  }
  if (cfg.mode === 'cognito' && !(cfg as CognitoConfig).cognito?.clientId) {
    throw new Error('config.json in cognito mode needs cognito.domain, clientId and redirectUri');
  }
  return { ...cfg, apiBase: cfg.apiBase.replace(/\/+$/, '') } as AppConfig;
}
