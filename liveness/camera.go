package liveness

import (
	"regexp"
	"strings"
)

// VirtualCamera is one known virtual or relayed camera, by the substring
// of its (lower-case) device label.
type VirtualCamera struct {
	Match string
	// Score is the camera cue's score for it: 0 for tools made to feed
	// any video as a camera, 0.2 for phone-as-webcam apps and effect
	// filters (a real camera usually sits behind them, but they can feed
	// a file too).
	Score float64
}

// VirtualCameras is the documented list the camera cue checks labels
// against, first match wins. Sources: the tools' own device names as
// they appear in browsers' device lists (Windows DirectShow, macOS
// CoreMediaIO, Linux V4L2) and Chromium's fake capture device.
var VirtualCameras = []VirtualCamera{
	{"obs virtual camera", 0}, {"obs-camera", 0}, {"obs camera", 0},
	{"manycam", 0},
	{"v4l2loopback", 0}, {"dummy video device", 0}, // v4l2loopback's default card label
	{"fake video capture", 0}, {"fake_device", 0}, {"fake device", 0}, // Chromium's fake capture
	{"snap camera", 0},
	{"xsplit", 0},
	{"e2esoft", 0}, {"vcam", 0},
	{"splitcam", 0},
	{"camtwist", 0},
	{"ndi webcam", 0}, {"ndi video", 0}, {"newtek ndi", 0},
	{"unity video capture", 0},
	{"akvcam", 0}, {"akvirtualcamera", 0}, {"webcamoid", 0},
	{"screen-capture-recorder", 0}, {"screen capture", 0},
	{"virtual cam", 0}, {"virtualcam", 0}, {"virtual camera", 0}, {"virtual webcam", 0},
	{"droidcam", 0.2}, {"iriun", 0.2}, {"epoccam", 0.2}, {"camo", 0.2},
	{"ivcam", 0.2}, {"ip webcam", 0.2},
	{"nvidia broadcast", 0.2}, {"mmhmm", 0.2}, {"chromacam", 0.2}, {"youcam", 0.2},
	{"logi capture", 0.2}, {"streamlabs", 0.2}, {"elgato", 0.2},
}

// usbID is the "(046d:0825)" vendor:product suffix browsers append.
var usbID = regexp.MustCompile(`\([0-9a-f]{4}:[0-9a-f]{4}\)`)

// fakeFiles are the video files Chromium's fake camera plays with
// --use-file-for-fake-video-capture; it then labels the camera with the
// file's path, not "fake_device_0".
var fakeFiles = []string{".y4m", ".mjpeg"}

// ClassifyCamera returns the score of a camera label (1 when no known
// virtual camera matches) and the list entry that matched ("" for none).
// A label naming a .y4m or .mjpeg file is Chromium's fake camera playing
// it (match "file").
func ClassifyCamera(label string) (score float64, match string) {
	l := usbID.ReplaceAllString(strings.ToLower(label), "")
	l = strings.Join(strings.Fields(l), " ")
	for _, ext := range fakeFiles {
		if strings.HasSuffix(l, ext) {
			return 0, "file"
		}
	}
	for _, v := range VirtualCameras {
		if wordIn(l, v.Match) {
			return v.Score, v.Match
		}
	}
	return 1, ""
}

// wordIn reports whether m occurs in l at word boundaries ("camo" in
// "camo" and "reincubate camo", not in "camouflage").
func wordIn(l, m string) bool {
	for i := 0; ; {
		j := strings.Index(l[i:], m)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(m)
		if (j == 0 || !isAlnum(l[j-1])) && (end == len(l) || !isAlnum(l[end])) {
			return true
		}
		i = j + 1
	}
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// Camera classifies the camera label the page reports against
// VirtualCameras: virtual cameras (OBS, ManyCam, v4l2loopback, Chromium's
// fake device …) are how a file or a deepfake is fed to a browser as if it
// were a camera.
//
// The label comes from the page, so it is the attacker's to set: a
// modified browser, a renamed v4l2loopback device or an injected
// getUserMedia passes. It catches the casual attacker and costs nothing.
// An empty label (the browser withheld it) is not measured.
type Camera struct {
	label string
}

// NewCamera returns a camera-label cue.
func NewCamera() *Camera { return &Camera{} }

// Observe keeps the last non-empty label.
func (c *Camera) Observe(o Observation) {
	if o.CameraLabel != "" {
		c.label = o.CameraLabel
	}
}

// Result classifies the label.
func (c *Camera) Result() CueResult {
	if c.label == "" {
		return unmeasured("camera", ReasonInjection, nil)
	}
	s, m := ClassifyCamera(c.label)
	d := map[string]float64{}
	if m != "" {
		d["virtual"] = 1
	}
	return CueResult{Name: "camera", Score: s, Measured: true, Reason: ReasonInjection, Detail: d}
}
