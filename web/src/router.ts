/**
 * Hash routes, so the static site needs no server-side rewrites on S3:
 *   #/                       room list
 *   #/rooms/{id}[?msg={id}]  a room, optionally opened at one message
 *   #/search?q=…             search across my rooms
 *   #/rooms/{id}/files/{fid} a room's file, opened for a signed-in member (links in a saved report)
 *   #/metrics                response metrics per line and week
 */

import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'rooms' }
  | { name: 'room'; roomId: string; messageId: string | null }
  | { name: 'search'; q: string }
  | { name: 'file'; roomId: string; fileId: string }
  | { name: 'metrics' };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = raw.split('?', 2);
  const params = new URLSearchParams(query);
  const room = /^\/rooms\/([^/]+)\/?$/.exec(path);
  if (room) return { name: 'room', roomId: decodeURIComponent(room[1]!), messageId: params.get('msg') };
  const file = /^\/rooms\/([^/]+)\/files\/([^/]+)\/?$/.exec(path);
  if (file) return { name: 'file', roomId: decodeURIComponent(file[1]!), fileId: decodeURIComponent(file[2]!) };
  if (path === '/search') return { name: 'search', q: params.get('q') ?? '' };
  if (path === '/metrics') return { name: 'metrics' };
  return { name: 'rooms' };
}

export function roomHref(roomId: string, messageId?: string): string {
  return `#/rooms/${encodeURIComponent(roomId)}${messageId ? `?msg=${encodeURIComponent(messageId)}` : ''}`;
}

export function searchHref(q: string): string {
  return `#/search?q=${encodeURIComponent(q)}`;
}

export function navigate(href: string): void {
  if (location.hash === href) return;
  location.hash = href;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
