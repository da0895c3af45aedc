package bulkchange

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// FileEdit is one file of a layer's repository before and after.
type FileEdit struct {
	Path     string // relative to the repository root
	Old, New string
}

// Author signs a patch.
type Author struct{ Name, Email string }

// FormatPatch writes edits as one git format-patch style mail (From line,
// From:, Date:, Subject:, body, "---", unified diffs with index lines), so
// `git am` applies it and records the author and message.
func FormatPatch(base string, a Author, date time.Time, subject, body string, edits []FileEdit) (string, error) {
	var b strings.Builder
	if base == "" {
		base = strings.Repeat("0", 40)
	}
	name := a.Name
	if name == "" {
		name, _, _ = strings.Cut(a.Email, "@")
	}
	fmt.Fprintf(&b, "From %s Mon Sep 17 00:00:00 2001\nFrom: %s <%s>\nDate: %s\nSubject: [PATCH] %s\n\n",
		base, oneLine(name), oneLine(a.Email), date.UTC().Format(time.RFC1123Z), oneLine(subject))
	if body != "" {
		b.WriteString(strings.TrimRight(body, "\n") + "\n")
	}
	b.WriteString("---\n")
	adds, dels := 0, 0
	for _, e := range edits {
		a, d := countLines(e.Old, e.New)
		adds, dels = adds+a, dels+d
		fmt.Fprintf(&b, " %s | %d %s%s\n", e.Path, a+d, strings.Repeat("+", a), strings.Repeat("-", d))
	}
	fmt.Fprintf(&b, " %d file%s changed, %d insertion%s(+), %d deletion%s(-)\n\n", len(edits), s(len(edits)), adds, s(adds), dels, s(dels))
	var fps []fdiff.FilePatch
	for _, e := range edits {
		fps = append(fps, filePatch(e))
	}
	if err := fdiff.NewUnifiedEncoder(&b, fdiff.DefaultContextLines).Encode(patch{fps}); err != nil {
		return "", err
	}
	b.WriteString("-- \nlayerindex bulk change\n\n")
	return b.String(), nil
}

func s(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func oneLine(v string) string { return strings.Join(strings.Fields(v), " ") }

func countLines(old, new string) (adds, dels int) {
	for _, d := range diff.Do(old, new) {
		n := strings.Count(d.Text, "\n")
		if !strings.HasSuffix(d.Text, "\n") && d.Text != "" {
			n++
		}
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			adds += n
		case diffmatchpatch.DiffDelete:
			dels += n
		}
	}
	return adds, dels
}

// The go-git diff encoder's interfaces, for in-memory edits.
type patch struct{ fps []fdiff.FilePatch }

func (p patch) FilePatches() []fdiff.FilePatch { return p.fps }
func (p patch) Message() string                { return "" }

type file struct {
	path string
	hash plumbing.Hash
}

func (f file) Hash() plumbing.Hash     { return f.hash }
func (f file) Mode() filemode.FileMode { return filemode.Regular }
func (f file) Path() string            { return f.path }

type chunk struct {
	text string
	op   fdiff.Operation
}

func (c chunk) Content() string       { return c.text }
func (c chunk) Type() fdiff.Operation { return c.op }

type filePatchT struct {
	from, to file
	chunks   []fdiff.Chunk
}

func (p filePatchT) IsBinary() bool                  { return false }
func (p filePatchT) Files() (fdiff.File, fdiff.File) { return p.from, p.to }
func (p filePatchT) Chunks() []fdiff.Chunk           { return p.chunks }

func filePatch(e FileEdit) fdiff.FilePatch {
	fp := filePatchT{
		from: file{e.Path, plumbing.ComputeHash(plumbing.BlobObject, []byte(e.Old))},
		to:   file{e.Path, plumbing.ComputeHash(plumbing.BlobObject, []byte(e.New))},
	}
	for _, d := range diff.Do(e.Old, e.New) {
		op := fdiff.Equal
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			op = fdiff.Add
		case diffmatchpatch.DiffDelete:
			op = fdiff.Delete
		}
		fp.chunks = append(fp.chunks, chunk{d.Text, op})
	}
	return fp
}
