//go:build !dev

package i18n

import (
	"embed"
	"io/fs"
)

//go:embed common capture moderation ca
var embedded embed.FS

// source is the tree holding <domain>/<lang>.json.
func source() fs.FS { return embedded }

// reloadEveryTime is false in release builds: read once, serve forever.
const reloadEveryTime = false
