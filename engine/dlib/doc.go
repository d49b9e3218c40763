// Package dlib runs dlib's face models through github.com/Kagami/go-face:
// an Embedder (dlib's 29-layer ResNet, 128-d descriptors compared by
// Euclidean distance) and a HOG Detector (with 68-point landmarks).
//
// go-face accepts only encoded JPEG images and always runs its own HOG
// detection, landmarks and ResNet on them. The Embedder therefore crops the
// face the pipeline's detector found (with a wide margin), scales the crop
// so the face is about Config.FaceSize pixels wide, encodes it as JPEG and
// lets dlib find the face again; the face whose box best overlaps the
// expected position is the one embedded. The Detector is the slow HOG path,
// kept for comparison benchmarks; the live path uses an ONNX detector.
//
// Model files (under <model root>/dlib/) are verified against the model
// catalogue (package models) before dlib reads them, because a corrupt file
// may make dlib throw or abort.
//
// Licence note: go-face needs shape_predictor_5_face_landmarks.dat; here it
// is Debian's 68-point predictor under that name, trained on iBUG 300-W,
// whose licence forbids commercial use.
//
// Build: go-face compiles with -march=native (binaries are tied to the
// build machine's CPU family) and links -ldlib -lblas -lcblas -llapack
// -ljpeg (Debian: libdlib-dev, libatlas-base-dev, libjpeg-dev).
package dlib
