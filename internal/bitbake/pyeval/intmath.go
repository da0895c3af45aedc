package pyeval

import "math"

// Python integers are unbounded; this evaluator's Int is 64 bits. An
// operation whose exact result does not fit is not wrapped around (that
// would be a wrong value): it yields an Unknown, so that whatever depends
// on it is reported as not evaluated and the recipe as uncertain.

// intOverflow is the Unknown an integer operation beyond 64 bits yields.
func intOverflow(op string) *Unknown {
	return unknownf("integer result of %s beyond 64 bits", op)
}

func addInt(a, b int64) (int64, bool) {
	s := a + b
	return s, (s > a) == (b > 0)
}

func subInt(a, b int64) (int64, bool) {
	s := a - b
	return s, (s < a) == (b > 0)
}

func mulInt(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) || p/b != a {
		return 0, false
	}
	return p, true
}

// powInt is a**b for b >= 0 by squaring, failing on the first overflow:
// 10**10**10 stops after a few multiplications.
func powInt(a, b int64) (int64, bool) {
	res := int64(1)
	for b > 0 {
		if b&1 == 1 {
			var ok bool
			if res, ok = mulInt(res, a); !ok {
				return 0, false
			}
		}
		b >>= 1
		if b > 0 {
			var ok bool
			if a, ok = mulInt(a, a); !ok {
				return 0, false
			}
		}
	}
	return res, true
}

// shlInt is a<<b for b >= 0.
func shlInt(a, b int64) (int64, bool) {
	if a == 0 {
		return 0, true
	}
	if b > 63 {
		return 0, false
	}
	r := a << uint(b)
	return r, r>>uint(b) == a
}

// floatToInt converts a finite float to the integer Python's int() gives
// (truncation), failing beyond 64 bits.
func floatToInt(f float64) (int64, bool) {
	t := math.Trunc(f)
	if math.IsNaN(t) || t < -(1<<63) || t >= 1<<63 {
		return 0, false
	}
	return int64(t), true
}

// negInt is -a.
func negInt(a int64) (int64, bool) {
	return -a, a != math.MinInt64
}
