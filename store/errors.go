package store

import "errors"

// Sentinel errors callers branch on. They are wrapped with context; test with errors.Is.
var (
	// ErrSchemaTooNew: the database was migrated by a newer vidid (it records a
	// migration version above the highest this binary embeds). Upgrade the binary.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
	// ErrUnknownMigration: the database records a migration this binary does not
	// embed (below its highest version), or records it under another name.
	ErrUnknownMigration = errors.New("database records a migration this binary does not know")
	// ErrBadMigration: an embedded migration file is misnamed, duplicated or empty.
	ErrBadMigration = errors.New("malformed migration file")
	// ErrMigrationFailed: a migration's SQL failed; its transaction was rolled back.
	ErrMigrationFailed = errors.New("migration failed")
)
