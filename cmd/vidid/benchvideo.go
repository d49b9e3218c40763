package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"vidid/bench"
	"vidid/dataset"
)

// videoFrames samples each labelled video at fps with ffmpeg into the
// cache (keyed by the video's sha256 and fps, so a rerun reuses them) and
// returns the frames, labelled as their video.
func videoFrames(ctx context.Context, videos []dataset.Presentation, cacheDir string, fps float64) ([]dataset.Presentation, error) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, fmt.Errorf("video frames: %w (install the Debian package ffmpeg, or leave video/ out with --parts)", err)
	}
	var out []dataset.Presentation
	for _, v := range videos {
		sha, err := bench.FileSHA256(v.Path)
		if err != nil {
			return nil, fmt.Errorf("video frames: %w", err)
		}
		dir := filepath.Join(cacheDir, "video-frames", sha[:16]+"-"+strconv.FormatFloat(fps, 'g', -1, 64))
		if _, err := os.Stat(filepath.Join(dir, ".done")); err != nil {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-y", "-i", v.Path,
				"-vf", "fps="+strconv.FormatFloat(fps, 'g', -1, 64), "-q:v", "2", filepath.Join(dir, "%04d.jpg"))
			if b, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("video frames of %s: %w: %s", v.Rel, err, b)
			}
			if err := os.WriteFile(filepath.Join(dir, ".done"), nil, 0o644); err != nil {
				return nil, err
			}
		}
		frames, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
		if err != nil {
			return nil, err
		}
		for _, f := range frames {
			p := v
			p.Path, p.Rel, p.Kind = f, v.Rel+"#"+filepath.Base(f), "video-frame"
			out = append(out, p)
		}
	}
	return out, nil
}
