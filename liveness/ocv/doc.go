// Package ocv runs the passive liveness models on OpenCV DNN (through
// engine/ocv's verified, exception-safe network wrapper):
//
//   - Fused (minifasnet/*.onnx): the default passive scorer, the mean
//     p(live) of MiniFASNetV2 (crop scale 2.7) and MiniFASNetV1SE (4.0);
//     ScoreAll also returns each model's score. MiniFASNet runs one model.
//   - Passive (fr_liveness.onnx): the former default, an optional cue.
//
// All satisfy liveness.PassiveScorer. Every type is safe for concurrent
// use; calls are serialised by a mutex because an OpenCV network runs one
// forward pass at a time. Create one instance per goroutine for parallel
// work. Close frees the C++ memory and is idempotent. Crops and input
// layouts follow docs/models.md (shared/models/faceplugin/MODELS.md and
// shared/models/minifasnet/MODELS.md).
package ocv
