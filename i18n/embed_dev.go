//go:build dev

package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// source reads the package's folder from disk so edits show on reload.
func source() fs.FS {
	_, file, _, _ := runtime.Caller(0)
	return os.DirFS(filepath.Dir(file))
}

// reloadEveryTime is true under the dev tag.
const reloadEveryTime = true
