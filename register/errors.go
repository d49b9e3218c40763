package register

import "errors"

// Sentinel errors callers branch on. They are wrapped with the reason; test
// with errors.Is.
var (
	// ErrNotFound: no citizen with this IIN, or no cached embedding for the
	// citizen's current photo and the model asked for.
	ErrNotFound = errors.New("not found in the population register")
	// ErrBadPhoto: the register photo is not a decodable JPEG or PNG, is larger
	// than 10 MB, or is outside 64–6000 pixels on a side.
	ErrBadPhoto = errors.New("unusable register photo")
	// ErrBadRecord: a citizen record is incomplete or inconsistent (no surname,
	// birth date disagreeing with the IIN, over-long fields).
	ErrBadRecord = errors.New("invalid citizen record")
	// ErrBadEmbedding: an embedding to cache is empty, too long, has a
	// non-finite component, or names no model or photo hash.
	ErrBadEmbedding = errors.New("invalid embedding")
	// ErrPhotoChanged: the embedding was computed from a photo that is no
	// longer the citizen's current one; it was not stored.
	ErrPhotoChanged = errors.New("register photo changed since the embedding was computed")
	// ErrSealed: a sealed photo or embedding cannot be opened: it was sealed
	// under another register key, or altered in the database.
	ErrSealed = errors.New("register data cannot be decrypted")
	// ErrBadManifest: an import manifest is malformed; nothing was written.
	ErrBadManifest = errors.New("invalid register manifest")
)
