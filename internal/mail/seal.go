package mail

import (
	"errors"

	"layerindex/internal/seal"
)

// Sealer encrypts message bodies while they wait in the job table: they
// carry single-use links (verification, password reset) that must not be
// readable from a database copy, the same reason the tokens are stored
// hashed. The key is derived from the site's secret key, which every
// process shares.
type Sealer struct{ box *seal.Box }

// NewSealer derives the sealing key from secret.
func NewSealer(secret string) (*Sealer, error) {
	if len(secret) < 16 {
		return nil, errors.New("secret key too short to seal mail")
	}
	box, err := seal.New(secret, "layerindex mail sealing")
	if err != nil {
		return nil, err
	}
	return &Sealer{box: box}, nil
}

// Seal encrypts s.
func (x *Sealer) Seal(s string) string { return x.box.Seal(s, nil) }

// Open decrypts what Seal made.
func (x *Sealer) Open(s string) (string, error) {
	out, err := x.box.Open(s, nil)
	if errors.Is(err, seal.ErrMalformed) {
		return "", errors.New("sealed mail is malformed")
	} else if err != nil {
		return "", errors.New("sealed mail does not open with this secret key (is LAYERINDEX_SECRET_KEY the same on every process?)")
	}
	return out, nil
}
