// Package ocv runs the Faceplugin liveness models on OpenCV DNN (through
// engine/ocv's verified, exception-safe network wrapper):
//
//   - Passive (fr_liveness.onnx): passive anti-spoofing, p(live) per frame;
//     satisfies liveness.PassiveScorer.
//
// Every type is safe for concurrent use; calls are serialised by a mutex
// because an OpenCV network runs one forward pass at a time. Create one
// instance per goroutine for parallel work. Close frees the C++ memory and
// is idempotent. Crops and input layouts follow
// shared/models/faceplugin/MODELS.md.
package ocv
