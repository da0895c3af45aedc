package main

import (
	"context"
	"errors"
	"io"
)

// runParse implements `layerindex parse [--with DEPLAYERDIR]... LAYERDIR`.
func runParse(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not implemented yet")
}
