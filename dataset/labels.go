package dataset

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Presentation is one labelled liveness sample: an image (frame of a
// capture, a still, or a tight face crop) or a video.
type Presentation struct {
	Path       string // absolute
	Rel        string // as written in the labels file
	Bonafide   bool
	AttackType string // "bonafide" for bona fide presentations
	Subject    string
	Kind       string // frame, still, crop, video
	// Mixed: an attack and a live face in one image (label "mixed"); the
	// ground truth for its main face is ambiguous.
	Mixed bool
}

// readCSV reads a CSV file with a header into rows keyed by column name.
func readCSV(path string, required ...string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	for i := range head {
		head[i] = strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff"))
	}
	for _, c := range required {
		if !containsStr(head, c) {
			return nil, fmt.Errorf("%s: no column %q (have %s)", path, c, strings.Join(head, ","))
		}
	}
	var out []map[string]string
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		row := map[string]string{}
		for i, v := range rec {
			if i < len(head) {
				row[head[i]] = strings.TrimSpace(v)
			}
		}
		out = append(out, row)
	}
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// relPath checks that p is a relative path inside root and joins them.
func relPath(root, p string) (string, error) {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(filepath.Clean(p), "..") {
		return "", fmt.Errorf("path %q must be relative, inside %s", p, root)
	}
	return filepath.Join(root, p), nil
}

// LoadSpoofLabels reads a liveness labels file
// (path,label,attack_type,subject,kind,source[,note]); label is bonafide,
// attack or mixed (an attack and a live face in one image), paths are
// relative to the file's folder.
func LoadSpoofLabels(path string) ([]Presentation, error) {
	rows, err := readCSV(path, "path", "label", "attack_type", "kind")
	if err != nil {
		return nil, fmt.Errorf("load spoof labels: %w", err)
	}
	root := filepath.Dir(path)
	out := make([]Presentation, 0, len(rows))
	for i, r := range rows {
		abs, err := relPath(root, r["path"])
		if err != nil {
			return nil, fmt.Errorf("%s row %d: %w", path, i+2, err)
		}
		p := Presentation{Path: abs, Rel: r["path"], Subject: r["subject"], Kind: r["kind"], AttackType: r["attack_type"]}
		switch r["label"] {
		case "bonafide":
			p.Bonafide, p.AttackType = true, "bonafide"
		case "attack", "mixed":
			p.Mixed = r["label"] == "mixed"
			if p.AttackType == "" || p.AttackType == "bonafide" {
				return nil, fmt.Errorf("%s row %d: attack without an attack_type", path, i+2)
			}
		default:
			return nil, fmt.Errorf("%s row %d: label %q, want bonafide, attack or mixed", path, i+2, r["label"])
		}
		out = append(out, p)
	}
	return out, nil
}

// LoadVideoLabels reads video/labels.csv (path,label,subject,...): label is
// bonafide or the attack type; paths are relative to the file's parent
// folder (they start with video/).
func LoadVideoLabels(path string) ([]Presentation, error) {
	rows, err := readCSV(path, "path", "label")
	if err != nil {
		return nil, fmt.Errorf("load video labels: %w", err)
	}
	root := filepath.Dir(filepath.Dir(path))
	out := make([]Presentation, 0, len(rows))
	for i, r := range rows {
		abs, err := relPath(root, r["path"])
		if err != nil {
			return nil, fmt.Errorf("%s row %d: %w", path, i+2, err)
		}
		if r["label"] == "" {
			return nil, fmt.Errorf("%s row %d: empty label", path, i+2)
		}
		out = append(out, Presentation{Path: abs, Rel: r["path"], Bonafide: r["label"] == "bonafide",
			AttackType: r["label"], Subject: r["subject"], Kind: "video"})
	}
	return out, nil
}

// Meta maps an identity (face folder name) to its group labels, e.g.
// sex → F, age → 30-39, region → central-asia.
type Meta struct {
	Columns []string
	Groups  map[string]map[string]string
}

// LoadMeta reads a metadata CSV whose first column is the identity and
// whose other columns are group labels; empty cells are left out.
func LoadMeta(path string) (Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return Meta{}, fmt.Errorf("load metadata: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	if strings.HasSuffix(path, ".tsv") {
		r.Comma = '\t'
	}
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return Meta{}, fmt.Errorf("load metadata: %w", err)
	}
	if len(recs) < 2 || len(recs[0]) < 2 {
		return Meta{}, fmt.Errorf("load metadata %s: want a header `identity,group...` and rows", path)
	}
	m := Meta{Columns: recs[0][1:], Groups: map[string]map[string]string{}}
	for _, rec := range recs[1:] {
		g := map[string]string{}
		for i, v := range rec[1:] {
			if v = strings.TrimSpace(v); v != "" && i < len(m.Columns) {
				g[m.Columns[i]] = v
			}
		}
		m.Groups[strings.TrimSpace(rec[0])] = g
	}
	return m, nil
}

// Values returns the sorted values column takes.
func (m Meta) Values(column string) []string {
	seen := map[string]bool{}
	for _, g := range m.Groups {
		if v, ok := g[column]; ok {
			seen[v] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// SpoofHeader is the header of a liveness labels file as written by
// WriteSpoofLabels.
var SpoofHeader = []string{"path", "label", "attack_type", "subject", "kind", "source"}

// SpoofRow is one row of a liveness labels file (see LoadSpoofLabels).
type SpoofRow struct {
	Path, Label, AttackType, Subject, Kind, Source string
}

// WriteSpoofLabels writes rows as a labels file that LoadSpoofLabels
// reads back.
func WriteSpoofLabels(w io.Writer, rows []SpoofRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SpoofHeader); err != nil {
		return fmt.Errorf("write spoof labels: %w", err)
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Path, r.Label, r.AttackType, r.Subject, r.Kind, r.Source}); err != nil {
			return fmt.Errorf("write spoof labels: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write spoof labels: %w", err)
	}
	return nil
}
