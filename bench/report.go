package bench

// ReportSchema is the version of the report.json layout.
const ReportSchema = 1

// Report is OUT/report.json: everything one `vidid bench` run measured.
type Report struct {
	Schema   int         `json:"schema"`
	Dataset  DatasetInfo `json:"dataset"`
	Settings Settings    `json:"settings"`
	// Embedders holds the face comparison figures per embedder.
	Embedders []EmbedderReport `json:"embedders"`
	Liveness  *LivenessReport  `json:"liveness,omitempty"`
	// NotMeasured lists what this run did not measure, and why.
	NotMeasured []string `json:"not_measured"`
}

// DatasetInfo says what the run measured on.
type DatasetInfo struct {
	Root string `json:"root"`
	// Hash is DatasetHash over every file the run read.
	Hash  string   `json:"hash"`
	Parts []string `json:"parts"` // faces, pairs, spoof, video, meta
	Files int      `json:"files"` // image and video files read
	Pairs string   `json:"pairs,omitempty"`
	Meta  string   `json:"meta,omitempty"`
}

// Settings are the run's parameters.
type Settings struct {
	Seed               uint64    `json:"seed"`
	Resamples          int       `json:"bootstrap_resamples"`
	GenuinePerIdentity int       `json:"genuine_per_identity"`
	MaxImpostors       int       `json:"max_impostors"`
	QualityGate        bool      `json:"quality_gate"`
	FMRTargets         []float64 `json:"fmr_targets"`
	// AcquisitionRule states when an image counts as a failure to acquire.
	AcquisitionRule string  `json:"acquisition_rule"`
	VideoFPS        float64 `json:"video_fps,omitempty"`
	Threads         int     `json:"threads"`
}

// ActiveThreshold is the threshold the engine is configured with.
type ActiveThreshold struct {
	Score     float64 `json:"score"`
	Version   string  `json:"version"`
	FMRTarget float64 `json:"fmr_target,omitempty"`
}

// EmbedderReport is one embedder's figures.
type EmbedderReport struct {
	Embedder string          `json:"embedder"`
	Model    string          `json:"model"`
	Active   ActiveThreshold `json:"active_threshold"`
	// Faces: all genuine pairs within the identities of faces/ (capped),
	// impostors one image per identity against every other.
	Faces *FacePart `json:"faces,omitempty"`
	// Pairs: the pair list.
	Pairs *FacePart `json:"pairs,omitempty"`
	// Timing is the time per image and stage, in ms.
	Timing map[string]Summary `json:"timing_ms"`
	Images int                `json:"images"`
	Cached int                `json:"images_from_cache"`
}

// FacePart is one part of the face data: its failures to acquire apart,
// then the verification figures over the comparisons of usable images.
type FacePart struct {
	Images int `json:"images"`
	FTA    FTA `json:"fta"`
	// ExcludedPairs counts comparisons left out because an image failed
	// to acquire (pair lists only).
	ExcludedPairs int `json:"excluded_pairs,omitempty"`
	Verification
	Groups []Group `json:"groups,omitempty"`
}

// Group is the figures for one metadata group: genuine comparisons of its
// identities, impostor comparisons between two of its identities.
type Group struct {
	Column      string  `json:"column"`
	Value       string  `json:"value"`
	Identities  int     `json:"identities"`
	Genuine     int     `json:"genuine"`
	Impostor    int     `json:"impostor"`
	EER         Num     `json:"eer"`
	AtThreshold *Point  `json:"at_threshold,omitempty"`
	Curve       []Point `json:"curve"`
}

// LivenessReport is the passive liveness figures.
type LivenessReport struct {
	Model     string  `json:"model"`
	Threshold float64 `json:"threshold"`
	// ThresholdSource says where Threshold comes from.
	ThresholdSource string `json:"threshold_source"`
	// Frames: frames of captures and stills (kinds frame, still).
	Frames *PADPart `json:"frames,omitempty"`
	// Crops: tight face crops, reported apart (the scorer sees no context).
	Crops *PADPart `json:"crops,omitempty"`
	// Mixed: images with an attack and a live face (label mixed); the
	// ground truth of the main face is ambiguous, so they are kept out of
	// Frames: APCER here is the share whose main face scored bona fide.
	Mixed *PADPart `json:"mixed,omitempty"`
	// VideoFrames: frames sampled from the labelled videos, scored alone.
	VideoFrames *PADPart `json:"video_frames,omitempty"`
	// Videos: per-video decisions through the capture path (not measured yet).
	Videos VideoPAD           `json:"videos"`
	Timing map[string]Summary `json:"timing_ms"`
}

// PADPart is APCER/BPCER over one kind of presentations; presentations
// without a face are failures to acquire, counted apart.
type PADPart struct {
	Kinds         []string       `json:"kinds"`
	Presentations int            `json:"presentations"`
	Subjects      int            `json:"subjects"`
	Bonafide      int            `json:"bonafide"`
	Attacks       map[string]int `json:"attacks"`
	FTA           FTA            `json:"fta"`
	PAD
	// APCERCI and BPCERCI are Wilson intervals per presentation (frames of
	// one video are not independent: read them as lower bounds on the
	// uncertainty).
	APCERCI map[string]Interval `json:"apcer_ci95"`
	BPCERCI Interval            `json:"bpcer_ci95"`
	// Sweep holds the rates at thresholds 0, 0.05, ..., 1.
	Sweep []PAD `json:"sweep"`
}

// VideoPAD is the per-video figures.
type VideoPAD struct {
	APCER  map[string]Num `json:"apcer"`
	BPCER  *Num           `json:"bpcer"`
	Status string         `json:"status"`
	Videos int            `json:"videos"`
}
