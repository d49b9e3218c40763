package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, s string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSpoofLabels(t *testing.T) {
	dir := t.TempDir()
	head := "path,label,attack_type,subject,kind,source,note\n"
	good := writeFile(t, filepath.Join(dir, "spoof", "labels-a.csv"), head+
		"bonafide/1.jpg,bonafide,bonafide,s1,frame,x,\n"+
		"print/1.jpg,attack,print,s1,still,x,\"a, note\"\n"+
		"multi/1.jpg,mixed,replay+live-face,s2,frame,x\n")
	ps, err := LoadSpoofLabels(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || !ps[0].Bonafide || ps[0].AttackType != "bonafide" || ps[1].AttackType != "print" || ps[1].Kind != "still" ||
		!ps[2].Mixed || ps[2].Bonafide || ps[1].Path != filepath.Join(dir, "spoof", "print", "1.jpg") {
		t.Errorf("%+v", ps)
	}
	for name, body := range map[string]string{
		"bad label":      "a.jpg,fake,print,s1,frame,x\n",
		"no attack type": "a.jpg,attack,,s1,frame,x\n",
		"escapes":        "../a.jpg,bonafide,bonafide,s1,frame,x\n",
	} {
		if _, err := LoadSpoofLabels(writeFile(t, filepath.Join(dir, "bad.csv"), head+body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := LoadSpoofLabels(writeFile(t, filepath.Join(dir, "nohead.csv"), "path,label\n")); err == nil || !strings.Contains(err.Error(), "attack_type") {
		t.Errorf("missing column: %v", err)
	}
}

func TestLoadVideoLabels(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "video", "labels.csv"), "path,label,subject,codec\n"+
		"video/bonafide/a.webm,bonafide,s1,vp8\nvideo/replay/b.webm,replay,s1,vp8\n")
	vs, err := LoadVideoLabels(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || !vs[0].Bonafide || vs[1].AttackType != "replay" || vs[1].Path != filepath.Join(dir, "video", "replay", "b.webm") {
		t.Errorf("%+v", vs)
	}
}

func TestLoadMeta(t *testing.T) {
	f := writeFile(t, filepath.Join(t.TempDir(), "meta.csv"), "identity,sex,region\nana,F,central-asia\nbo,M,\nchen,M,east-asia\n")
	m, err := LoadMeta(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Columns, ",") != "sex,region" || m.Groups["bo"]["sex"] != "M" || m.Groups["bo"]["region"] != "" {
		t.Errorf("%+v", m)
	}
	if v := m.Values("region"); strings.Join(v, ",") != "central-asia,east-asia" {
		t.Errorf("values %v", v)
	}
}

func TestSampleIdentities(t *testing.T) {
	var ids []Identity
	for _, n := range "abcdefghij" {
		ids = append(ids, Identity{Name: string(n)})
	}
	a, b := SampleIdentities(ids, 4, 1), SampleIdentities(ids, 4, 1)
	if len(a) != 4 || a[0].Name != b[0].Name || a[3].Name != b[3].Name {
		t.Fatalf("not deterministic: %v %v", a, b)
	}
	for i := 1; i < len(a); i++ {
		if a[i-1].Name >= a[i].Name {
			t.Errorf("order lost: %v", a)
		}
	}
	if len(SampleIdentities(ids, 0, 1)) != 10 || len(SampleIdentities(ids, 20, 1)) != 10 {
		t.Error("n <= 0 or >= len must keep all")
	}
}

func TestWriteSpoofLabelsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		rows []SpoofRow
	}{
		{"none", nil},
		{"quoted source", []SpoofRow{
			{Path: "synthetic/s1/a-0.jpg", Label: "attack", AttackType: "print-synthetic", Subject: "s1", Kind: "frame", Source: `gen {a=1, b="x"} from bonafide/a.jpg`},
			{Path: "bonafide/a.jpg", Label: "bonafide", AttackType: "bonafide", Subject: "s1", Kind: "still", Source: "x"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteSpoofLabels(&b, tc.rows); err != nil {
				t.Fatal(err)
			}
			ps, err := LoadSpoofLabels(writeFile(t, filepath.Join(dir, tc.name+".csv"), b.String()))
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != len(tc.rows) {
				t.Fatalf("%d rows back, want %d", len(ps), len(tc.rows))
			}
			for i, p := range ps {
				r := tc.rows[i]
				if p.Rel != r.Path || p.AttackType != r.AttackType || p.Subject != r.Subject || p.Kind != r.Kind || p.Bonafide != (r.Label == "bonafide") {
					t.Errorf("row %d: %+v, wrote %+v", i, p, r)
				}
			}
		})
	}
}
