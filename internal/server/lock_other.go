//go:build !unix

package server

import "os"

// tryLock on systems without flock (Windows) takes no lock: the
// one-server-per-data-dir check is a Unix feature (the Docker image and
// every supported deployment are Linux).
func tryLock(*os.File) (bool, error) { return true, nil }
