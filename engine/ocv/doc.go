// Package ocv runs the Faceplugin ONNX face models on OpenCV 4.6 DNN (gocv
// v0.31 for Mats and image operations, a small exception-safe C++ wrapper,
// dnn.cpp, for the networks):
//
//   - Detector (fr_detect.onnx): Ultra-Light face detector; engine.Detector.
//   - Landmarker (fr_landmark.onnx): 68 iBUG points; engine.Landmarker.
//   - Embedder (fr_feature.onnx): 512-d embedding after a 5-point
//     least-squares similarity alignment onto the ArcFace 112x112 template;
//     engine.Embedder, cosine metric.
//
// Input layouts, crops and scalings follow shared/models/faceplugin/MODELS.md.
//
// Model files. Every constructor goes through models.Path, which checks the
// file's size and sha256 against the catalogue before OpenCV sees it (OpenCV
// aborts the process on some corrupt ONNX files); C++ exceptions from
// reading or running a network are caught and returned as errors wrapping
// ErrOpenCV. Model-file errors wrap both engine.ErrModel and models.ErrModel.
//
// Concurrency. Each stage is safe for concurrent use, but its calls are
// serialised by a mutex: an OpenCV network runs one forward pass at a time
// and the stage reuses its input/output Mats between calls. For parallel
// work create one stage per goroutine.
//
// Threads. OpenCV's thread count is process-wide (cv::setNumThreads; gocv
// v0.31 does not wrap it, SetNumThreads here does). A config's Threads > 0
// sets it when the stage is constructed; the last setting wins for every
// stage in the process.
//
// Cancellation. The context is checked before each forward pass; a pass
// itself (a few to tens of milliseconds) cannot be interrupted.
//
// Close frees the C++ network and Mats and is idempotent; later calls fail
// with engine.ErrClosed. Tests under the matprofile build tag check that no
// Mat is left open.
package ocv
