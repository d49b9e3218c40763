#!/usr/bin/env python3
"""Times the same ONNX models through Python's OpenCV on this machine, one
thread, as a same-machine reference for vidid's Go benchmarks (CPU ms).

Needs Debian's python3-opencv (not installed by `make deps`):
    apt-get install python3-opencv && scripts/opencv-reference.py [MODELS] [FRAME.jpg]
"""
import sys
import time

import cv2
import numpy as np

models = sys.argv[1] if len(sys.argv) > 1 else "var/models"
frame = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/spoof/bonafide/s01-apfol-frames/s01-apfol-real2-01.jpg"
cv2.setNumThreads(1)
img = cv2.imread(frame)
det = cv2.dnn.readNetFromONNX(f"{models}/faceplugin/fr_detect.onnx")
lm = cv2.dnn.readNetFromONNX(f"{models}/faceplugin/fr_landmark.onnx")
emb = cv2.dnn.readNetFromONNX(f"{models}/faceplugin/fr_feature.onnx")


def cpu_ms(fn, n=40):
    fn()
    ts = []
    for _ in range(n):
        t = time.process_time()
        fn()
        ts.append(time.process_time() - t)
    ts.sort()
    return 1000 * ts[len(ts) // 2]


def detect():
    b = cv2.dnn.blobFromImage(cv2.resize(img, (320, 240)), 1 / 128.0, (320, 240), (127, 127, 127))
    det.setInput(b)
    det.forward(det.getUnconnectedOutLayersNames())


def landmarks():
    crop = cv2.cvtColor(cv2.resize(img[100:350, 200:450], (64, 64)), cv2.COLOR_BGR2GRAY)
    lm.setInput(crop.reshape(1, 1, 64, 64).astype(np.float32) / 256)
    lm.forward()


def embed():
    m = np.array([[0.5, 0, -100], [0, 0.5, -50]], dtype=np.float64)
    chip = cv2.warpAffine(img, m, (112, 112))
    emb.setInput(cv2.dnn.blobFromImage(chip, 1 / 128.0, (112, 112), (127, 127, 127)))
    emb.forward()


def pipeline():
    detect()
    landmarks()
    embed()


# Each stage alone (warm caches), then the three in sequence per frame,
# which is what a pipeline pays and what vidid's BenchmarkProbe measures.
d, l, e = cpu_ms(detect), cpu_ms(landmarks), cpu_ms(embed)
p = cpu_ms(pipeline)
print(f"python+opencv, 1 thread, CPU ms: detect {d:.1f}  landmarks {l:.1f}  align+embed {e:.1f}  "
      f"sum {d + l + e:.1f}  in sequence {p:.1f}")
