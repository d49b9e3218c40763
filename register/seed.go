package register

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vidid/idnum"
)

// Demo IINs are derived from a hash of the folder or subject name, so they
// are the same on every run and machine. Face folders take serials
// 0000–8999 and video subjects 9000–9999, so the two never collide; dates of
// birth fall in 1950–2005.
const (
	demoFaceSerials    = 9000
	demoSubjectSerial0 = 9000
)

var (
	demoBornFrom = time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	demoBornDays = int(time.Date(2005, 12, 31, 0, 0, 0, 0, time.UTC).Sub(demoBornFrom).Hours() / 24)
)

// SeedDemo builds a demo register from the public test data in dataDir
// (../shared/data): for each person folder under dataDir/faces (sorted; at
// most limit of them, 0 = all) the first image (1.jpg, else the lowest
// number) becomes the register photo of "Given Surname" from the folder
// name (lfw-Anthony_Fauci
// → Anthony Fauci; a single name, faceapi-amy, becomes the surname Amy),
// under a stable IIN derived from the folder name. Then, always, one entry
// per video subject with frames in dataDir/spoof/bonafide/<subject>-frames
// (its first frame; s01-apfol → given name "Demo", surname "S01-APFOL")
// under DemoSubjectIIN(subject), and one whose register photo shows two
// people (DemoModerationIIN). Everything is validated first and written
// in one transaction; running it again changes nothing. n is the number of
// citizens written.
func SeedDemo(ctx context.Context, repo *PG, dataDir string, limit int) (n int, err error) {
	if limit < 0 {
		return 0, fmt.Errorf("seed demo register: negative limit %d", limit)
	}
	entries, err := demoEntries(dataDir, limit)
	if err != nil {
		return 0, fmt.Errorf("seed demo register from %s: %w", dataDir, err)
	}
	if err := repo.writeAll(ctx, "demo seed", entries); err != nil {
		return 0, fmt.Errorf("seed demo register: %w", err)
	}
	return len(entries), nil
}

func demoEntries(dataDir string, limit int) ([]entry, error) {
	facesDir := filepath.Join(dataDir, "faces")
	people, err := os.ReadDir(facesDir)
	if err != nil {
		return nil, fmt.Errorf("read face folders: %w", err)
	}
	var entries []entry
	used := map[string]string{} // IIN → folder
	for _, p := range people {
		if !p.IsDir() {
			continue // lfw-pairs.tsv, SOURCES.md
		}
		if limit > 0 && len(entries) == limit {
			break
		}
		folder := p.Name()
		photo, err := firstImage(filepath.Join(facesDir, folder))
		if err != nil {
			return nil, err
		}
		given, surname := demoName(folder)
		iin, err := demoFaceIIN(folder, used)
		if err != nil {
			return nil, err
		}
		used[iin] = folder
		e, err := checkEntry("faces/"+folder, Citizen{IIN: iin, Surname: surname, GivenName: given}, fileReader(photo))
		if err != nil {
			return nil, fmt.Errorf("faces/%s: %w", folder, err)
		}
		entries = append(entries, e)
	}

	subjects, err := DemoSubjects(dataDir)
	if err != nil {
		return nil, err
	}
	for _, s := range subjects {
		dir := filepath.Join(dataDir, "spoof", "bonafide", s+"-frames")
		photo, err := firstImage(dir)
		if err != nil {
			return nil, err
		}
		iin := DemoSubjectIIN(s)
		if other, dup := used[iin]; dup {
			return nil, fmt.Errorf("demo subject %s: IIN %s already given to %s", s, idnum.MaskIIN(iin), other)
		}
		used[iin] = s
		c := Citizen{IIN: iin, GivenName: "Demo", Surname: strings.ToUpper(s)}
		e, err := checkEntry("spoof/bonafide/"+s+"-frames", c, fileReader(photo))
		if err != nil {
			return nil, fmt.Errorf("demo subject %s: %w", s, err)
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("no face folders under %s", facesDir)
	}
	if photo, ok, err := demoModerationPhoto(dataDir); err != nil {
		return nil, err
	} else if ok {
		c := Citizen{IIN: DemoModerationIIN(), GivenName: "Demo", Surname: "MODERATION"}
		e, err := checkEntry("spoof/multi-face", c, fileReader(photo))
		if err != nil {
			return nil, fmt.Errorf("demo moderation citizen: %w", err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// DemoModerationIIN is the demo citizen whose register photo shows two
// people (the first frame of the first dataDir/spoof/multi-face/*-frames
// folder): the engine cannot use it, so any capture for this IIN goes to
// the moderation queue, which is how the demo shows that path.
func DemoModerationIIN() string { return DemoSubjectIIN("moderation-demo") }

// demoModerationPhoto finds the photo of DemoModerationIIN; ok is false
// when the data has no multi-face folder.
func demoModerationPhoto(dataDir string) (path string, ok bool, err error) {
	dirs, err := filepath.Glob(filepath.Join(dataDir, "spoof", "multi-face", "*-frames"))
	if err != nil || len(dirs) == 0 {
		return "", false, err
	}
	slices.Sort(dirs)
	photo, err := firstImage(dirs[0])
	if err != nil {
		return "", false, err
	}
	return photo, true, nil
}

// DemoSubjects lists the video subjects that SeedDemo registers: the
// <subject> of every dataDir/spoof/bonafide/<subject>-frames folder, sorted.
// None (and no error) when the folder is absent.
func DemoSubjects(dataDir string) ([]string, error) {
	des, err := os.ReadDir(filepath.Join(dataDir, "spoof", "bonafide"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read demo subjects: %w", err)
	}
	var out []string
	for _, d := range des {
		if s, ok := strings.CutSuffix(d.Name(), "-frames"); ok && d.IsDir() && s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, nil
}

// DemoSubjectIIN returns the fixed IIN SeedDemo gives the video subject
// (e.g. "s01-apfol" for video/bonafide/s01-apfol-real2.webm), so end-to-end
// tests can open a session for that person. It is a pure function of the
// name and always a valid IIN, with a serial in 9000–9999.
func DemoSubjectIIN(subject string) string {
	h := sha256.Sum256([]byte("vidid demo subject\x00" + subject))
	born, male, s := demoDraw(h)
	iin, err := idnum.GenerateIIN(born, male, demoSubjectSerial0+s%1000)
	if err != nil {
		// Past 9999 no usable serial was left: start the range again.
		iin, err = idnum.GenerateIIN(born, male, demoSubjectSerial0)
	}
	if err != nil {
		panic("register: no valid demo IIN: " + err.Error()) // cannot happen: serial 9000 upwards always has usable ones
	}
	return iin
}

// demoFaceIIN derives the IIN of a face folder; on a clash with an earlier
// folder (rare) it takes the next free serial, so the result depends only on
// the sorted folder list before it.
func demoFaceIIN(folder string, used map[string]string) (string, error) {
	h := sha256.Sum256([]byte("vidid demo face\x00" + folder))
	born, male, s := demoDraw(h)
	s %= demoFaceSerials
	for range demoFaceSerials {
		iin, err := idnum.GenerateIIN(born, male, s)
		if err == nil && serialOf(iin) < demoFaceSerials {
			if _, taken := used[iin]; !taken {
				return iin, nil
			}
			s = serialOf(iin) + 1
		} else {
			s = 0
		}
		s %= demoFaceSerials
	}
	return "", fmt.Errorf("no free demo IIN for %s", folder)
}

func demoDraw(h [32]byte) (born time.Time, male bool, serial int) {
	days := int(binary.BigEndian.Uint32(h[0:4]) % uint32(demoBornDays+1))
	return demoBornFrom.AddDate(0, 0, days), h[4]&1 == 1, int(binary.BigEndian.Uint16(h[5:7]))
}

func serialOf(iin string) int {
	n := 0
	for _, c := range iin[7:11] {
		n = n*10 + int(c-'0')
	}
	return n
}

// demoName turns a folder name "<source>-<Person_Name>" into given name and
// surname: the last part is the surname, the others the given name(s). An
// all-lowercase name is capitalised; a single name is the surname.
func demoName(folder string) (given, surname string) {
	_, person, ok := strings.Cut(folder, "-")
	if !ok || person == "" {
		person = folder
	}
	lower := strings.ToLower(person) == person
	parts := strings.FieldsFunc(person, func(r rune) bool { return r == '_' || r == ' ' })
	for i, p := range parts {
		if lower {
			r, n := utf8.DecodeRuneInString(p)
			parts[i] = string(unicode.ToUpper(r)) + p[n:]
		}
	}
	if len(parts) == 0 {
		return "", folder
	}
	return strings.Join(parts[:len(parts)-1], " "), parts[len(parts)-1]
}

// firstImage returns the first JPEG or PNG in dir: the one with the lowest
// number for numbered files (LFW folders start at 3.jpg or 15.jpg when
// earlier ones were dropped), else the first by name.
func firstImage(dir string) (string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	best, bestNum := "", -1
	for _, d := range des {
		name := d.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if !d.Type().IsRegular() || (ext != ".jpg" && ext != ".jpeg" && ext != ".png") {
			continue
		}
		num, err := strconv.Atoi(strings.TrimSuffix(name, filepath.Ext(name)))
		if err != nil || num < 0 {
			num = -1
		}
		switch {
		case best == "":
		case num >= 0 && (bestNum < 0 || num < bestNum):
		case num < 0 && bestNum < 0 && name < best:
		default:
			continue
		}
		best, bestNum = name, num
	}
	if best == "" {
		return "", fmt.Errorf("%s: no JPEG or PNG image", dir)
	}
	return filepath.Join(dir, best), nil
}

func fileReader(path string) func() ([]byte, error) {
	return func() ([]byte, error) {
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadPhoto, err)
		}
		if st.Size() > MaxPhotoBytes {
			return nil, fmt.Errorf("%w: %s has %d bytes, at most %d allowed", ErrBadPhoto, path, st.Size(), MaxPhotoBytes)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadPhoto, err)
		}
		return b, nil
	}
}
