package store

// Test hooks for the external store_test package (which may import
// internal/pgtest without an import cycle).
var (
	MigrateFS      = migrate
	LoadMigrations = loadMigrations
)

const MigrateLockKey = migrateLockKey
