// The end of a run: the result screen, and the hand-over to the CA (the
// auto-submitted form carrying the assertion). After a moderator's
// approval the assertion comes the same way, from a short fresh capture:
// the link alone yields nothing.
import { $, hasKey } from './capture-text.js';
import { showLocked, showMessage, ui } from './capture-steps.js';
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
// back by the same link, and Continue starts the short live capture that
// hands the assertion over (once, within the hand-over window).
export function showApproved() {
  ui.handover = true;
  showMessage({ kind: 'ok', title: 'result.approved.title', text: 'result.approved.text', cont: true });
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
