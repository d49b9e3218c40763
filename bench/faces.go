package bench

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"vidid/dataset"
	"vidid/engine"
)

// FaceOptions configure FaceSets.
type FaceOptions struct {
	// GenuinePerIdentity caps the genuine comparisons per identity (a
	// seeded sample of its pairs beyond the cap); 0 = no cap.
	GenuinePerIdentity int
	// MaxImpostors caps the impostor comparisons (a seeded sample of the
	// all-vs-all pairs of one image per identity); 0 = all of them.
	MaxImpostors int
	Seed         uint64
	Threads      int
	// QualityGate counts faces failing the reference quality gate as FTA.
	QualityGate bool
}

// Images is a labelled image list: Paths[i] shows identity Ident[i], an
// index into Names.
type Images struct {
	Names []string
	Paths []string
	Ident []int32
}

// Acquired reports whether the acquisition of path is usable.
func usable(a Acquisition, gate bool) bool {
	return a.FTA == "" && len(a.Vector) > 0 && (!gate || a.QualityOK)
}

// FTAOf counts failures to acquire over the images, with a bootstrap
// interval over identities.
func FTAOf(im Images, acq map[string]Acquisition, gate bool, resamples int, seed uint64, threads int) FTA {
	f := FTA{ByReason: map[string]int{}}
	att, fail := make([]float64, len(im.Names)), make([]float64, len(im.Names))
	for i, p := range im.Paths {
		a := acq[p]
		f.Attempts++
		att[im.Ident[i]]++
		reason := a.FTA
		if reason == "" && gate && !a.QualityOK {
			reason = FTAPoorQuality
		}
		if reason != "" {
			f.Failed++
			fail[im.Ident[i]]++
			f.ByReason[reason]++
		}
	}
	f.Value, f.CI95 = Num(nan), Interval{nan, nan}
	if f.Attempts > 0 {
		f.Value = Num(float64(f.Failed) / float64(f.Attempts))
	}
	if resamples > 0 && len(im.Names) > 1 {
		f.CI95 = Bootstrap(len(im.Names), resamples, seed, threads, func(w []float64) []float64 {
			var a, b float64
			for i, x := range w {
				a += x * att[i]
				b += x * fail[i]
			}
			if a == 0 {
				return []float64{nan}
			}
			return []float64{b / a}
		})[0]
	}
	return f
}

// FTA is a failure-to-acquire rate with its interval and counts.
type FTA struct {
	Estimate
	Attempts int            `json:"attempts"`
	Failed   int            `json:"failed"`
	ByReason map[string]int `json:"by_reason"`
}

// vectors holds the usable embeddings by image index, normalised for the
// cosine metric so that a score is a dot product.
type vectors struct {
	metric engine.Metric
	v      [][]float32
}

func newVectors(im Images, acq map[string]Acquisition, gate bool) vectors {
	x := vectors{v: make([][]float32, len(im.Paths))}
	for i, p := range im.Paths {
		a := acq[p]
		if !usable(a, gate) {
			continue
		}
		x.metric = a.Metric
		v := slices.Clone(a.Vector)
		if a.Metric == engine.Cosine {
			var n float64
			for _, f := range v {
				n += float64(f) * float64(f)
			}
			n = math.Sqrt(n)
			for k := range v {
				v[k] = float32(float64(v[k]) / n)
			}
		}
		x.v[i] = v
	}
	return x
}

// score is engine.Score of images i and j (up to float32 rounding).
func (x vectors) score(i, j int32) float64 {
	a, b := x.v[i], x.v[j]
	var s float64
	if x.metric == engine.Euclidean {
		for k := range a {
			d := a[k] - b[k]
			s += float64(d * d)
		}
		return min(max(1-math.Sqrt(s)/2, 0), 1)
	}
	for k := range a {
		s += float64(a[k] * b[k])
	}
	return min(max((1+s)/2, 0), 1)
}

// scoreAll scores the pairs, threads at a time, in order.
func (x vectors) scoreAll(ctx context.Context, pairs []Comparison, threads int) error {
	threads = max(threads, 1)
	chunk := (len(pairs) + threads - 1) / threads
	var wg sync.WaitGroup
	for lo := 0; lo < len(pairs); lo += chunk {
		part := pairs[lo:min(lo+chunk, len(pairs))]
		wg.Go(func() {
			for k := range part {
				if k%4096 == 0 && ctx.Err() != nil {
					return
				}
				part[k].Score = x.score(part[k].I, part[k].J)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// FaceSet builds and scores the genuine comparisons (all pairs of usable
// images within an identity, capped) and the impostor comparisons (the
// first usable image of every identity against every other's, or a
// sample) of a face folder.
func FaceSet(ctx context.Context, im Images, acq map[string]Acquisition, o FaceOptions) (Set, error) {
	x := newVectors(im, acq, o.QualityGate)
	s := Set{Identities: len(im.Names)}
	byID := make([][]int32, len(im.Names))
	for i := range im.Paths {
		if x.v[i] != nil {
			byID[im.Ident[i]] = append(byID[im.Ident[i]], int32(i))
		}
	}
	var firsts []int32
	for id, imgs := range byID {
		if len(imgs) == 0 {
			continue
		}
		firsts = append(firsts, imgs[0])
		var pairs []Comparison
		for a := range imgs {
			for b := a + 1; b < len(imgs); b++ {
				pairs = append(pairs, Comparison{A: int32(id), B: int32(id), I: imgs[a], J: imgs[b]})
			}
		}
		if c := o.GenuinePerIdentity; c > 0 && len(pairs) > c {
			rng := rand.New(rand.NewPCG(o.Seed, uint64(id)))
			rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
			pairs = pairs[:c]
			slices.SortFunc(pairs, func(p, q Comparison) int { return cmp.Or(cmp.Compare(p.I, q.I), cmp.Compare(p.J, q.J)) })
		}
		s.Genuine = append(s.Genuine, pairs...)
	}
	s.Impostor = impostorPairs(im, firsts, o.MaxImpostors, o.Seed)
	if err := x.scoreAll(ctx, s.Genuine, o.Threads); err != nil {
		return s, err
	}
	return s, x.scoreAll(ctx, s.Impostor, o.Threads)
}

// impostorPairs pairs every image in firsts with every later one, or a
// seeded sample of max of those pairs.
func impostorPairs(im Images, firsts []int32, maxN int, seed uint64) []Comparison {
	n := len(firsts)
	all := n * (n - 1) / 2
	mk := func(a, b int) Comparison {
		i, j := firsts[a], firsts[b]
		return Comparison{A: im.Ident[i], B: im.Ident[j], I: i, J: j}
	}
	if maxN <= 0 || maxN >= all {
		out := make([]Comparison, 0, all)
		for a := range n {
			for b := a + 1; b < n; b++ {
				out = append(out, mk(a, b))
			}
		}
		return out
	}
	rng := rand.New(rand.NewPCG(seed, math.MaxUint64))
	seen := make(map[[2]int]bool, maxN)
	out := make([]Comparison, 0, maxN)
	for len(out) < maxN {
		a, b := rng.IntN(n), rng.IntN(n)
		if a == b {
			continue
		}
		a, b = min(a, b), max(a, b)
		if seen[[2]int{a, b}] {
			continue
		}
		seen[[2]int{a, b}] = true
		out = append(out, mk(a, b))
	}
	return out
}

// ImagesOf lists the images of a face folder's identities.
func ImagesOf(ids []dataset.Identity) Images {
	var im Images
	for i, id := range ids {
		im.Names = append(im.Names, id.Name)
		for _, p := range id.Images {
			im.Paths, im.Ident = append(im.Paths, p), append(im.Ident, int32(i))
		}
	}
	return im
}
