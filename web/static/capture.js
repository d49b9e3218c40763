// vidid capture page: consent → camera → WebRTC to the engine → result.
// Plain ES2020, no dependencies. The server speaks through the ordered data
// channel "guidance" (guidance, challenge, screen_colour, result); the page
// answers with settings and start. Applicant-facing text comes only from the
// dictionaries in #vidid-i18n (i18n/{kk,ru,en}.json).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  const cfg = JSON.parse($('vidid-config').textContent);
  const I18N = JSON.parse($('vidid-i18n').textContent);

  const LANGS = ['kk', 'ru', 'en'];
  const PHASES = ['small_oval', 'approach', 'large_oval', 'challenge', 'processing', 'done'];
  const CODES = ['face_not_found', 'center_face', 'move_closer', 'move_back', 'too_dark', 'too_bright',
    'blurry', 'hold_still', 'one_face_only', 'look_straight', 'ok'];
  const CHALLENGES = ['turn_left', 'turn_right', 'blink', 'smile', 'nod'];
  const OUTCOMES = ['match', 'no_match', 'liveness_failed', 'timeout', 'locked', 'moderation', 'error'];
  const REVIEW_REASONS = ['register_photo_missing', 'register_photo_unusable'];

  const CONNECT_TIMEOUT_MS = 15000; // camera on → data channel open
  const ICE_GATHER_MAX_MS = 5000; // non-trickle: send what we have by then
  const AUTO_SUBMIT_MS = 2000;
  const FLASH_MIN_MS = 50;
  const FLASH_MAX_MS = 2000;

  const api = (what) => `/v1/capture/${encodeURIComponent(cfg.token)}/${what}`;

  // ---- preferences (persisted; storage may be unavailable) ----

  const store = {
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

  const prefs = {
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
  const hasKey = (key) => key in (I18N.en || {});

  // setText shows a dictionary entry in el and remembers it, so a language
  // switch re-renders it.
  function setText(el, key, args) {
    el.dataset.i18n = key;
    if (args) el.dataset.i18nArgs = JSON.stringify(args);
    else delete el.dataset.i18nArgs;
    el.textContent = t(key, args);
  }
  function clearText(el) {
    delete el.dataset.i18n;
    delete el.dataset.i18nArgs;
    el.textContent = '';
  }

  function renderAll() {
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

  function applyPrefs() {
    const root = document.documentElement;
    root.classList.toggle('hc', prefs.contrast);
    root.classList.toggle('lc', !prefs.contrast);
    $('pref-contrast').checked = prefs.contrast;
    $('pref-safe').checked = prefs.safe;
    $('lang').value = prefs.lang;
  }

  // ---- steps ----

  const STEPS = ['consent', 'camera', 'message'];
  function showStep(name, focus = true) {
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
  const ui = { countdown: 0, autoSubmit: 0, handover: false };

  // showMessage ends any capture (camera off) and shows the message step.
  function showMessage(o) {
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

  function showProblem(kind) {
    const final = kind === 'no_webrtc' || kind === 'insecure';
    showMessage({ kind: 'fail', title: `error.${kind}.title`, text: `error.${kind}.text`, retry: !final });
  }

  function showDeclined() {
    showMessage({ kind: 'info', title: 'declined.title', text: 'declined.text', change: true, ret: true });
  }

  function showLocked(seconds) {
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
  function sessionProblem(status, e) {
    switch (status) {
      case 423:
        showLocked(e.retry_after_seconds);
        return true;
      case 410: {
        const k = e.error === 'closed' ? 'closed' : 'expired';
        showMessage({ kind: 'fail', title: `error.${k}.title`, text: `error.${k}.text`, ret: true });
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
  async function readError(r) {
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

  async function answerConsent(accepted) {
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

  // ---- capture run: camera + peer connection ----

  const run = { id: 0, stream: null, pc: null, dc: null, timer: 0, flashTimer: 0, finished: false, lastCode: '' };

  // stopRun ends the current run (if any): closes the channel and the peer,
  // stops the camera, and makes the run's late callbacks no-ops.
  function stopRun() {
    run.id++;
    clearTimeout(run.timer);
    clearTimeout(run.flashTimer);
    hideFlash();
    if (run.dc) {
      run.dc.onopen = run.dc.onmessage = run.dc.onclose = null;
      try { run.dc.close(); } catch (e) { /* already closed */ }
    }
    if (run.pc) {
      run.pc.onconnectionstatechange = null;
      try { run.pc.close(); } catch (e) { /* already closed */ }
    }
    if (run.stream) run.stream.getTracks().forEach((tr) => tr.stop());
    $('video').srcObject = null;
    run.stream = run.pc = run.dc = null;
  }

  function resetCameraView() {
    const stage = $('stage');
    stage.dataset.phase = '';
    stage.dataset.state = 'neutral';
    setPhase('small_oval');
    $('progress').value = 0;
    $('challenge-box').hidden = true;
    run.finished = false;
    run.lastCode = '';
  }

  async function startCapture() {
    stopRun();
    const id = run.id;
    const live = () => id === run.id;
    clearInterval(ui.countdown);
    clearTimeout(ui.autoSubmit);
    resetCameraView();
    showStep('camera');
    setText($('guidance'), 'camera.starting');

    if (!window.isSecureContext) { showProblem('insecure'); return; }
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function' ||
        typeof window.RTCPeerConnection !== 'function') {
      showProblem('no_webrtc');
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } },
        audio: false,
      });
    } catch (err) {
      if (live()) showProblem(cameraProblem(err));
      return;
    }
    if (!live()) { stream.getTracks().forEach((tr) => tr.stop()); return; }
    run.stream = stream;
    const video = $('video');
    video.srcObject = stream;
    video.play().catch(() => { /* autoplay of a muted stream; nothing to do */ });
    connect(id);
  }

  function cameraProblem(err) {
    switch (err && err.name) {
      case 'NotAllowedError':
      case 'PermissionDeniedError':
      case 'SecurityError':
        return 'camera_denied';
      case 'NotFoundError':
      case 'DevicesNotFoundError':
      case 'OverconstrainedError':
        return 'no_camera';
      case 'NotReadableError':
      case 'TrackStartError':
      case 'AbortError':
        return 'camera_busy';
      default:
        return 'camera_other';
    }
  }

  async function connect(id) {
    const live = () => id === run.id;
    setText($('guidance'), 'camera.connecting');
    const abort = new AbortController();
    run.timer = setTimeout(() => {
      abort.abort();
      if (live()) showProblem('connection');
    }, CONNECT_TIMEOUT_MS);
    try {
      const pc = new RTCPeerConnection({ iceServers: Array.isArray(cfg.iceServers) ? cfg.iceServers : [] });
      run.pc = pc;
      for (const track of run.stream.getVideoTracks()) pc.addTrack(track, run.stream);
      // The channel must exist before the offer so that the offer carries it.
      const dc = pc.createDataChannel('guidance', { ordered: true });
      run.dc = dc;
      dc.onopen = () => {
        if (!live()) return;
        clearTimeout(run.timer);
        sendSettings();
        send({ type: 'start' });
        clearText($('guidance')); // the server's guidance comes next
      };
      dc.onmessage = (ev) => { if (live()) onServerMessage(ev.data); };
      dc.onclose = () => { if (live() && !run.finished) showProblem('connection'); };
      pc.onconnectionstatechange = () => {
        if (live() && !run.finished && pc.connectionState === 'failed') showProblem('connection');
      };

      await pc.setLocalDescription(await pc.createOffer());
      await gatheringComplete(pc, ICE_GATHER_MAX_MS);
      if (!live()) return;
      const r = await fetch(api('offer'), {
        method: 'POST', cache: 'no-store', credentials: 'same-origin', signal: abort.signal,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'offer', sdp: pc.localDescription.sdp }),
      });
      if (!live()) return;
      if (!r.ok) {
        const e = await readError(r);
        if (!live()) return;
        if (!sessionProblem(r.status, e)) showProblem('connection');
        return;
      }
      const answer = await r.json();
      if (!live()) return;
      if (!answer || answer.type !== 'answer' || typeof answer.sdp !== 'string') throw new Error('malformed answer');
      await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    } catch (err) {
      if (live()) showProblem('connection');
    }
  }

  function gatheringComplete(pc, maxMs) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => { if (pc.iceGatheringState === 'complete') done(); };
      const timer = setTimeout(done, maxMs);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  function send(msg) {
    if (run.dc && run.dc.readyState === 'open') run.dc.send(JSON.stringify(msg));
  }
  function sendSettings() {
    send({ type: 'settings', photosensitive_safe: prefs.safe });
  }

  // ---- server messages ----

  function onServerMessage(data) {
    if (typeof data !== 'string' || data.length > 65536) return;
    let m;
    try { m = JSON.parse(data); } catch (e) { return; }
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'guidance': onGuidance(m); break;
      case 'challenge': onChallenge(m); break;
      case 'screen_colour': onScreenColour(m); break;
      case 'result': onResult(m); break;
      default: break; // unknown types are ignored: newer servers may add some
    }
  }

  function setPhase(p) {
    const stage = $('stage');
    if (stage.dataset.phase === p) return;
    stage.dataset.phase = p;
    setText($('phase-text'), 'phase.' + p);
    if (p !== 'challenge') $('challenge-box').hidden = true;
    if (p === 'processing' || p === 'done') {
      run.lastCode = '';
      stage.dataset.state = 'neutral';
      setText($('guidance'), 'phase.' + p);
    }
  }

  function onGuidance(m) {
    if (PHASES.includes(m.phase)) setPhase(m.phase);
    if (typeof m.progress === 'number' && Number.isFinite(m.progress)) {
      $('progress').value = Math.min(1, Math.max(0, m.progress));
    }
    const phase = $('stage').dataset.phase;
    if (phase === 'processing' || phase === 'done') return;
    if (!CODES.includes(m.code)) return;
    $('stage').dataset.state = m.code === 'ok' ? 'ok' : 'neutral';
    if (m.code !== run.lastCode) { // repeat messages must not re-announce
      run.lastCode = m.code;
      setText($('guidance'), 'guidance.' + m.code);
    }
  }

  function onChallenge(m) {
    if (!CHALLENGES.includes(m.code)) return;
    setPhase('challenge');
    $('challenge-box').hidden = false;
    $('challenge-use').setAttribute('href', '#i-' + m.code);
    setText($('challenge-text'), 'challenge.' + m.code);
    const step = $('challenge-step');
    const total = m.total;
    const index = m.index;
    if (Number.isInteger(total) && Number.isInteger(index) && index >= 1 && index <= total && total <= 20) {
      setText(step, 'challenge.step', { index, total });
      step.hidden = false;
    } else {
      clearText(step);
      step.hidden = true;
    }
  }

  function onScreenColour(m) {
    if (prefs.safe) return; // photosensitivity-safe: never paint
    if (typeof m.colour !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(m.colour)) return;
    const ms = Math.min(FLASH_MAX_MS, Math.max(FLASH_MIN_MS, Number(m.ms) || 300));
    const f = $('flash');
    f.style.backgroundColor = m.colour;
    f.hidden = false;
    clearTimeout(run.flashTimer);
    run.flashTimer = setTimeout(hideFlash, ms);
  }

  function hideFlash() {
    const f = $('flash');
    f.hidden = true;
    f.style.backgroundColor = '';
  }

  function onResult(m) {
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
  function showApproved() {
    ui.handover = true;
    showMessage({ kind: 'ok', title: 'result.approved.title', text: 'result.approved.text', cont: true });
  }

  async function handover() {
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
      if (ui.handover) { handover(); return; }
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
})();
