// The server's messages during a run: guidance and the oval, challenge
// prompts, and the colour cue (never painted in the no-flashing mode).
import { $, clearText, prefs, setText } from './capture-text.js';
import { run } from './capture-rtc.js';
import { onResult } from './capture-result.js';

const PHASES = ['small_oval', 'approach', 'large_oval', 'challenge', 'processing', 'done'];
const CODES = ['face_not_found', 'center_face', 'move_closer', 'move_back', 'too_dark', 'too_bright',
  'blurry', 'hold_still', 'one_face_only', 'look_straight', 'ok'];
const CHALLENGES = ['turn_left', 'turn_right', 'blink', 'smile', 'nod'];

const FLASH_MIN_MS = 50;
const FLASH_MAX_MS = 2000;

// ---- server messages ----

export function onServerMessage(data) {
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

export function setPhase(p) {
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

export function hideFlash() {
  const f = $('flash');
  f.hidden = true;
  f.style.backgroundColor = '';
}
