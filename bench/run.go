package bench

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"vidid/dataset"
)

// AcquisitionRule is the failure-to-acquire rule the report states.
const AcquisitionRule = "FTA when no face is detected, or when a second face is at least half as tall as the main one " +
	"(the engine's main face is the most central of the faces at least half as tall as the tallest: a second such face " +
	"makes the subject ambiguous; smaller faces in the background are ignored), or when the image cannot be read; " +
	"with the quality gate on, also when the main face fails the register-photo quality gate. " +
	"Comparisons involving a failed image are left out of FMR/FNMR and the failures reported as FTA."

// Inputs is the data of one run; every part may be missing.
type Inputs struct {
	Root      string
	Faces     *Images
	Pairs     []dataset.Pair
	PairsFile string
	Meta      *dataset.Meta
	MetaFile  string
	// Spoof holds labelled images (kinds frame, still, crop).
	Spoof []dataset.Presentation
	// VideoFrames holds frames sampled from labelled videos.
	VideoFrames []dataset.Presentation
	Videos      int
	// VideoSHA holds the videos' hashes (path → sha256) for the dataset hash.
	VideoSHA map[string]string
}

// FaceModel is one embedder to measure.
type FaceModel struct {
	Name   string
	Acq    Acquirer
	Active ActiveThreshold
}

// Config configures Run.
type Config struct {
	Faces    []FaceModel
	Liveness Acquirer // nil: no liveness figures
	// LivenessThreshold: p(live) >= it is classified bona fide.
	LivenessThreshold float64
	LivenessSource    string
	Face              FaceOptions
	Resamples         int
	FMRTargets        []float64
	Cache             *Cache
	Progress          Progress
	VideoFPS          float64
}

// Results is a Report and the scores behind it.
type Results struct {
	Report Report
	Scores []PartScores
}

// PartScores are the scores of one model on one part, for scores.csv.
type PartScores struct {
	Model, Part string
	Images      Images
	Set         Set
	PAD         []Presentation
	PADPaths    []string
	FTA         map[string]string // path → reason
	// Display names files outside the data root (frames sampled from a
	// video: video path#frame).
	Display map[string]string
}

// Run measures every embedder and the liveness scorer on in.
func Run(ctx context.Context, in Inputs, cfg Config) (Results, error) {
	if cfg.FMRTargets == nil {
		cfg.FMRTargets = DefaultFMRTargets
	}
	rep := Report{Schema: ReportSchema, Dataset: DatasetInfo{Root: in.Root, Meta: in.MetaFile},
		Settings: Settings{Seed: cfg.Face.Seed, Resamples: cfg.Resamples, GenuinePerIdentity: cfg.Face.GenuinePerIdentity,
			MaxImpostors: cfg.Face.MaxImpostors, QualityGate: cfg.Face.QualityGate, FMRTargets: cfg.FMRTargets,
			AcquisitionRule: AcquisitionRule, VideoFPS: cfg.VideoFPS, Threads: cfg.Face.Threads}}
	if in.PairsFile != "" {
		rep.Dataset.Pairs = relTo(in.Root, in.PairsFile)
	}
	var res Results
	shas := map[string]string{}
	pairIm := pairImages(in.Pairs)
	files := imageFiles(in.Faces, pairIm)
	for _, fm := range cfg.Faces {
		acq, err := AcquireAll(ctx, fm.Acq, files, AcquireOptions{Threads: cfg.Face.Threads, Cache: cfg.Cache, Progress: cfg.Progress, Stage: fm.Name + " faces"})
		if err != nil {
			return res, err
		}
		maps.Copy(shas, acq.SHA)
		er := EmbedderReport{Embedder: fm.Name, Active: fm.Active, Images: len(files), Cached: acq.Cached, Timing: timing(acq.By)}
		for _, a := range acq.By {
			if a.Model != "" {
				er.Model = a.Model
				break
			}
		}
		ao := AnalyzeOptions{FMRTargets: cfg.FMRTargets, Threshold: fm.Active.Score, Resamples: cfg.Resamples, Seed: cfg.Face.Seed, Threads: cfg.Face.Threads}
		if in.Faces != nil {
			s, err := FaceSet(ctx, *in.Faces, acq.By, cfg.Face)
			if err != nil {
				return res, err
			}
			er.Faces = facePart(*in.Faces, acq.By, s, cfg, ao)
			er.Faces.Groups = groups(*in.Faces, s, in.Meta, fm.Active.Score)
			res.Scores = append(res.Scores, PartScores{Model: er.Model, Part: "faces", Images: *in.Faces, Set: s, FTA: ftaOf(acq.By, in.Faces.Paths)})
		}
		if len(in.Pairs) > 0 {
			s, excluded, err := pairSet(ctx, in.Pairs, pairIm, acq.By, cfg.Face)
			if err != nil {
				return res, err
			}
			er.Pairs = facePart(pairIm, acq.By, s, cfg, ao)
			er.Pairs.ExcludedPairs = excluded
			res.Scores = append(res.Scores, PartScores{Model: er.Model, Part: "pairs", Images: pairIm, Set: s, FTA: ftaOf(acq.By, pairIm.Paths)})
		}
		rep.Embedders = append(rep.Embedders, er)
	}
	if cfg.Liveness != nil && len(in.Spoof)+len(in.VideoFrames) > 0 {
		lr, scores, err := runLiveness(ctx, in, cfg, shas)
		if err != nil {
			return res, err
		}
		rep.Liveness = lr
		res.Scores = append(res.Scores, scores...)
	}
	rep.Dataset.Parts = parts(in)
	rep.Dataset.Files = len(shas)
	rep.Dataset.Hash = DatasetHash(shas, func(p string) string { return relTo(in.Root, p) })
	rep.NotMeasured = append(rep.NotMeasured, "liveness.videos: per-video APCER/BPCER through the capture path (challenge, passive mean, same-person check) is not measured yet; only frames sampled from the videos are scored one by one")
	if in.Faces == nil && len(in.Pairs) == 0 {
		rep.NotMeasured = append(rep.NotMeasured, "face comparison: no faces/ folder and no pair list")
	}
	res.Report = rep
	return res, nil
}

func parts(in Inputs) []string {
	var p []string
	if in.Faces != nil {
		p = append(p, "faces")
	}
	if len(in.Pairs) > 0 {
		p = append(p, "pairs")
	}
	if len(in.Spoof) > 0 {
		p = append(p, "spoof")
	}
	if in.Videos > 0 {
		p = append(p, "video")
	}
	if in.Meta != nil {
		p = append(p, "meta")
	}
	return p
}

func facePart(im Images, acq map[string]Acquisition, s Set, cfg Config, ao AnalyzeOptions) *FacePart {
	return &FacePart{Images: len(im.Paths), FTA: FTAOf(im, acq, cfg.Face.QualityGate, cfg.Resamples, cfg.Face.Seed, cfg.Face.Threads),
		Verification: Analyze(s, ao)}
}

func ftaOf(acq map[string]Acquisition, paths []string) map[string]string {
	out := map[string]string{}
	for _, p := range paths {
		if r := acq[p].FTA; r != "" {
			out[p] = r
		}
	}
	return out
}

// imageFiles is the sorted union of the face folder's and the pair list's images.
func imageFiles(faces *Images, pairs Images) []string {
	var files []string
	if faces != nil {
		files = append(files, faces.Paths...)
	}
	files = append(files, pairs.Paths...)
	slices.Sort(files)
	return slices.Compact(files)
}

// pairImages lists a pair list's images; an image's identity is its folder.
func pairImages(pairs []dataset.Pair) Images {
	var im Images
	ids, seen := map[string]int32{}, map[string]bool{}
	for _, p := range pairs {
		for _, path := range []string{p.A, p.B} {
			if seen[path] {
				continue
			}
			seen[path] = true
			name := filepath.Base(filepath.Dir(path))
			id, ok := ids[name]
			if !ok {
				id = int32(len(im.Names))
				ids[name] = id
				im.Names = append(im.Names, name)
			}
			im.Paths = append(im.Paths, path)
			im.Ident = append(im.Ident, id)
		}
	}
	return im
}

// pairSet scores a pair list; pairs with an image that failed to acquire
// are left out and counted.
func pairSet(ctx context.Context, pairs []dataset.Pair, im Images, acq map[string]Acquisition, o FaceOptions) (Set, int, error) {
	x := newVectors(im, acq, o.QualityGate)
	idx := make(map[string]int32, len(im.Paths))
	for i, p := range im.Paths {
		idx[p] = int32(i)
	}
	s := Set{Identities: len(im.Names)}
	excluded := 0
	for _, p := range pairs {
		i, j := idx[p.A], idx[p.B]
		if x.v[i] == nil || x.v[j] == nil {
			excluded++
			continue
		}
		c := Comparison{A: im.Ident[i], B: im.Ident[j], I: i, J: j}
		if p.Same {
			s.Genuine = append(s.Genuine, c)
		} else {
			s.Impostor = append(s.Impostor, c)
		}
	}
	if err := x.scoreAll(ctx, s.Genuine, o.Threads); err != nil {
		return s, excluded, err
	}
	return s, excluded, x.scoreAll(ctx, s.Impostor, o.Threads)
}

// groups computes the per-group figures of the face set.
func groups(im Images, s Set, meta *dataset.Meta, active float64) []Group {
	if meta == nil {
		return nil
	}
	var out []Group
	for _, col := range meta.Columns {
		for _, val := range meta.Values(col) {
			in := make([]bool, len(im.Names))
			g := Group{Column: col, Value: val, EER: Num(nan)}
			for i, name := range im.Names {
				if meta.Groups[name][col] == val {
					in[i] = true
					g.Identities++
				}
			}
			var sub Set
			sub.Identities = s.Identities
			for _, c := range s.Genuine {
				if in[c.A] {
					sub.Genuine = append(sub.Genuine, c)
				}
			}
			for _, c := range s.Impostor {
				if in[c.A] && in[c.B] {
					sub.Impostor = append(sub.Impostor, c)
				}
			}
			g.Genuine, g.Impostor = len(sub.Genuine), len(sub.Impostor)
			r := sub.rank()
			if eer, _, ok := r.eer(); ok {
				g.EER = Num(eer)
			}
			if active > 0 && g.Genuine > 0 && g.Impostor > 0 {
				p := r.at(active)
				g.AtThreshold = &p
			}
			g.Curve = r.curve(100)
			out = append(out, g)
		}
	}
	return out
}

// timing summarises the per-stage times of the acquisitions.
func timing(acq map[string]Acquisition) map[string]Summary {
	ls := map[string]*Latencies{}
	for _, a := range acq {
		for stage, ms := range a.Stages {
			if ls[stage] == nil {
				ls[stage] = &Latencies{}
			}
			ls[stage].Add(msDuration(ms))
		}
	}
	out := map[string]Summary{}
	for stage, l := range ls {
		out[stage] = l.Summary()
	}
	return out
}

func relTo(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}
