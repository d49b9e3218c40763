package assemble

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	"vidid/engine"
)

//go:embed thresholds.json
var defaultThresholds []byte

// ThresholdSet is a versioned set of per-model thresholds.
type ThresholdSet struct {
	Version    string `json:"version"`
	Thresholds []struct {
		Model     string  `json:"model"`
		Score     float64 `json:"score"`
		FMRTarget float64 `json:"fmr_target"`
		// SamePerson is the bar for "the same person within one capture"
		// (capture.Config.SamePersonScore); absent or 0: that check is off.
		SamePerson float64 `json:"same_person,omitempty"`
		// ModerationBand is how far under Score a no-match still goes to a
		// moderator rather than counting (engine.Threshold); absent or 0: off.
		ModerationBand float64 `json:"moderation_band,omitempty"`
	} `json:"thresholds"`
}

// LoadThresholds reads a threshold set from path, or the built-in defaults
// when path is empty.
func LoadThresholds(path string) (ThresholdSet, error) {
	b := defaultThresholds
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return ThresholdSet{}, fmt.Errorf("read thresholds: %w", err)
		}
	}
	var ts ThresholdSet
	if err := json.Unmarshal(b, &ts); err != nil {
		return ThresholdSet{}, fmt.Errorf("parse thresholds %s: %w", path, err)
	}
	if ts.Version == "" {
		return ThresholdSet{}, fmt.Errorf("thresholds %s: no version", path)
	}
	return ts, nil
}

// For returns the threshold for model.
func (ts ThresholdSet) For(model string) (engine.Threshold, error) {
	for _, t := range ts.Thresholds {
		if t.Model == model {
			if t.Score <= 0 || t.Score >= 1 {
				return engine.Threshold{}, fmt.Errorf("threshold for %s: score %v outside (0,1)", model, t.Score)
			}
			if t.SamePerson < 0 || t.SamePerson >= 1 {
				return engine.Threshold{}, fmt.Errorf("threshold for %s: same_person %v outside [0,1)", model, t.SamePerson)
			}
			if t.ModerationBand < 0 || t.ModerationBand >= t.Score {
				return engine.Threshold{}, fmt.Errorf("threshold for %s: moderation_band %v outside [0,score)", model, t.ModerationBand)
			}
			return engine.Threshold{Model: model, Score: t.Score, Version: ts.Version, SamePerson: t.SamePerson,
				ModerationBand: t.ModerationBand}, nil
		}
	}
	return engine.Threshold{}, fmt.Errorf("no threshold for model %s in threshold set %s: run a benchmark and add one", model, ts.Version)
}
