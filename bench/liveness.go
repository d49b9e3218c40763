package bench

import (
	"context"
	"maps"
	"slices"

	"vidid/dataset"
)

// runLiveness scores every labelled image and video frame with the
// passive scorer and computes APCER/BPCER per part.
func runLiveness(ctx context.Context, in Inputs, cfg Config, shas map[string]string) (*LivenessReport, []PartScores, error) {
	all := append(slices.Clone(in.Spoof), in.VideoFrames...)
	files := make([]string, len(all))
	for i, p := range all {
		files[i] = p.Path
	}
	slices.Sort(files)
	files = slices.Compact(files)
	acq, err := AcquireAll(ctx, cfg.Liveness, files, AcquireOptions{Threads: cfg.Face.Threads, Cache: cfg.Cache, Progress: cfg.Progress, Stage: "liveness"})
	if err != nil {
		return nil, nil, err
	}
	for _, p := range in.Spoof {
		shas[p.Path] = acq.SHA[p.Path]
	}
	maps.Copy(shas, in.VideoSHA) // the videos, not their frames in the cache
	lr := &LivenessReport{Model: cfg.Liveness.ID(), Threshold: cfg.LivenessThreshold, ThresholdSource: cfg.LivenessSource,
		Timing: timing(acq.By), Videos: VideoPAD{Videos: in.Videos,
			Status: "not measured: per-video decisions through the capture path come later; see video_frames for per-frame scores"}}
	var scores []PartScores
	part := func(name string, ps []dataset.Presentation) *PADPart {
		if len(ps) == 0 {
			return nil
		}
		p, sc := padPart(ps, acq.By, cfg)
		sc.Model, sc.Part = lr.Model, "liveness-"+name
		scores = append(scores, sc)
		return p
	}
	var frames, crops, mixed []dataset.Presentation
	for _, p := range in.Spoof {
		switch {
		case p.Mixed:
			mixed = append(mixed, p)
		case p.Kind == "crop":
			crops = append(crops, p)
		default:
			frames = append(frames, p)
		}
	}
	lr.Frames = part("frames", frames)
	lr.Crops = part("crops", crops)
	lr.Mixed = part("mixed", mixed)
	lr.VideoFrames = part("video-frames", in.VideoFrames)
	return lr, scores, nil
}

func padPart(ps []dataset.Presentation, acq map[string]Acquisition, cfg Config) (*PADPart, PartScores) {
	p := &PADPart{Attacks: map[string]int{}, APCERCI: map[string]Interval{}}
	var scored []Presentation
	var paths []string
	im := Images{}
	subj := map[string]int32{}
	sc := PartScores{FTA: map[string]string{}, Display: map[string]string{}}
	for _, x := range ps {
		if !slices.Contains(p.Kinds, x.Kind) {
			p.Kinds = append(p.Kinds, x.Kind)
		}
		id, ok := subj[x.Subject]
		if !ok {
			id = int32(len(im.Names))
			subj[x.Subject] = id
			im.Names = append(im.Names, x.Subject)
		}
		im.Paths, im.Ident = append(im.Paths, x.Path), append(im.Ident, id)
		if x.Kind == "video-frame" {
			sc.Display[x.Path] = x.Rel
		}
		a := acq[x.Path]
		if a.FTA != "" {
			sc.FTA[x.Path] = a.FTA
			continue
		}
		scored = append(scored, Presentation{Live: a.Live, AttackType: x.AttackType, Subject: x.Subject})
		paths = append(paths, x.Path)
	}
	slices.Sort(p.Kinds)
	p.Presentations, p.Subjects = len(ps), len(im.Names)
	// Liveness FTA: every acquisition needs only a face; no bootstrap
	// over the few subjects.
	p.FTA = FTAOf(im, acq, false, 0, 0, 1)
	for _, x := range scored {
		if x.AttackType == Bonafide {
			p.Bonafide++
		} else {
			p.Attacks[x.AttackType]++
		}
	}
	p.PAD = ScorePAD(scored, cfg.LivenessThreshold)
	for typ, r := range p.APCER {
		n := p.Attacks[typ]
		p.APCERCI[typ] = Wilson(int(float64(r)*float64(n)+0.5), n)
	}
	if p.Bonafide > 0 {
		p.BPCERCI = Wilson(int(float64(p.BPCER)*float64(p.Bonafide)+0.5), p.Bonafide)
	} else {
		p.BPCERCI = Interval{nan, nan}
	}
	for k := 0; k <= 20; k++ {
		p.Sweep = append(p.Sweep, ScorePAD(scored, float64(k)/20))
	}
	sc.PAD, sc.PADPaths, sc.Images = scored, paths, im
	return p, sc
}
