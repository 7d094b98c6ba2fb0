/**
 * The installable app and Web Push on the page's side (issue 19): registering the
 * service worker (public/sw.js), the manifest in the reader's language, "Push to this
 * device", and the worker's "open this room" when a notification is clicked.
 */

import type { Api } from '../api';
import { currentLocale, t } from '../i18n';
import { navigate, roomHref } from '../router';

export function pushSupported(): boolean {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof window !== 'undefined' && 'PushManager' in window;
}

let takeHandler: ((roomId: string) => void) | null = null;
let pendingTake: string | null = null; // "Take it" opened this window: take once signed in

/** What "Take it" on a notification does once the app is signed in. */
export function setTakeHandler(handler: ((roomId: string) => void) | null): void {
  takeHandler = handler;
  if (handler && pendingTake) {
    handler(pendingTake);
    pendingTake = null;
  }
}

/** The manifest's names and the notification's labels in the page's language. */
export function syncAppLanguage(): void {
  const link = document.querySelector<HTMLLinkElement>('link[rel="manifest"]');
  if (link) link.href = currentLocale() === 'zh-TW' ? 'manifest.zh-TW.webmanifest' : 'manifest.webmanifest';
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  void navigator.serviceWorker.ready.then((registration) =>
    registration.active?.postMessage({ type: 'strings', strings: { take: t('push.take'), from: t('push.from') } }),
  );
}

/** Registers the worker and follows its "open this room" (a notification's click). */
export async function registerServiceWorker(): Promise<void> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  const opened = /^#\/rooms\/([^/?]+)\?take=1$/.exec(location.hash);
  if (opened) {
    pendingTake = decodeURIComponent(opened[1]!);
    navigate(roomHref(pendingTake));
  }
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { type?: string; room_id?: string; take?: boolean } | null;
    if (data?.type === 'open-room' && typeof data.room_id === 'string') {
      navigate(roomHref(data.room_id));
      if (data.take) takeHandler?.(data.room_id);
    }
  });
  await navigator.serviceWorker.register('sw.js', { scope: './' });
  syncAppLanguage();
}

function keyBytes(base64url: string): Uint8Array {
  const padded = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export async function currentPushSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null;
  const registration = await navigator.serviceWorker.getRegistration();
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/** Subscribes this browser with the server's VAPID key and registers it with us. */
export async function enablePush(api: Api): Promise<void> {
  const registration = await navigator.serviceWorker.ready;
  const key = await api.vapidPublicKey();
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(key) as BufferSource,
  });
  await api.savePushSubscription(subscription.toJSON());
}

export async function disablePush(api: Api): Promise<void> {
  const subscription = await currentPushSubscription();
  if (!subscription) return;
  await api.deletePushSubscription(subscription.endpoint).catch(() => undefined);
  await subscription.unsubscribe();
}
