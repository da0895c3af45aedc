package pyeval

import "unicode/utf8"

// Python's str is indexed by code point, Go's string by byte. These
// helpers convert between the two for indexing, slicing and the offsets
// of the search methods; an ASCII string, by far the most common in
// metadata, keeps the byte path.

// isASCII reports whether s has only single-byte code points, whose byte
// offsets are their code point offsets.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// strLen is len(s) in Python: its number of code points.
func strLen(s string) int {
	if isASCII(s) {
		return len(s)
	}
	return utf8.RuneCountInString(s)
}

// byteOffset returns the byte offset of code point i of s, for 0 <= i <=
// strLen(s) (strLen(s) gives len(s)).
func byteOffset(s string, i int) int {
	for b := range s {
		if i == 0 {
			return b
		}
		i--
	}
	return len(s)
}

// codePointOffset converts the byte offset b of s to a code point offset;
// a negative b (a group that did not take part in a match) stays as it is.
func codePointOffset(s string, b int) int {
	if b < 0 || isASCII(s[:b]) {
		return b
	}
	return utf8.RuneCountInString(s[:b])
}

// truncate returns the first n code points of s (all of s if it has no
// more), as Python's precision in "%.Ns" and "{:.N}" does.
func truncate(s string, n int) string {
	if n < 0 || n >= len(s) {
		return s
	}
	return s[:byteOffset(s, n)]
}
