package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"vidid/bench"
	"vidid/dataset"
	"vidid/engine/assemble"
)

func init() {
	addCommand(command{name: "bench", summary: "measure face comparison and liveness accuracy on labelled data (report.json, report.html)", run: runBench})
}

const benchDescription = `
Measures the face engine on whatever a data folder holds and writes a
report an analyst can set thresholds from. Every part may be missing:

  faces/<identity>/<image>   genuine comparisons: all pairs of images of one
                             identity (at most --genuine-per-identity, a seeded
                             sample beyond); impostor comparisons: the first
                             usable image of every identity against every
                             other's (all of them, or --max-impostors sampled)
  faces/lfw-pairs.tsv        a pair list ("1|0<TAB>a<TAB>b", paths relative to
                             its folder), scored apart; see --pairs
  spoof/labels-*.csv         liveness images (path,label,attack_type,subject,
                             kind,...): the passive scorer's p(live) of each
                             image's main face; kind crop is reported apart
                             from frame and still
  video/labels.csv           videos: frames sampled with ffmpeg (--video-fps)
                             and scored like spoof frames. Per-video decisions
                             through the capture path are NOT measured yet.

Figures (ISO/IEC 19795-1, 30107-3): FTA per part (apart, never silent
gaps), EER, FNMR at FMR 1e-2 ... 1e-5 and the threshold meeting each
target (a target counts only with at least 3/target impostor comparisons:
else "not measurable"), 95% intervals by bootstrap over identities
(--bootstrap resamples, --seed), DET/ROC points, score histograms, rates at
the active threshold (the decision policy's match threshold for the
model: the built-in policy or --policy FILE, --threshold overrides it),
per-group figures with --meta, and APCER per attack type,
BPCER and ACER per frame at the policy's passive liveness threshold
(--passive-liveness-threshold overrides it).

Failure to acquire: no face; a second face at least half as tall as the
main face (the subject is ambiguous; smaller background faces are ignored,
unlike 'vidid compare', which applies the live one-face rule); an
unreadable image; with --quality-gate, a main face failing the
register-photo quality gate. Comparisons with such an image are left out
of FMR/FNMR and counted as FTA.

Acquisitions (embeddings, p(live), failures, stage times) are cached in
--cache by model id and file sha256: a rerun reads them back, and the
timing shown is that of the run which filled the cache.

With --out DIR it writes DIR/report.json, DIR/scores.csv and a
self-contained DIR/report.html (inline SVG, no scripts). Without --out it
prints a summary (or, with --json, report.json) to standard output.

  vidid bench compare A.json B.json

prints what changed between two reports: metric deltas and whether their
95% intervals overlap.

Threads: --threads N runs N workers, each with its own engine and one
OpenCV thread (0 = one per core). The engine's speed targets are per core:
compare the timing with them at --threads 1 on an idle machine.`

type benchFlags struct {
	ef                                engineFlags
	pf                                policyFlags
	data, out, pairs, meta, cache     string
	scores, parts                     string
	asJSON, qualityGate               bool
	seed                              uint64
	resamples, perIdentity, impostors int
	maxIdentities, scoresImpostors    int
	videoFPS                          float64
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "compare" {
		return runBenchCompare(args[1:], stdout, stderr)
	}
	fs := newFlags("bench", "bench [--data DIR] [--out DIR] [--pairs FILE] [--meta FILE] [--embedder onnx|dlib|all] [flags]\n  vidid bench compare A.json B.json", benchDescription, stderr)
	var bf benchFlags
	bf.ef.add(fs)
	bf.pf.add(fs, true)
	fs.StringVar(&bf.data, "data", envOr("VIDID_DATA", "../shared/data"), "data `dir` with any of faces/, spoof/, video/ (env VIDID_DATA)")
	fs.StringVar(&bf.out, "out", "", "write report.json, scores.csv and report.html into this `dir`")
	fs.StringVar(&bf.pairs, "pairs", "", "pair list `file` (default DIR/faces/lfw-pairs.tsv when present; \"none\" for none)")
	fs.StringVar(&bf.meta, "meta", "", "metadata CSV `file`: identity,group,... (e.g. identity,sex,age,region) for per-group figures")
	fs.StringVar(&bf.cache, "cache", "", "acquisition cache `dir` (default: the user cache dir/vidid/bench)")
	fs.StringVar(&bf.parts, "parts", "faces,pairs,spoof,video", "comma-separated `parts` to measure")
	fs.StringVar(&bf.scores, "scores", "", "also write scores.csv to this `file` (model,part,a,b,label,score,fta)")
	fs.BoolVar(&bf.asJSON, "json", false, "print report.json to standard output instead of the summary")
	fs.BoolVar(&bf.qualityGate, "quality-gate", false, "count faces failing the register-photo quality gate as FTA")
	fs.Uint64Var(&bf.seed, "seed", 1, "seed of every sample and of the bootstrap")
	fs.IntVar(&bf.resamples, "bootstrap", 500, "bootstrap resamples over identities for the 95% intervals (0 = none)")
	fs.IntVar(&bf.perIdentity, "genuine-per-identity", 50, "at most `n` genuine comparisons per identity (0 = all)")
	fs.IntVar(&bf.impostors, "max-impostors", 0, "at most `n` impostor comparisons, sampled (0 = all-vs-all)")
	fs.IntVar(&bf.maxIdentities, "max-identities", 0, "use a seeded sample of `n` identities of faces/ (0 = all), for quick runs")
	fs.IntVar(&bf.scoresImpostors, "scores-max-impostors", 200000, "write at most `n` impostor rows per part to scores.csv (every k-th; 0 = all)")
	fs.Float64Var(&bf.videoFPS, "video-fps", 2, "frames per second sampled from each video")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	t0 := time.Now()
	in, err := loadBenchInputs(ctx, &bf)
	if err != nil {
		return err
	}
	cfg, closeAll, err := openBench(&bf, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	if strings.Contains(bf.parts, "video") {
		if err := addVideoFrames(ctx, &bf, cfg.Cache.Dir(), &in); err != nil {
			return err
		}
	}
	res, err := bench.Run(ctx, in, *cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: done in %.0f s\n", time.Since(t0).Seconds())
	return writeBench(&bf, res, stdout)
}

// loadBenchInputs reads the parts of the data folder that exist.
func loadBenchInputs(ctx context.Context, bf *benchFlags) (bench.Inputs, error) {
	in := bench.Inputs{Root: bf.data}
	want := func(p string) bool { return slices.Contains(strings.Split(bf.parts, ","), p) }
	if want("faces") {
		ids, err := dataset.LoadIdentities(filepath.Join(bf.data, "faces"))
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return in, err
		default:
			ids = dataset.SampleIdentities(ids, bf.maxIdentities, bf.seed)
			im := bench.ImagesOf(ids)
			in.Faces = &im
		}
	}
	if want("pairs") && bf.pairs != "none" {
		path := bf.pairs
		if path == "" {
			path = filepath.Join(bf.data, "faces", "lfw-pairs.tsv")
			if _, err := os.Stat(path); err != nil {
				path = ""
			}
		}
		if path != "" {
			pairs, err := dataset.LoadPairs(path)
			if err != nil {
				return in, err
			}
			in.Pairs, in.PairsFile = pairs, path
		}
	}
	if want("spoof") {
		files, _ := filepath.Glob(filepath.Join(bf.data, "spoof", "labels-*.csv"))
		for _, f := range files {
			ps, err := dataset.LoadSpoofLabels(f)
			if err != nil {
				return in, err
			}
			in.Spoof = append(in.Spoof, ps...)
		}
	}
	if bf.meta != "" {
		m, err := dataset.LoadMeta(bf.meta)
		if err != nil {
			return in, err
		}
		in.Meta, in.MetaFile = &m, bf.meta
	}
	return in, ctx.Err()
}

func addVideoFrames(ctx context.Context, bf *benchFlags, cacheDir string, in *bench.Inputs) error {
	path := filepath.Join(bf.data, "video", "labels.csv")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	videos, err := dataset.LoadVideoLabels(path)
	if err != nil {
		return err
	}
	in.VideoFrames, err = videoFrames(ctx, videos, cacheDir, bf.videoFPS)
	if err != nil {
		return err
	}
	in.Videos, in.VideoSHA = len(videos), map[string]string{}
	for _, v := range videos {
		if in.VideoSHA[v.Path], err = bench.FileSHA256(v.Path); err != nil {
			return err
		}
	}
	return nil
}

// openBench opens the cache, one engine pool per embedder and the passive
// scorer.
func openBench(bf *benchFlags, stderr io.Writer) (*bench.Config, func(), error) {
	workers := bf.ef.threads
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	dir := bf.cache
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, nil, fmt.Errorf("bench cache: %w (set --cache)", err)
		}
		dir = filepath.Join(base, "vidid", "bench")
	}
	cache, err := bench.OpenCache(dir)
	if err != nil {
		return nil, nil, err
	}
	closers := []func(){func() { cache.Close() }}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	cfg := &bench.Config{Cache: cache, Progress: newBenchProgress(stderr, 10*time.Second), Resamples: bf.resamples, VideoFPS: bf.videoFPS,
		Face: bench.FaceOptions{GenuinePerIdentity: bf.perIdentity, MaxImpostors: bf.impostors, Seed: bf.seed, Threads: workers, QualityGate: bf.qualityGate}}
	names := []string{bf.ef.embedder}
	if bf.ef.embedder == "all" {
		names = []string{assemble.EmbedderONNX, assemble.EmbedderDlib}
	}
	var pool *enginePool
	for _, name := range names {
		ef := bf.ef
		ef.embedder = name
		p, err := openEnginePool(ef, workers)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, p.Close)
		pool = p
		model := p.all[0].Model()
		pol, err := bf.pf.offline(model)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		mp, err := pol.Model(model)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		cfg.Faces = append(cfg.Faces, bench.FaceModel{Name: name, Acq: &faceAcquirer{pool: p, model: model},
			Active: bench.ActiveThreshold{Score: mp.Match, Version: pol.Version, FMRTarget: mp.FMRTarget}})
		if cue, ok := pol.Liveness[passiveCue]; ok {
			cfg.LivenessThreshold = cue.Threshold
			cfg.LivenessSource = fmt.Sprintf("policy %s, cue %s (mode %s), applied per frame here; the live path applies it to p(live) aggregated over an attempt", pol.Version, passiveCue, cue.Mode)
		}
	}
	if strings.Contains(bf.parts, "spoof") || strings.Contains(bf.parts, "video") {
		la, closeFn, err := newLivenessAcquirer(pool, bf.ef.models, workers)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, closeFn)
		cfg.Liveness = la
	}
	fmt.Fprintf(stderr, "bench: %d worker(s), cache %s\n", workers, dir)
	return cfg, closeAll, nil
}

func writeBench(bf *benchFlags, res bench.Results, stdout io.Writer) error {
	if bf.out != "" {
		if err := os.MkdirAll(bf.out, 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(bf.out, "report.json"), func(w io.Writer) error { return encodeJSON(w, res.Report) }); err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(bf.out, "report.html"), func(w io.Writer) error { return bench.WriteHTML(w, res.Report) }); err != nil {
			return err
		}
		if bf.scores == "" {
			bf.scores = filepath.Join(bf.out, "scores.csv")
		}
	}
	if bf.scores != "" {
		if err := writeFileAtomic(bf.scores, func(w io.Writer) error {
			return bench.WriteRunScores(w, bf.data, res.Scores, bf.scoresImpostors)
		}); err != nil {
			return err
		}
	}
	if bf.asJSON {
		return encodeJSON(stdout, res.Report)
	}
	return bench.WriteSummary(stdout, res.Report)
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func runBenchCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench compare", "bench compare A.json B.json", `
Prints the figures of two bench reports side by side: per embedder and
part FTA, EER, FNMR and threshold per FMR target and the rates at the
active threshold; per liveness part APCER per attack type and BPCER; the
difference B - A, and whether the 95% intervals overlap (disjoint
intervals: a change beyond the sampling noise). Notes first when the two
runs measured different data or models.`, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("%w: need two report.json files, got %d", errUsage, fs.NArg())
	}
	a, err := bench.LoadReport(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := bench.LoadReport(fs.Arg(1))
	if err != nil {
		return err
	}
	return bench.WriteCompare(stdout, a, b)
}
