package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"vidid/reason"
)

// Override replaces named fields of a policy (from command-line flags):
//
//	match, moderation_band, same_person   the given model's fields
//	liveness.<cue>.threshold              a cue's threshold
//	liveness.<cue>.mode                   enforce, record or off
//	frames.match, frames.min_match, frames.min_liveness
//
// Each override touches only its field: overriding the match threshold
// keeps the moderation band and the same-person bar.
type Override struct {
	Field string
	Value string
}

// Override returns a derived policy with the overrides applied to model's
// fields and the named cues, validated, with Parent set to p's version and
// Version "<parent>+<digest of the overrides>", so two replicas given the
// same flags derive the same version. No overrides return p itself.
func (p *Policy) Override(model string, ovs ...Override) (*Policy, error) {
	if len(ovs) == 0 {
		return p, nil
	}
	q := p.clone()
	q.Parent, q.Evidence = p.Version, nil
	mi := -1
	for i, m := range q.Models {
		if m.Model == model {
			mi = i
		}
	}
	var canon []string
	for _, o := range ovs {
		num := func() (float64, error) {
			f, err := strconv.ParseFloat(o.Value, 64)
			if err != nil {
				return 0, fmt.Errorf("%w: override %s=%q: not a number", ErrInvalid, o.Field, o.Value)
			}
			return f, nil
		}
		integer := func(dst *int) error {
			n, err := strconv.Atoi(o.Value)
			if err != nil {
				return fmt.Errorf("%w: override %s=%q: not an integer", ErrInvalid, o.Field, o.Value)
			}
			*dst = n
			return nil
		}
		var err error
		switch f := o.Field; {
		case f == "match" || f == "moderation_band" || f == "same_person":
			if mi < 0 {
				return nil, fmt.Errorf("%w: model %s in policy %s", ErrNoModel, model, p.Version)
			}
			var x float64
			if x, err = num(); err == nil {
				switch f {
				case "match":
					q.Models[mi].Match = x
				case "moderation_band":
					q.Models[mi].ModerationBand = x
				default:
					q.Models[mi].SamePerson = x
				}
			}
		case f == "frames.match":
			err = integer(&q.Frames.Match)
		case f == "frames.min_match":
			err = integer(&q.Frames.MinMatch)
		case f == "frames.min_liveness":
			err = integer(&q.Frames.MinLiveness)
		case strings.HasPrefix(f, "liveness.") && strings.Count(f, ".") == 2:
			parts := strings.Split(f, ".")
			c, ok := q.Liveness[parts[1]]
			if !ok {
				c = Cue{Mode: Off, Reason: reason.LivenessFailed}
			}
			switch parts[2] {
			case "threshold":
				c.Threshold, err = num()
			case "mode":
				c.Mode = Mode(o.Value)
			default:
				err = fmt.Errorf("%w: override field %q (threshold or mode)", ErrInvalid, f)
			}
			q.Liveness[parts[1]] = c
		default:
			err = fmt.Errorf("%w: override field %q", ErrInvalid, f)
		}
		if err != nil {
			return nil, err
		}
		canon = append(canon, o.Field+"="+o.Value)
	}
	sort.Strings(canon)
	sum := sha256.Sum256([]byte(model + "\n" + strings.Join(canon, "\n")))
	q.Version = p.Version + "+" + hex.EncodeToString(sum[:4])
	q.Comment = fmt.Sprintf("derived from %s for %s by overrides: %s", p.Version, model, strings.Join(canon, ", "))
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("override of %s: %w", p.Version, err)
	}
	return q, nil
}
