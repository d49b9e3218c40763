// Package ids checks identifiers that arrive from outside (URLs, tokens,
// API bodies) before they reach the database.
package ids

// IsUUID reports whether s is a UUID in its canonical 8-4-4-4-12 hex form
// (either case). Postgres accepts more spellings; vidid only issues and
// accepts this one.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
