package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"vidid/bench"
	"vidid/dataset"
	"vidid/engine"
	"vidid/engine/assemble"
	"vidid/engine/ocv"
)

func init() {
	addCommand(command{name: "bench", summary: "benchmark verification accuracy on a labelled pair list", run: runBench})
}

// fmrPoint is the operating point for one FMR target.
type fmrPoint struct {
	Target float64 `json:"fmr_target"`
	bench.Point
}

// pairReport is the JSON report of one embedder over one pair list.
type pairReport struct {
	Model            string      `json:"model"`
	Pairs            int         `json:"pairs"`
	Genuine          int         `json:"genuine"`
	Impostor         int         `json:"impostor"`
	NoFace           int         `json:"images_without_face"`
	AUC              float64     `json:"auc"`
	EER              float64     `json:"eer"`
	EERThreshold     float64     `json:"eer_threshold"`
	Threshold        float64     `json:"threshold"`
	ThresholdVersion string      `json:"threshold_version"`
	AtThreshold      bench.Point `json:"at_threshold"`
	FNMRAtFMR        []fmrPoint  `json:"fnmr_at_fmr"`
	Seconds          float64     `json:"seconds"`
	Speed            speedReport `json:"speed"`
}

// speedReport is the per-image cost seen during the run, wall time per
// call, against the engine's targets (which are for one core: run with
// --threads 1 to compare).
type speedReport struct {
	Threads         int           `json:"opencv_threads"`
	Analyze         bench.Summary `json:"analyze"` // detect + landmarks + quality
	Embed           bench.Summary `json:"embed"`
	TargetAnalyzeMS float64       `json:"target_analyze_ms"`
	TargetEmbedMS   float64       `json:"target_embed_ms"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [--pairs FILE] [--embedder onnx|dlib|all] [--json]", `
Scores every pair of a labelled pair list (lines "1|0<TAB>a<TAB>b", paths
relative to the list's folder; 1 = same person) with the chosen embedder(s)
and prints AUC, EER, FNMR at FMR 1e-2/1e-3/1e-4 (as far as the number of
impostor pairs can measure) and the rates at the configured threshold.
An image without a detectable face makes its pairs non-matches (score 0).

It also reports the wall time per image of detect + landmarks + quality and
of the embedding (p50, p95, max) next to the engine's targets, which are
for one core: add --threads 1 to compare with them. The time excludes
reading and decoding the image files.`, stderr)
	pairsPath := fs.String("pairs", filepath.Join(envOr("VIDID_DATA", "../shared/data"), "faces", "lfw-pairs.tsv"), "pair list `file`")
	asJSON := fs.Bool("json", false, "print JSON reports")
	scoresPath := fs.String("scores", "", "also write every pair's score to this CSV `file` (model,a,b,same,score,failed) for plotting and re-thresholding")
	var ef engineFlags
	var pf policyFlags
	ef.add(fs)
	pf.add(fs, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	pairs, err := dataset.LoadPairs(*pairsPath)
	if err != nil {
		return err
	}
	embedders := []string{ef.embedder}
	if ef.embedder == "all" {
		embedders = []string{assemble.EmbedderONNX, assemble.EmbedderDlib}
	}
	var reports []pairReport
	var perPair []bench.ModelScores
	for _, name := range embedders {
		ef.embedder = name
		eng, err := ef.open(nil)
		if err != nil {
			return err
		}
		t0 := time.Now()
		var analyzeT, embedT bench.Latencies
		res, err := bench.ScorePairs(ctx, pairs, bench.EmbedderFunc(func(ctx context.Context, path string) (engine.Embedding, error) {
			f, err := engine.LoadImage(path)
			if err != nil {
				return engine.Embedding{}, err
			}
			// Analyze + Embed of the main face is EmbedLargest, timed per stage.
			t := time.Now()
			a, err := eng.Analyze(ctx, f)
			analyzeT.Add(time.Since(t))
			if err != nil {
				return engine.Embedding{}, err
			}
			if a.Main == nil {
				return engine.Embedding{}, engine.ErrNoFace
			}
			t = time.Now()
			e, err := eng.Embed(ctx, f, *a.Main)
			embedT.Add(time.Since(t))
			return e, err
		}))
		pol, perr := pf.offline(eng.Model())
		eng.Close()
		if perr != nil {
			return perr
		}
		mp, perr := pol.Model(eng.Model())
		if perr != nil {
			return perr
		}
		if err != nil {
			return err
		}
		perPair = append(perPair, bench.ModelScores{Model: eng.Model(), Pairs: res.PerPair})
		r := pairReport{Model: eng.Model(), Pairs: res.Pairs, Genuine: len(res.Scores.Genuine), Impostor: len(res.Scores.Impostor),
			NoFace: len(res.Failed), Threshold: mp.Match, ThresholdVersion: pol.Version, AtThreshold: res.Scores.At(mp.Match),
			Seconds: time.Since(t0).Seconds(),
			Speed: speedReport{Threads: ocv.NumThreads(), Analyze: analyzeT.Summary(), Embed: embedT.Summary(),
				TargetAnalyzeMS: ms(bench.TargetAnalyze), TargetEmbedMS: ms(bench.TargetEmbed)}}
		r.AUC, _ = res.Scores.AUC()
		r.EER, r.EERThreshold, _ = res.Scores.EER()
		for _, fmr := range []float64{1e-2, 1e-3, 1e-4} {
			if fmr*float64(r.Impostor) < 1 {
				continue
			}
			p, _ := res.Scores.FNMRAtFMR(fmr)
			r.FNMRAtFMR = append(r.FNMRAtFMR, fmrPoint{Target: fmr, Point: p})
		}
		reports = append(reports, r)
	}
	if *scoresPath != "" {
		if err := writeScores(*scoresPath, filepath.Dir(*pairsPath), perPair); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	for _, r := range reports {
		fmt.Fprintf(stdout, "%s: %d pairs (%d genuine, %d impostor), %d images without a face, %.0f s\n", r.Model, r.Pairs, r.Genuine, r.Impostor, r.NoFace, r.Seconds)
		fmt.Fprintf(stdout, "  AUC %.4f  EER %.2f%% (score %.4f)\n", r.AUC, 100*r.EER, r.EERThreshold)
		for _, p := range r.FNMRAtFMR {
			fmt.Fprintf(stdout, "  FNMR %.2f%% at FMR <= %.0e (measured %.2e, score %.4f)\n", 100*p.FNMR, p.Target, p.FMR, p.Threshold)
		}
		fmt.Fprintf(stdout, "  configured threshold %.4f (%s): TAR %.2f%%  FMR %.2f%%\n", r.Threshold, r.ThresholdVersion, 100*(1-r.AtThreshold.FNMR), 100*r.AtThreshold.FMR)
		fmt.Fprintf(stdout, "  speed, %d OpenCV thread(s), wall time per image:\n", r.Speed.Threads)
		fmt.Fprintf(stdout, "    detect + landmarks + quality  %v  (target <= %.0f ms on one core)\n", r.Speed.Analyze, r.Speed.TargetAnalyzeMS)
		fmt.Fprintf(stdout, "    embed                         %v  (target <= %.0f ms on one core)\n", r.Speed.Embed, r.Speed.TargetEmbedMS)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// writeScores writes the per-pair CSV atomically, so a failed run never
// leaves a half-written file.
func writeScores(path, root string, sets []bench.ModelScores) error {
	return writeFileAtomic(path, func(w io.Writer) error { return bench.WriteScoresCSV(w, root, sets...) })
}
