// Package repocreds keeps the credentials of private repositories: per URL
// prefix, an https token or user name and password, set by an administrator,
// sealed in the database with a key derived from the site's secret, and
// handed only to the worker's git fetches (gitrepo.Cache.Credentials). They
// are never shown again, never part of a URL, and never written to a log.
package repocreds

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Sealer encrypts secrets with AES-256-GCM under a key derived (HKDF-SHA256)
// from the site's secret key, so a copy of the database alone reveals no
// credential. The same secret key must be set on every process.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the key from the site's secret.
func NewSealer(siteSecret string) (*Sealer, error) {
	if len(siteSecret) < 32 {
		return nil, errors.New("the site's secret key is too short to seal credentials")
	}
	key, err := hkdf.Key(sha256.New, []byte(siteSecret), nil, "layerindex repository credentials v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain; prefix (the credential's URL prefix) is bound to it
// as additional data, so a sealed secret moved to another row does not open.
func (s *Sealer) Seal(plain, prefix string) string {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(plain), []byte(prefix)))
}

// Open decrypts what Seal made for prefix.
func (s *Sealer) Open(sealed, prefix string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("sealed credential is malformed")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(prefix))
	if err != nil {
		return "", fmt.Errorf("cannot open the credential for %s: was the site's secret key changed?", prefix)
	}
	return string(plain), nil
}
