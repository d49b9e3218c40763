package liveness

import "testing"

func TestClassifyCamera(t *testing.T) {
	tests := []struct {
		label string
		score float64
	}{
		{"OBS Virtual Camera", 0},
		{"ManyCam Virtual Webcam", 0},
		{"Dummy video device (0x0000)", 0},
		{"v4l2loopback: OBS", 0},
		{"fake_device_0", 0},
		{"Fake Video Capture", 0},
		{"/tmp/TestCaptureMatch3399722539/002/camera.y4m", 0}, // Chromium playing a file
		{"C:\\clips\\victim.MJPEG", 0},
		{"Y4M Camera", 1},
		{"Snap Camera", 0},
		{"XSplit VCam", 0},
		{"e2eSoft VCam", 0},
		{"Unity Video Capture", 0},
		{"DroidCam Source 3", 0.2},
		{"Reincubate Camo", 0.2},
		{"NVIDIA Broadcast", 0.2},
		{"Integrated Camera (04f2:b6dd)", 1},
		{"FaceTime HD Camera", 1},
		{"Logitech HD Webcam C270 (046d:0825)", 1},
		{"HP TrueVision HD Camera", 1},
		{"Camouflage Webcam", 1}, // "camo" only as a word
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			s, m := ClassifyCamera(tc.label)
			if s != tc.score || (m == "") != (tc.score == 1) {
				t.Errorf("ClassifyCamera(%q) = %v (%q), want %v", tc.label, s, m, tc.score)
			}
		})
	}
}

func TestCamera(t *testing.T) {
	tests := []struct {
		name   string
		labels []string
		want   want
	}{
		{"a webcam", []string{"", "Integrated Camera", ""}, live},
		{"a virtual camera", []string{"OBS Virtual Camera"}, attack},
		{"a phone app", []string{"DroidCam Source 3"}, want{true, 0.2, 0.2}},
		{"no label", []string{"", ""}, unsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCamera()
			for _, l := range tc.labels {
				c.Observe(Observation{CameraLabel: l})
			}
			tc.want.check(t, c.Result(), ReasonInjection)
		})
	}
}
