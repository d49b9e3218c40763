// The page's steps (consent, camera, message) and the messages that end a
// capture: failures, a lock with its countdown, refused requests, and the
// consent answer.
import { $, cfg, clearText, prefs, setText } from './capture-text.js';
import { startCapture, stopRun } from './capture-rtc.js';

export const api = (what) => `/v1/capture/${encodeURIComponent(cfg.token)}/${what}`;

// ---- steps ----

const STEPS = ['consent', 'camera', 'message'];
export function showStep(name, focus = true) {
  for (const s of STEPS) $('step-' + s).hidden = s !== name;
  document.body.dataset.step = name;
  if (!focus) return;
  const section = $('step-' + name);
  const h = section.querySelector('h2');
  if (h) h.focus({ preventScroll: true }); // screen readers start at the new step
  // Show as much of the step as fits: on a phone the header yields to it.
  const box = section.getBoundingClientRect();
  if (box.bottom > window.innerHeight || box.top < 0) section.scrollIntoView({ block: 'start' });
}

// ui holds timers that outlive one capture run.
export const ui = { countdown: 0, autoSubmit: 0, handover: false };

// showMessage ends any capture (camera off) and shows the message step.
export function showMessage(o) {
  stopRun();
  clearInterval(ui.countdown);
  clearTimeout(ui.autoSubmit);
  $('message').dataset.kind = o.kind;
  $('message-use').setAttribute('href', '#i-' + o.kind);
  setText($('message-title'), o.title);
  setText($('message-text'), o.text, o.textArgs);
  const extra = $('message-extra');
  if (o.extra) { setText(extra, o.extra, o.extraArgs); extra.hidden = false; } else { clearText(extra); extra.hidden = true; }
  const cd = $('countdown');
  clearText(cd);
  cd.hidden = true;
  $('retry').hidden = !o.retry;
  $('continue').hidden = !o.cont;
  $('change-consent').hidden = !o.change;
  if ($('return')) $('return').hidden = !o.ret;
  showStep('message');
}

export function showProblem(kind) {
  const final = kind === 'no_webrtc' || kind === 'insecure';
  showMessage({ kind: 'fail', title: `error.${kind}.title`, text: `error.${kind}.text`, retry: !final });
}

function showDeclined() {
  showMessage({ kind: 'info', title: 'declined.title', text: 'declined.text', change: true, ret: true });
}

export function showLocked(seconds) {
  showMessage({ kind: 'lock', title: 'result.locked.title', text: 'result.locked.text', ret: true });
  const secs = Number(seconds);
  const cd = $('countdown');
  const over = () => {
    clearInterval(ui.countdown);
    clearText(cd);
    cd.hidden = true;
    const extra = $('message-extra');
    setText(extra, 'result.locked.over');
    extra.hidden = false;
  };
  if (!Number.isFinite(secs) || secs <= 0) { over(); return; }
  const end = Date.now() + secs * 1000;
  const tick = () => {
    const left = Math.ceil((end - Date.now()) / 1000);
    if (left <= 0) { over(); return; }
    setText(cd, 'result.locked.countdown', { time: mmss(left) });
  };
  cd.hidden = false;
  tick();
  ui.countdown = setInterval(tick, 1000);
}

function mmss(s) {
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

// sessionProblem shows the screen for a refused request; false means the
// status is not a session state (the caller shows its own error).
export function sessionProblem(status, e) {
  switch (status) {
    case 423:
      showLocked(e.retry_after_seconds);
      return true;
    case 410: {
      const gone = {
        closed: ['error.closed.title', 'error.closed.text'],
        handed_over: ['error.handed_over.title', 'error.handed_over.text'],
        handover_expired: ['result.handover_expired.title', 'result.handover_expired.text'],
      };
      const [title, text] = gone[e.error] || ['error.expired.title', 'error.expired.text'];
      showMessage({ kind: 'fail', title, text, ret: true });
      return true;
    }
    case 404:
      showMessage({ kind: 'fail', title: 'error.unknown_session.title', text: 'error.unknown_session.text', ret: true });
      return true;
    case 409:
      showMessage({ kind: 'info', title: 'error.busy.title', text: 'error.busy.text', retry: true });
      return true;
    case 403:
      if (e.error === 'consent_required') {
        stopRun();
        showStep('consent');
        return true;
      }
      return false;
    default:
      return false;
  }
}

// readError reads {"error", "message", "retry_after_seconds"}; a body that
// is not JSON yields {} (the status still decides).
export async function readError(r) {
  let e = {};
  try {
    const j = await r.json();
    if (j && typeof j === 'object') e = j;
  } catch (err) { /* not JSON */ }
  if (e.retry_after_seconds === undefined) {
    const ra = Number(r.headers.get('Retry-After'));
    if (Number.isFinite(ra) && ra > 0) e.retry_after_seconds = ra;
  }
  return e;
}

// ---- consent ----

export async function answerConsent(accepted) {
  const buttons = [$('agree'), $('decline')];
  const err = $('consent-error');
  buttons.forEach((b) => { b.disabled = true; });
  err.hidden = true;
  try {
    const r = await fetch(api('consent'), {
      method: 'POST', cache: 'no-store', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ accepted, lang: prefs.lang }),
    });
    if (r.ok) {
      if (accepted) startCapture(); else showDeclined();
      return;
    }
    const e = await readError(r);
    if (!sessionProblem(r.status, e)) { setText(err, 'consent.error'); err.hidden = false; }
  } catch (e) {
    setText(err, 'consent.error');
    err.hidden = false;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}
