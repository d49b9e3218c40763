#!/usr/bin/env python3
"""Rebuilds vidid's two MiniFASNet ONNX files from the upstream PyTorch weights.

Upstream: github.com/minivision-ai/Silent-Face-Anti-Spoofing (Apache-2.0) at
b6d5f04ad78778917853b25c778acef6d5626d15, resources/anti_spoof_models/:
  2.7_80x80_MiniFASNetV2.pth     sha256 a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0
  4_0_0_80x80_MiniFASNetV1SE.pth sha256 84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990

The network is written here from its description (a MobileFaceNet-style
stack of 1x1 expand / 3x3 depthwise / 1x1 project blocks with per-channel
PReLU, pruned channel widths, and in V1SE a squeeze-excitation unit closing
each residual stage); no upstream code is used. Both the PyTorch modules and
the shape check of an ONNX file are derived from one plain-Python layer plan
(plan()), so the plan can be checked against the shipped ONNX files on a
machine without PyTorch.

Usage
  # pure Python, no PyTorch: does an ONNX file have the plan's layer shapes?
  scripts/convert-minifasnet.py check-onnx var/models/minifasnet/minifasnet_v2_2.7_80.onnx v2
  # needs Debian python3-torch (tested against 1.13) and python3-numpy:
  scripts/convert-minifasnet.py convert --weights DIR_WITH_PTH --out DIR
  # with python3-opencv too: compare PyTorch and the new ONNX (OpenCV DNN)
  # with the golden p(live) vidid's tests recorded (within 1e-4)
  scripts/convert-minifasnet.py convert --weights DIR --out DIR \\
      --golden liveness/ocv/testdata/minifasnet_golden.tsv --data "$VIDID_DATA"

torch.onnx.export is not byte-reproducible across PyTorch versions, so a
rebuilt file will not have the catalogued sha256: verify it by the golden
comparison, then update models/catalog.tsv (size, sha256) and re-record the
golden file only if the outputs moved by more than 1e-4 (they should not).
"""
import argparse
import hashlib
import math
import os
import sys

WEIGHTS = {
    "v2": ("2.7_80x80_MiniFASNetV2.pth", "a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0",
           "minifasnet_v2_2.7_80.onnx", 2.7),
    "v1se": ("4_0_0_80x80_MiniFASNetV1SE.pth", "84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990",
             "minifasnet_v1se_4.0_80.onnx", 4.0),
}

# Channel widths of the pruned ("1.8M") networks, read off the checkpoints'
# tensor shapes. Per stage: stem (conv1 out, depthwise), then for each
# block (expand width, project width). V2 and V1SE differ in some widths.
WIDTHS = {
    "v2": dict(stem=32, down=[(103, 64), (231, 128), (308, 128)],
               res=[[13, 13, 13, 13], [231, 52, 26, 77, 26, 26], [26, 26]], se=False),
    "v1se": dict(stem=32, down=[(103, 64), (231, 128), (308, 128)],
                 res=[[13, 26, 13, 52], [154, 52, 26, 52, 26, 26], [26, 26]], se=True),
}
EMBED, CLASSES, SIZE = 128, 3, 80


def plan(arch):
    """The layer plan, in order: ("conv", name, cin, cout, kernel, stride,
    groups, activation) and ("block", name, cin, width, cout, stride,
    residual, se) entries; the head (linear 512->128, BatchNorm1d, linear
    128->3) follows them. Names are the checkpoint's module paths."""
    w = WIDTHS[arch]
    p = [("conv", "conv1", 3, w["stem"], 3, 2, 1, "prelu"),
         ("conv", "conv2_dw", w["stem"], w["stem"], 3, 1, w["stem"], "prelu")]
    c = w["stem"]
    stages = [("conv_23", "conv_3"), ("conv_34", "conv_4"), ("conv_45", "conv_5")]
    for (down, res), (width, out), blocks in zip(stages, w["down"], w["res"]):
        p.append(("block", down, c, width, out, 2, False, False))
        c = out
        for i, bw in enumerate(blocks):
            se = w["se"] and i == len(blocks) - 1
            p.append(("block", "%s.model.%d" % (res, i), c, bw, c, 1, True, se))
    p.append(("conv", "conv_6_sep", c, 512, 1, 1, 1, "prelu"))
    k = (SIZE + 15) // 16  # 5: the feature map left after four stride-2 steps
    p.append(("conv", "conv_6_dw", 512, 512, k, 1, 512, None))
    return p


def expected_shapes(arch):
    """Weight shapes an exported ONNX graph holds, in order (BatchNorm folded
    into the convolutions): conv kernels, then the two linear layers."""
    out = []
    for e in plan(arch):
        if e[0] == "conv":
            _, _, cin, cout, k, _, g, _ = e
            out.append(("Conv", [cout, cin // g, k, k]))
            continue
        _, _, cin, width, cout, _, _, se = e
        out += [("Conv", [width, cin, 1, 1]), ("Conv", [width, 1, 3, 3]), ("Conv", [cout, width, 1, 1])]
        if se:
            out += [("Conv", [cout // 4, cout, 1, 1]), ("Conv", [cout, cout // 4, 1, 1])]
    return out + [("MatMul", [512, EMBED]), ("MatMul", [EMBED, CLASSES])]


# ---- a minimal ONNX (protobuf wire format) reader for check-onnx ----------

def _varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def _fields(b):
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("unsupported protobuf wire type %d" % wt)
        yield f, wt, v


def onnx_weight_shapes(path):
    """(op, first initializer's dims) of every Conv and MatMul node, in order."""
    graph = [v for f, _, v in _fields(open(path, "rb").read()) if f == 7][0]
    dims, nodes = {}, []
    for f, _, v in _fields(graph):
        if f == 5:  # initializer: TensorProto
            name, d = "", []
            for ff, wt, vv in _fields(v):
                if ff == 1 and wt == 0:
                    d.append(vv)
                elif ff == 1:
                    j = 0
                    while j < len(vv):
                        x, j = _varint(vv, j)
                        d.append(x)
                elif ff == 8:
                    name = vv.decode()
            dims[name] = d
        elif f == 1:  # node: NodeProto
            ins, op = [], ""
            for ff, _, vv in _fields(v):
                if ff == 1:
                    ins.append(vv.decode())
                elif ff == 4:
                    op = vv.decode()
            nodes.append((op, ins))
    return [(op, next(dims[x] for x in ins if x in dims)) for op, ins in nodes
            if op in ("Conv", "MatMul") and any(x in dims for x in ins)]


def check_onnx(path, arch):
    got, want = onnx_weight_shapes(path), expected_shapes(arch)
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            sys.exit("%s: layer %d is %s %s, the %s plan says %s %s" % (path, i, g[0], g[1], arch, w[0], w[1]))
    if len(got) != len(want):
        sys.exit("%s: %d weight layers, the %s plan has %d" % (path, len(got), arch, len(want)))
    print("%s: %d weight layers match the %s plan" % (path, len(got), arch))


# ---- PyTorch: build, load, export, compare ---------------------------------

def build(arch):
    import torch
    from torch import nn

    class ConvBN(nn.Module):  # conv (no bias) + BatchNorm (+ PReLU)
        def __init__(self, cin, cout, k, stride=1, groups=1, act="prelu"):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, k, stride, k // 2 if k == 3 else 0, groups=groups, bias=False)
            self.bn = nn.BatchNorm2d(cout)
            if act:
                self.prelu = nn.PReLU(cout)
            self.act = act

        def forward(self, x):
            x = self.bn(self.conv(x))
            return self.prelu(x) if self.act else x

    class SE(nn.Module):  # squeeze-excitation, reduction 4, BN after each 1x1
        def __init__(self, c):
            super().__init__()
            self.fc1, self.bn1 = nn.Conv2d(c, c // 4, 1, bias=False), nn.BatchNorm2d(c // 4)
            self.fc2, self.bn2 = nn.Conv2d(c // 4, c, 1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x):
            s = x.mean((2, 3), keepdim=True)
            s = torch.relu(self.bn1(self.fc1(s)))
            return x * torch.sigmoid(self.bn2(self.fc2(s)))

    class Block(nn.Module):  # 1x1 expand, 3x3 depthwise, 1x1 linear project
        def __init__(self, cin, width, cout, stride, residual, se):
            super().__init__()
            self.conv = ConvBN(cin, width, 1)
            self.conv_dw = ConvBN(width, width, 3, stride, groups=width)
            self.project = ConvBN(width, cout, 1, act=None)
            if se:
                self.se_module = SE(cout)
            self.residual, self.se = residual, se

        def forward(self, x):
            y = self.project(self.conv_dw(self.conv(x)))
            if self.se:
                y = self.se_module(y)
            return x + y if self.residual else y

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            for e in plan(arch):
                if e[0] == "conv":
                    _, name, cin, cout, k, stride, g, act = e
                    m = ConvBN(cin, cout, k, stride, g, act)
                else:
                    _, name, cin, width, cout, stride, res, se = e
                    m = Block(cin, width, cout, stride, res, se)
                parent, _, leaf = name.rpartition(".model.")
                if parent:  # residual stages hold their blocks in .model
                    if not hasattr(self, parent):
                        setattr(self, parent, nn.Module())
                        getattr(self, parent).model = nn.Sequential()
                    getattr(self, parent).model.add_module(leaf, m)
                else:
                    setattr(self, name, m)
            self.linear = nn.Linear(512, EMBED, bias=False)
            self.bn = nn.BatchNorm1d(EMBED)
            self.prob = nn.Linear(EMBED, CLASSES, bias=False)
            self.order = [e[1].split(".model.")[0] for e in plan(arch)]

        def forward(self, x):
            done = set()
            for name in self.order:
                if name in done:
                    continue
                done.add(name)
                m = getattr(self, name)
                x = m.model(x) if hasattr(m, "model") else m(x)
            x = torch.flatten(x, 1)
            return self.prob(self.bn(self.linear(x)))  # dropout: identity in eval

    return Net()


def load(net, pth):
    """Loads a checkpoint: by name after stripping DataParallel's "module."
    prefix; if the names differ, by order, every tensor's shape checked."""
    import torch
    sd = torch.load(pth, map_location="cpu")
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    sd = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked") and "FTGenerator" not in k}
    mine = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    if set(sd) != set(mine):
        print("  checkpoint names differ from the module names: loading by order (shapes checked)")
        if len(sd) != len(mine):
            sys.exit("%s: %d tensors, the net has %d" % (pth, len(sd), len(mine)))
        sd = dict(zip(mine, sd.values()))
    for k, v in sd.items():
        if tuple(v.shape) != tuple(mine[k].shape):
            sys.exit("%s: %s has shape %s, the net wants %s" % (pth, k, tuple(v.shape), tuple(mine[k].shape)))
    net.load_state_dict(sd, strict=False)
    net.eval()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def crop(img, box, scale):
    """The crop protocol of docs/models.md, given the detector box x0,y0,x1,y1."""
    H, W = img.shape[:2]
    rnd = lambda v: math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)
    x0, y0, x1, y1 = box
    cx, cy, s = (x0 + x1) / 2, (y0 + y1) / 2, y1 - y0
    sx0, sy0 = max(rnd(cx - s / 2), 0), max(rnd(cy - s / 2), 0)
    sx1, sy1 = min(rnd(cx + s / 2), W), min(rnd(cy + s / 2), H)
    bw, bh = sx1 - sx0, sy1 - sy0
    scale = min((H - 1) / bh, (W - 1) / bw, scale)
    nw, nh, cx, cy = bw * scale, bh * scale, sx0 + bw / 2, sy0 + bh / 2
    l, t, r, b = cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2
    if l < 0:
        r, l = r - l, 0
    if t < 0:
        b, t = b - t, 0
    if r > W - 1:
        l, r = l - (r - W + 1), W - 1
    if b > H - 1:
        t, b = t - (b - H + 1), H - 1
    return img[int(t):int(b) + 1, int(l):int(r) + 1]


def compare_golden(models, golden, data):
    import cv2
    import numpy as np
    import torch
    worst = 0.0
    for line in open(golden):
        if not line.strip() or line.startswith("#"):
            continue
        c = line.rstrip("\n").split("\t")
        img = cv2.imread(os.path.join(data, c[0]))
        box = [int(v) for v in c[1:5]]
        for (arch, net, onnx), want in zip(models, (float(c[5]), float(c[6]))):
            x = cv2.resize(crop(img, box, WEIGHTS[arch][3]), (SIZE, SIZE)).astype(np.float32)
            blob = x.transpose(2, 0, 1)[None]  # B,G,R; raw 0..255
            with torch.no_grad():
                pt = torch.softmax(net(torch.from_numpy(blob)), 1)[0, 1].item()
            onnx.setInput(blob)
            o = onnx.forward()[0]
            ocv = float(np.exp(o[1] - o.max()) / np.exp(o - o.max()).sum())
            worst = max(worst, abs(pt - want), abs(ocv - want))
            if abs(pt - want) > 1e-4 or abs(ocv - want) > 1e-4:
                sys.exit("%s %s: PyTorch %.6f, OpenCV %.6f, golden %.6f" % (c[0], arch, pt, ocv, want))
    print("golden: PyTorch and OpenCV within %.1e of %s" % (worst, golden))


def convert(args):
    import torch
    models = []
    os.makedirs(args.out, exist_ok=True)
    for arch, (pth, sha, onnx_name, _) in WEIGHTS.items():
        src = os.path.join(args.weights, pth)
        if sha256(src) != sha:
            sys.exit("%s: sha256 is not %s (wrong upstream file)" % (src, sha))
        net = build(arch)
        load(net, src)
        dst = os.path.join(args.out, onnx_name)
        torch.onnx.export(net, torch.zeros(1, 3, SIZE, SIZE), dst, opset_version=11, do_constant_folding=True,
                          input_names=["input"], output_names=["output"])
        check_onnx(dst, arch)
        print("%s: %d bytes, sha256 %s" % (dst, os.path.getsize(dst), sha256(dst)))
        if args.golden:
            import cv2
            models.append((arch, net, cv2.dnn.readNetFromONNX(dst)))
    if args.golden:
        compare_golden(models, args.golden, args.data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check-onnx", help="compare an ONNX file's weight shapes with the plan (no PyTorch)")
    c.add_argument("onnx")
    c.add_argument("arch", choices=sorted(WEIGHTS))
    v = sub.add_parser("convert", help="build the nets, load the upstream weights, export ONNX")
    v.add_argument("--weights", required=True, help="folder holding the two upstream .pth files")
    v.add_argument("--out", required=True)
    v.add_argument("--golden", help="liveness/ocv/testdata/minifasnet_golden.tsv")
    v.add_argument("--data", default=os.environ.get("VIDID_DATA", ""), help="the data folder the golden paths are under")
    s = sub.add_parser("self-check", help="random weights: build, count parameters, export and check-onnx")
    s.add_argument("--out", default="/tmp")
    a = ap.parse_args()
    if a.cmd == "check-onnx":
        check_onnx(a.onnx, a.arch)
    elif a.cmd == "convert":
        convert(a)
    else:
        import torch
        for arch in WEIGHTS:
            net = build(arch).eval()
            n = sum(p.numel() for p in net.parameters())
            dst = os.path.join(a.out, "selfcheck_%s.onnx" % arch)
            torch.onnx.export(net, torch.zeros(1, 3, SIZE, SIZE), dst, opset_version=11, do_constant_folding=True,
                              input_names=["input"], output_names=["output"])
            print("%s: %d parameters" % (arch, n))
            check_onnx(dst, arch)


if __name__ == "__main__":
    main()
