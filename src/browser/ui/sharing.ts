/// <reference lib="dom" />
// The viewer's sharing settings on the watch page: whether the page relays the stream to other
// viewers (the "Share with other viewers" switch) and an upload cap. The user's own choices are
// remembered in localStorage and always win; without one, uploading is off on a metered or
// mobile connection (uploadDefault), where relaying would spend someone's data allowance.

import type { BrowserViewer } from '../runtime.js';
import { byId, setText } from './dom.js';
import { formatBitrate } from './format.js';

const SETTINGS_KEY = 'meshtv.sharing';

export interface SharingSettings {
  /** Upload cap in bits per second; undefined = no cap. */
  uploadLimitBps: number | undefined;
  uploadEnabled: boolean;
  /** Why uploading is off when the user never chose (shown under the switch); undefined otherwise. */
  offByDefault?: string;
}

/** What the page knows of its connection (Network Information API) and device. */
export interface ConnectionHints {
  /** navigator.connection.type: 'cellular', 'wifi', 'ethernet', ...; undefined where the API or the field is missing. */
  type: string | undefined;
  /** The user asked for reduced data use (navigator.connection.saveData). */
  saveData: boolean;
  /** The device looks like a phone (see connectionHints). */
  mobile: boolean;
}

/** Connection types that usually cost the user by the byte: mobile data, or a phone's data shared over Bluetooth. */
const METERED_TYPES = new Set(['cellular', 'bluetooth']);
/** Connection types that usually do not. */
const UNMETERED_TYPES = new Set(['wifi', 'ethernet', 'wimax']);

/**
 * Whether a viewer who never chose uploads: not on a metered connection or with data saving on;
 * yes on a known unmetered one; otherwise (iOS Safari and Firefox have no connection type, desktop
 * Chromium none either) it depends on the device: a phone is likely on mobile data, a computer not.
 */
export function uploadDefault(c: ConnectionHints): { enabled: boolean; why?: string } {
  if (c.saveData) return { enabled: false, why: 'Sharing is off because your browser asks to save data.' };
  if (c.type !== undefined && METERED_TYPES.has(c.type)) return { enabled: false, why: 'Sharing is off because you are on mobile data.' };
  if (c.type !== undefined && UNMETERED_TYPES.has(c.type)) return { enabled: true };
  if (c.mobile) return { enabled: false, why: 'Sharing is off on phones unless you switch it on (it uses your data allowance).' };
  return { enabled: true };
}

interface NavigatorHints {
  connection?: { type?: string; saveData?: boolean };
  userAgentData?: { mobile?: boolean };
}

/**
 * Reads the hints in this browser. A device is taken for a phone when any sign says so: Chromium's
 * own answer (userAgentData.mobile), the "Mobi"/"Android" tokens every phone browser puts in its
 * user agent (Safari, Chrome and Firefox on phones), or a touch-first screen whose shorter side
 * is phone-sized (a phone asking for "desktop sites" drops the tokens). Any sign suffices because
 * a phone taken for a computer spends the user's data, while the reverse only needs a tap. An iPad
 * passes for a Mac and has a large screen: it counts as a computer, as many iPads are Wi-Fi only.
 */
export function connectionHints(): ConnectionHints {
  const nav = navigator as Navigator & NavigatorHints;
  const conn = nav.connection;
  const smallTouchScreen = matchMedia('(pointer: coarse)').matches && Math.min(screen.width, screen.height) < 600;
  return {
    type: typeof conn?.type === 'string' ? conn.type : undefined,
    saveData: conn?.saveData === true,
    mobile: nav.userAgentData?.mobile === true || /Mobi|Android/.test(nav.userAgent) || smallTouchScreen,
  };
}

/** The saved choices, or the defaults for this connection where the user has not chosen. */
export function loadSharingSettings(hints: ConnectionHints = connectionHints()): SharingSettings {
  const saved = readSaved();
  const cap = saved.uploadLimitBps;
  const uploadLimitBps = typeof cap === 'number' && Number.isFinite(cap) && cap > 0 ? cap : undefined;
  if (typeof saved.uploadEnabled === 'boolean') return { uploadLimitBps, uploadEnabled: saved.uploadEnabled };
  const d = uploadDefault(hints);
  return { uploadLimitBps, uploadEnabled: d.enabled, offByDefault: d.why };
}

function readSaved(): Record<string, unknown> {
  try {
    const raw = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') as unknown;
    return typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Remembers what the user changed, and only that: a cap set on mobile data must not turn the
 * default "off" into a choice that follows the user home to Wi-Fi.
 */
function saveChoice(choice: { uploadLimitBps?: number | undefined; uploadEnabled?: boolean }): void {
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify({ ...readSaved(), ...choice }));
  } catch {
    // storage refused (private mode, quota): the settings still apply to this visit
  }
}

/** Wires the switch, the cap field and the hint under them to the viewer. */
export function bindSettings(viewer: BrowserViewer, settings: SharingSettings): void {
  const cap = byId<HTMLInputElement>('upload-cap');
  const share = byId<HTMLInputElement>('share-upload');
  const hint = byId('upload-hint');
  cap.value = settings.uploadLimitBps === undefined ? '' : String(Math.round(settings.uploadLimitBps / 1000));
  share.checked = settings.uploadEnabled;
  cap.disabled = !share.checked;
  const describe = () =>
    setText(
      hint,
      !settings.uploadEnabled
        ? `${settings.offByDefault ?? 'Sharing is off.'} You watch without relaying: others get the stream from the broadcaster or other viewers.`
        : settings.uploadLimitBps === undefined
          ? 'You relay the stream to other viewers, as fast as your link allows.'
          : `You relay up to ${formatBitrate(settings.uploadLimitBps)} to other viewers.`,
    );
  describe();

  cap.addEventListener('change', () => {
    const text = cap.value.trim();
    const kbps = Number(text);
    if (text !== '' && (!Number.isFinite(kbps) || kbps < 1)) {
      cap.setAttribute('aria-invalid', 'true');
      setText(hint, 'Enter a cap of at least 1 kbit/s, or leave it empty for no cap.');
      return;
    }
    cap.removeAttribute('aria-invalid');
    settings.uploadLimitBps = text === '' ? undefined : Math.round(kbps * 1000);
    viewer.setUploadLimit(settings.uploadLimitBps);
    saveChoice({ uploadLimitBps: settings.uploadLimitBps });
    describe();
  });
  share.addEventListener('change', () => {
    settings.uploadEnabled = share.checked;
    settings.offByDefault = undefined;
    cap.disabled = !share.checked;
    viewer.setUploadEnabled(settings.uploadEnabled);
    saveChoice({ uploadEnabled: settings.uploadEnabled });
    describe();
  });
}
