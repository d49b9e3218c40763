// vidid capture page: consent → camera → WebRTC to the engine → result.
// Plain ES2020 modules, no dependencies. The server speaks through the
// ordered data channel "guidance" (guidance, challenge, screen_colour,
// result); the page answers with settings, camera (its label) and start. Applicant-facing text
// comes only from the dictionaries in #vidid-i18n. This module wires the
// page together; capture-text.js (text, preferences), capture-steps.js
// (steps, messages, consent), capture-rtc.js (camera, WebRTC),
// capture-guidance.js (server messages, oval, prompts) and
// capture-result.js (result, hand-over to the CA) hold the rest.
import { $, applyPrefs, cfg, LANGS, prefs, renderAll, store } from './capture-text.js';
import { answerConsent, showMessage, showProblem, showStep, ui } from './capture-steps.js';
import { run, sendSettings, startCapture, stopRun } from './capture-rtc.js';
import { hideFlash } from './capture-guidance.js';
import { showApproved } from './capture-result.js';

// ---- wiring ----

function init() {
  applyPrefs();
  renderAll();
  $('lang').addEventListener('change', (ev) => {
    if (!LANGS.includes(ev.target.value)) return;
    prefs.lang = ev.target.value;
    store.set('vidid-lang', prefs.lang);
    renderAll();
  });
  $('pref-contrast').addEventListener('change', (ev) => {
    prefs.contrast = ev.target.checked;
    store.set('vidid-contrast', prefs.contrast ? '1' : '0');
    applyPrefs();
  });
  $('pref-safe').addEventListener('change', (ev) => {
    prefs.safe = ev.target.checked;
    store.set('vidid-safe', prefs.safe ? '1' : '0');
    if (prefs.safe) { clearTimeout(run.flashTimer); hideFlash(); }
    sendSettings();
  });
  $('agree').addEventListener('click', () => answerConsent(true));
  $('decline').addEventListener('click', () => answerConsent(false));
  $('retry').addEventListener('click', () => startCapture());
  $('change-consent').addEventListener('click', () => showStep('consent'));
  $('continue').addEventListener('click', () => {
    if (ui.handover) { ui.handover = false; startCapture(); return; }
    clearTimeout(ui.autoSubmit);
    $('next-form').submit();
  });
  const video = $('video');
  const fit = () => {
    if (video.videoWidth && video.videoHeight) {
      $('stage').style.setProperty('--ar', String(video.videoWidth / video.videoHeight));
    }
  };
  video.addEventListener('loadedmetadata', fit);
  video.addEventListener('resize', fit);
  window.addEventListener('pagehide', stopRun);
  window.addEventListener('pageshow', (ev) => {
    // Back from the back/forward cache: the run was stopped on pagehide.
    if (ev.persisted && document.body.dataset.step === 'camera') showProblem('connection');
  });

  switch (cfg.moderation) {
    case 'approved': showApproved(); return;
    case 'handover_expired':
      showMessage({ kind: 'fail', title: 'result.handover_expired.title', text: 'result.handover_expired.text', ret: true });
      return;
    case 'handed_over':
      showMessage({ kind: 'fail', title: 'error.handed_over.title', text: 'error.handed_over.text', ret: true });
      return;
    case 'pending':
      showMessage({ kind: 'info', title: 'result.review.title', text: 'reason.moderation', ret: true });
      return;
    case 'rejected':
      showMessage({ kind: 'fail', title: 'result.rejected.title', text: 'result.rejected.text', ret: true });
      return;
    default:
  }
  const exp = Date.parse(cfg.expiresAt || '');
  if (Number.isFinite(exp) && exp <= Date.now()) {
    showMessage({ kind: 'fail', title: 'error.expired.title', text: 'error.expired.text', ret: true });
    return;
  }
  if (cfg.consentAccepted) startCapture();
  else showStep('consent', false);
}

init();
