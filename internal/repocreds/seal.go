// Package repocreds keeps the credentials of private repositories: per URL
// prefix, an https token or user name and password, set by an administrator,
// sealed in the database with a key derived from the site's secret, and
// handed only to the worker's git fetches (gitrepo.Cache.Credentials). They
// are never shown again, never part of a URL, and never written to a log.
package repocreds

import (
	"errors"
	"fmt"

	"layerindex/internal/seal"
)

// Sealer encrypts secrets with AES-256-GCM under a key derived (HKDF-SHA256)
// from the site's secret key, so a copy of the database alone reveals no
// credential. The same secret key must be set on every process.
type Sealer struct{ box *seal.Box }

// NewSealer derives the key from the site's secret.
func NewSealer(siteSecret string) (*Sealer, error) {
	if len(siteSecret) < 32 {
		return nil, errors.New("the site's secret key is too short to seal credentials")
	}
	box, err := seal.New(siteSecret, "layerindex repository credentials v1")
	if err != nil {
		return nil, err
	}
	return &Sealer{box: box}, nil
}

// Seal encrypts plain; prefix (the credential's URL prefix) is bound to it
// as additional data, so a sealed secret moved to another row does not open.
func (s *Sealer) Seal(plain, prefix string) string { return s.box.Seal(plain, []byte(prefix)) }

// Open decrypts what Seal made for prefix.
func (s *Sealer) Open(sealed, prefix string) (string, error) {
	plain, err := s.box.Open(sealed, []byte(prefix))
	if errors.Is(err, seal.ErrMalformed) {
		return "", errors.New("sealed credential is malformed")
	} else if err != nil {
		return "", fmt.Errorf("cannot open the credential for %s: was the site's secret key changed?", prefix)
	}
	return plain, nil
}
