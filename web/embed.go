//go:build !dev

package web

import (
	"embed"
	"io/fs"
)

//go:embed static templates i18n
var embedded embed.FS

// source is the tree holding static/, templates/ and i18n/.
func source() fs.FS { return embedded }

// reloadEveryTime is false in release builds: parse once, serve forever.
const reloadEveryTime = false
