// One capture run: the camera, the WebRTC peer connection and its data
// channel "guidance" (non-trickle offer to POST …/offer).
import { $, cfg, clearText, prefs, setText } from './capture-text.js';
import { api, readError, sessionProblem, showProblem, showStep, ui } from './capture-steps.js';
import { hideFlash, onServerMessage, setPhase } from './capture-guidance.js';

const CONNECT_TIMEOUT_MS = 15000; // camera on → data channel open
const ICE_GATHER_MAX_MS = 5000; // non-trickle: send what we have by then

// ---- capture run: camera + peer connection ----

export const run = { id: 0, stream: null, pc: null, dc: null, timer: 0, flashTimer: 0, finished: false, lastCode: '' };

// stopRun ends the current run (if any): closes the channel and the peer,
// stops the camera, and makes the run's late callbacks no-ops.
export function stopRun() {
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

export async function startCapture() {
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
      // The camera's label, for the server's virtual-camera check.
      send({ type: 'camera', label: (run.stream.getVideoTracks()[0] || {}).label || '' });
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
export function sendSettings() {
  send({ type: 'settings', photosensitive_safe: prefs.safe });
}
