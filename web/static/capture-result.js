// The end of a run: the result screen, and the hand-over to the CA (the
// auto-submitted form carrying the assertion, or POST …/handover after a
// moderator's approval).
import { $, hasKey } from './capture-text.js';
import { api, readError, sessionProblem, showLocked, showMessage, ui } from './capture-steps.js';
import { run } from './capture-rtc.js';

const OUTCOMES = ['match', 'no_match', 'liveness_failed', 'timeout', 'locked', 'moderation', 'error'];
const REVIEW_REASONS = ['register_photo_missing', 'register_photo_unusable'];

const AUTO_SUBMIT_MS = 2000;

export function onResult(m) {
  run.finished = true;
  const outcome = OUTCOMES.includes(m.outcome) ? m.outcome : 'error';
  const left = Number.isInteger(m.attempts_left) && m.attempts_left >= 0 ? m.attempts_left : null;
  if (outcome === 'match') { showSuccess(m.next); return; }
  if (outcome === 'locked') { showLocked(m.retry_after_seconds); return; }
  if (outcome === 'moderation') {
    showMessage({ kind: 'info', title: 'result.review.title', text: 'reason.moderation', ret: true });
    return;
  }
  let reason = 'unknown';
  if (typeof m.reason === 'string' && hasKey('reason.' + m.reason)) reason = m.reason;
  else if (hasKey('reason.' + outcome)) reason = outcome;
  const review = REVIEW_REASONS.includes(reason);
  const retry = !review && left !== 0;
  let extra = null;
  if (left === 0) extra = 'result.no_attempts';
  else if (left !== null && !review) extra = 'result.attempts_left';
  showMessage({
    kind: 'fail', title: 'result.fail.title', text: 'reason.' + reason,
    extra, extraArgs: extra === 'result.attempts_left' ? { n: left } : null,
    retry, ret: !retry,
  });
}

function showSuccess(next) {
  const form = nextForm(next);
  showMessage({
    kind: 'ok', title: 'result.match.title',
    text: form ? 'result.match.text' : 'result.match.text_no_next',
    cont: Boolean(form), ret: !form,
  });
  if (form) ui.autoSubmit = setTimeout(() => form.submit(), AUTO_SUBMIT_MS);
}

// A moderator approved the session after the capture: the applicant comes
// back by the same link and continues to the CA. The assertion is issued
// only when they press Continue, and only once.
export function showApproved() {
  ui.handover = true;
  showMessage({ kind: 'ok', title: 'result.approved.title', text: 'result.approved.text', cont: true });
}

export async function handover() {
  const btn = $('continue');
  btn.disabled = true;
  try {
    const r = await fetch(api('handover'), { method: 'POST', cache: 'no-store', credentials: 'same-origin' });
    if (r.ok) {
      const form = nextForm(await r.json());
      if (form) { form.submit(); return; }
    } else {
      const e = await readError(r);
      if (r.status === 410 && e.error === 'handed_over') {
        ui.handover = false;
        showMessage({ kind: 'fail', title: 'error.handed_over.title', text: 'error.handed_over.text', ret: true });
        return;
      }
      if (sessionProblem(r.status, e)) { ui.handover = false; return; }
    }
    showMessage({ kind: 'fail', title: 'error.connection.title', text: 'error.connection.text', cont: true });
  } catch (err) {
    showMessage({ kind: 'fail', title: 'error.connection.title', text: 'error.connection.text', cont: true });
  } finally {
    btn.disabled = false;
  }
}

// nextForm fills the hidden form that carries the assertion to the CA.
// http is refused when this page itself is served over https.
function nextForm(next) {
  if (!next || typeof next !== 'object' || typeof next.url !== 'string') return null;
  let url;
  try { url = new URL(next.url, window.location.href); } catch (e) { return null; }
  const okProto = url.protocol === 'https:' || (url.protocol === 'http:' && window.location.protocol === 'http:');
  if (!okProto) return null;
  const method = String(next.method || 'POST').toUpperCase();
  if (method !== 'POST' && method !== 'GET') return null;
  const form = $('next-form');
  form.replaceChildren();
  form.action = url.href;
  form.method = method.toLowerCase();
  if (next.fields && typeof next.fields === 'object') {
    for (const [name, value] of Object.entries(next.fields)) {
      if (typeof value !== 'string') continue;
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.append(input);
    }
  }
  return form;
}
