/*
 * The war room's service worker (issue 19), hand-written: it is ~150 lines, and needs
 * only an app-shell cache, `push` and `notificationclick`, so Workbox (vite-plugin-pwa)
 * would add a build plugin and a runtime several times its size for no gain.
 *
 * - App shell: on install it caches index.html, config.json, the manifests, the icons
 *   and every asset index.html names (Vite hashes their names, so the list is read from
 *   the page itself). Same-origin GETs outside the APIs go to the network first and fall
 *   back to the cache, so the app opens offline and updates itself when online.
 * - Push: shows the room's title, the sender and the text (cut to fit by the server),
 *   with "Take it" for a page; nothing while a tab of the app is visible (the in-app
 *   toast does that). The tag is the room, so a newer push replaces an older one.
 * - Click: focuses an open tab of the app and opens the room there, or opens a window;
 *   "Take it" also asks the page to take the incident (it holds the sign-in token).
 */
/* eslint-env serviceworker */

const SHELL = 'warroom-shell-v1';
const STRINGS = './sw-strings.json'; // the page's translations of our two labels
const NOT_SHELL = ['/api/', '/ws', '/s3/', '/local-issuer'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      const index = await fetch('./index.html', { cache: 'no-store' });
      const html = await index.clone().text();
      const assets = [...html.matchAll(/(?:src|href)="(\.\/assets\/[^"]+)"/g)].map((m) => m[1]);
      await cache.put('./index.html', index);
      await cache.addAll([
        './config.json',
        './manifest.webmanifest',
        './manifest.zh-TW.webmanifest',
        './icons/icon-192.png',
        './icons/icon-512.png',
        ...assets,
      ]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== SHELL) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

function isShell(request) {
  const url = new URL(request.url);
  return (
    request.method === 'GET' &&
    url.origin === self.location.origin &&
    !NOT_SHELL.some((prefix) => url.pathname.startsWith(prefix))
  );
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (!isShell(request)) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(SHELL);
      try {
        const fresh = await fetch(request);
        if (fresh.ok) await cache.put(request, fresh.clone());
        return fresh;
      } catch (offline) {
        const cached =
          (await cache.match(request, { ignoreSearch: request.mode === 'navigate' })) ??
          (request.mode === 'navigate' ? await cache.match('./index.html') : undefined);
        if (cached) return cached;
        throw offline;
      }
    })(),
  );
});

async function strings() {
  const fallback = { take: 'Take it', from: '{sender}: {text}' };
  try {
    const cached = await (await caches.open(SHELL)).match(STRINGS);
    return cached ? { ...fallback, ...(await cached.json()) } : fallback;
  } catch {
    return fallback;
  }
}

async function visibleTab() {
  const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  return tabs.some((tab) => tab.visibilityState === 'visible');
}

self.addEventListener('push', (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : null;
  } catch {
    data = null;
  }
  if (!data || typeof data.room_id !== 'string') return;
  event.waitUntil(
    (async () => {
      if (await visibleTab()) return;
      const words = await strings();
      const body = words.from.replace('{sender}', String(data.sender ?? '')).replace('{text}', String(data.text ?? ''));
      await self.registration.showNotification(String(data.title || 'War room'), {
        body,
        tag: `room-${data.room_id}`,
        renotify: data.kind === 'page',
        requireInteraction: data.kind === 'page',
        icon: './icons/icon-192.png',
        data: { room_id: data.room_id, kind: data.kind, url: `./#/rooms/${data.room_id}` },
        actions: data.kind === 'page' ? [{ action: 'take', title: words.take }] : [],
      });
    })(),
  );
});

async function openRoom(notification, action) {
  notification.close();
  const roomId = notification.data && notification.data.room_id;
  if (typeof roomId !== 'string') return;
  const target = new URL(`./#/rooms/${roomId}${action === 'take' ? '?take=1' : ''}`, self.registration.scope).href;
  const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const tab = tabs.find((c) => c.url.startsWith(self.registration.scope));
  if (tab) {
    tab.postMessage({ type: 'open-room', room_id: roomId, take: action === 'take' });
    // Only a real click may focus a window (the browser refuses otherwise)
    await tab.focus().catch(() => undefined);
    return;
  }
  await self.clients.openWindow(target);
}

self.addEventListener('notificationclick', (event) => {
  event.waitUntil(openRoom(event.notification, event.action));
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'strings' && data.strings) {
    // The page's language: kept in the cache, since a worker's memory does not last.
    event.waitUntil(
      caches.open(SHELL).then((cache) =>
        cache.put(STRINGS, new Response(JSON.stringify(data.strings), { headers: { 'Content-Type': 'application/json' } })),
      ),
    );
  }
});
