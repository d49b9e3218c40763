package bench

import (
	"math/rand/v2"
	"slices"
	"sync"
)

// Interval is a two-sided 95% confidence interval [lo, hi].
type Interval [2]float64

// Bootstrap resamples identities with replacement n times and returns the
// 2.5th and 97.5th percentiles of each statistic stat computes from the
// per-identity weights of a resample (how often each identity was drawn).
// Resample i draws from a generator seeded with (seed, i), so the result
// does not depend on threads. Statistics stat reports as NaN (not
// measurable in that resample) are left out of their percentile; an
// interval with no values is [NaN, NaN].
func Bootstrap(identities, n int, seed uint64, threads int, stat func(w []float64) []float64) []Interval {
	if identities == 0 || n <= 0 {
		return nil
	}
	samples := make([][]float64, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(threads, 1) {
		wg.Go(func() {
			w := make([]float64, identities)
			for i := range next {
				clear(w)
				rng := rand.New(rand.NewPCG(seed, uint64(i)))
				for range identities {
					w[rng.IntN(identities)]++
				}
				samples[i] = stat(w)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	out := make([]Interval, len(samples[0]))
	col := make([]float64, 0, n)
	for k := range out {
		col = col[:0]
		for _, s := range samples {
			if s[k] == s[k] { // not NaN
				col = append(col, s[k])
			}
		}
		out[k] = percentiles(col)
	}
	return out
}

// percentiles returns the 2.5th and 97.5th percentiles (nearest rank) of xs,
// which it sorts.
func percentiles(xs []float64) Interval {
	if len(xs) == 0 {
		return Interval{nan, nan}
	}
	slices.Sort(xs)
	at := func(q float64) float64 {
		i := int(q*float64(len(xs))+0.5) - 1
		return xs[min(max(i, 0), len(xs)-1)]
	}
	return Interval{at(0.025), at(0.975)}
}
