// Applicant-facing text and preferences: the dictionaries of #vidid-i18n (the i18n
// package's capture dictionaries), the chosen language, dates written with
// the dictionaries' own month names, and the contrast and no-flashing choices.

export const $ = (id) => document.getElementById(id);

export const cfg = JSON.parse($('vidid-config').textContent);
const I18N = JSON.parse($('vidid-i18n').textContent);

export const LANGS = ['kk', 'ru', 'en'];

// ---- preferences (persisted; storage may be unavailable) ----

export const store = {
  get(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } },
  set(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } },
};
const media = (q) => (window.matchMedia ? window.matchMedia(q).matches : false);
const boolPref = (key, dflt) => {
  const v = store.get(key);
  return v === '1' ? true : v === '0' ? false : dflt;
};

function pickLang() {
  const saved = store.get('vidid-lang');
  if (LANGS.includes(saved)) return saved;
  if (LANGS.includes(cfg.lang)) return cfg.lang;
  for (const l of navigator.languages || [navigator.language || '']) {
    const base = String(l).toLowerCase().split(/[-_]/)[0];
    if (LANGS.includes(base)) return base;
  }
  return 'kk';
}

export const prefs = {
  lang: pickLang(),
  contrast: boolPref('vidid-contrast', media('(prefers-contrast: more)')),
  safe: boolPref('vidid-safe', media('(prefers-reduced-motion: reduce)')),
};

// ---- text ----

function t(key, args) {
  const d = I18N[prefs.lang] || {};
  let s = d[key];
  if (s === undefined) s = (I18N.en || {})[key];
  if (s === undefined) s = key;
  if (args) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in args ? String(args[k]) : m));
  return s;
}
export const hasKey = (key) => key in (I18N.en || {});

// setText shows a dictionary entry in el and remembers it, so a language
// switch re-renders it.
export function setText(el, key, args) {
  el.dataset.i18n = key;
  if (args) el.dataset.i18nArgs = JSON.stringify(args);
  else delete el.dataset.i18nArgs;
  el.textContent = t(key, args);
}
export function clearText(el) {
  delete el.dataset.i18n;
  delete el.dataset.i18nArgs;
  el.textContent = '';
}

export function renderAll() {
  document.documentElement.lang = prefs.lang;
  document.title = t('app.title');
  for (const el of document.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n, el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : null);
  }
  for (const el of document.querySelectorAll('[data-i18n-aria]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  }
  renderExpiry();
}

function renderExpiry() {
  const el = $('expires');
  const at = Date.parse(cfg.expiresAt || '');
  if (!Number.isFinite(at)) { el.hidden = true; return; }
  let when;
  try {
    const locale = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' }[prefs.lang];
    when = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short' }).format(new Date(at));
  } catch (e) {
    when = new Date(at).toLocaleString();
  }
  setText(el, 'expires.until', { time: when });
  el.hidden = false;
}

export function applyPrefs() {
  const root = document.documentElement;
  root.classList.toggle('hc', prefs.contrast);
  root.classList.toggle('lc', !prefs.contrast);
  $('pref-contrast').checked = prefs.contrast;
  $('pref-safe').checked = prefs.safe;
  $('lang').value = prefs.lang;
}
