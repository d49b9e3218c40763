//go:build !dev

package web

import (
	"embed"
	"io/fs"
)

//go:embed static templates
var embedded embed.FS

// source is the tree holding static/ and templates/.
func source() fs.FS { return embedded }

// reloadEveryTime is false in release builds: parse once, serve forever.
const reloadEveryTime = false
