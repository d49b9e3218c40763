package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"vidid/dataset"
	"vidid/dataset/synth"
	"vidid/engine"
)

func init() {
	addCommand(command{name: "dataset", summary: "make data sets: 'dataset synth' turns bona fide images into synthetic print and screen attacks", run: runDataset})
}

const datasetSynthDescription = `
Turns bona fide face images into labelled synthetic presentation attacks,
for attack species no public data set has. The images approximate real
attacks; 'vidid bench' reports them under their own attack types,
apart from real ones, and no threshold should be tuned on them alone.

--from is a liveness labels file (spoof/labels-*.csv: path,label,
attack_type,subject,kind,source; only its bona fide rows are used, and
--kinds may narrow them) or a folder, all of whose JPEG and PNG images
are taken as bona fide stills (subject: the image's folder name).

For every image it makes --per-image attacks, alternating:
  print-synthetic   the photo printed on paper: tones compressed to the
                    paper's range, a grey or CMYK halftone screen, paper
                    white, the sheet tilted (perspective) and rotated,
                    defocus blur; prints alternate between the sheet's
                    edge in view (the sheet smaller than the frame, over
                    a uniform background) and the sheet filling the frame
  screen-synthetic  the photo shown on a screen: R, G, B sub-pixel
                    stripes and a black matrix on a slightly rotated
                    grid, resampled to the camera's pixels (moiré), the
                    display's gamma, white point and black level, a
                    specular glare blob, slight blur
Every parameter is drawn from --seed and the source image's path, so a
rerun with the same seed writes the same images.

It writes OUT/spoof/synthetic/<source path>-<n>-<type>.jpg and
OUT/spoof/labels-synthetic.csv (path,label,attack_type,subject,kind,
source) with label attack, kind frame for frames and still otherwise,
and a source naming the generator and its version, the seed, the
parameters and the source image. With --bonafide (the default) the
source images are copied to OUT/spoof/<source path> and listed too, so
that 'vidid bench --data OUT' reports BPCER beside the synthetic APCER.

Exit codes: 0 success; 1 failure (unreadable labels, image or output);
2 bad command line.`

func runDataset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, "NAME\n  vidid dataset\n\nSYNOPSIS\n  vidid dataset synth --from DIR_OR_LABELS --out OUTDIR [flags]\n\n"+
			"DESCRIPTION\n  Makes data sets. Subcommands:\n    synth  synthetic print and screen attacks from bona fide images\n\n"+
			"  Run 'vidid dataset synth --help' for its flags.\n")
		if len(args) == 0 {
			return fmt.Errorf("%w: a subcommand is required", errUsage)
		}
		return nil
	}
	if args[0] != "synth" {
		return fmt.Errorf("%w: unknown subcommand %q", errUsage, args[0])
	}
	return runDatasetSynth(ctx, args[1:], stdout, stderr)
}

// synthSource is one bona fide image to make attacks from.
type synthSource struct {
	path, rel, subject, kind string
	row                      dataset.SpoofRow // its own labels row, for --bonafide
}

func runDatasetSynth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dataset synth", "dataset synth --from DIR_OR_LABELS --out OUTDIR [--seed N] [--per-image K] [--kinds LIST] [--bonafide=false]",
		datasetSynthDescription, stderr)
	from := fs.String("from", "", "bona fide images: a labels-*.csv `file` or a folder of images (required)")
	out := fs.String("out", "", "output data `dir`; gets spoof/labels-synthetic.csv and spoof/synthetic/ (required)")
	seed := fs.Uint64("seed", 1, "seed of every random parameter")
	perImage := fs.Int("per-image", 2, "attacks per source image, alternating print and screen")
	kinds := fs.String("kinds", "", "comma-separated `kinds` of labels rows to use (e.g. frame; default all)")
	bonafide := fs.Bool("bonafide", true, "copy the source images into OUT/spoof and list them as bona fide")
	quality := fs.Int("quality", 92, "JPEG `quality` of the written images")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case *from == "" || *out == "":
		return fmt.Errorf("%w: --from and --out are required", errUsage)
	case *perImage < 1:
		return fmt.Errorf("%w: --per-image must be at least 1", errUsage)
	case *quality < 1 || *quality > 100:
		return fmt.Errorf("%w: --quality must be in 1..100", errUsage)
	}
	srcs, err := synthSources(*from, *kinds)
	if err != nil {
		return err
	}
	if len(srcs) == 0 {
		return fmt.Errorf("no bona fide images in %s", *from)
	}
	spoof := filepath.Join(*out, "spoof")
	var rows []dataset.SpoofRow
	counts := map[string]int{}
	for _, s := range srcs {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := engine.LoadImage(s.path)
		if err != nil {
			return err
		}
		if *bonafide {
			if err := copyFile(s.path, filepath.Join(spoof, s.rel)); err != nil {
				return err
			}
			rows = append(rows, s.row)
		}
		base := filepath.ToSlash(strings.TrimSuffix(s.rel, filepath.Ext(s.rel)))
		for _, a := range synth.Variants(f, *seed, s.rel, *perImage) {
			rel := fmt.Sprintf("synthetic/%s-%d-%s.jpg", base, a.Index, strings.TrimSuffix(a.Type, "-synthetic"))
			if err := writeJPEG(filepath.Join(spoof, rel), a.Frame, *quality); err != nil {
				return err
			}
			rows = append(rows, a.Row(rel, s.subject, s.kind, s.rel))
			counts[a.Type]++
		}
	}
	labels := filepath.Join(spoof, "labels-synthetic.csv")
	if err := writeFileAtomic(labels, func(w io.Writer) error { return dataset.WriteSpoofLabels(w, rows) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d sources, %d %s, %d %s (%s, seed %d)\n", labels, len(srcs),
		counts[synth.AttackPrint], synth.AttackPrint, counts[synth.AttackScreen], synth.AttackScreen, synth.Version, *seed)
	return nil
}

// synthSources lists the bona fide images of a labels file or a folder.
func synthSources(from, kinds string) ([]synthSource, error) {
	st, err := os.Stat(from)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	if !st.IsDir() {
		ps, err := dataset.LoadSpoofLabels(from)
		if err != nil {
			return nil, err
		}
		want := strings.Split(kinds, ",")
		var out []synthSource
		for _, p := range ps {
			if !p.Bonafide || p.Mixed || (kinds != "" && !slices.Contains(want, p.Kind)) {
				continue
			}
			kind := "still"
			if p.Kind == "frame" || p.Kind == "video-frame" {
				kind = "frame"
			}
			out = append(out, synthSource{path: p.Path, rel: p.Rel, subject: p.Subject, kind: kind,
				row: dataset.SpoofRow{Path: p.Rel, Label: "bonafide", AttackType: "bonafide", Subject: p.Subject, Kind: p.Kind, Source: "copied from " + from + ": " + p.Rel}})
		}
		return out, nil
	}
	var out []synthSource
	err = filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jpg", ".jpeg", ".png":
		default:
			return nil
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(filepath.Join("bonafide", rel))
		subject := filepath.Base(filepath.Dir(path))
		if filepath.Dir(path) == filepath.Clean(from) {
			subject = "-"
		}
		out = append(out, synthSource{path: path, rel: rel, subject: subject, kind: "still",
			row: dataset.SpoofRow{Path: rel, Label: "bonafide", AttackType: "bonafide", Subject: subject, Kind: "still", Source: "copied from " + path}})
		return nil
	})
	return out, err
}

func writeJPEG(path string, f engine.Frame, quality int) error {
	b, err := f.EncodeJPEG(quality)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func copyFile(src, dst string) error {
	if filepath.Clean(src) == filepath.Clean(dst) {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
