package pyeval

import (
	"runtime"
	"testing"
)

// allocBudget is what one hostile expression may allocate in total: the
// interpreter must refuse before it builds a value beyond its limits, so
// even the largest refused value costs a few megabytes at most.
const allocBudget = 24 << 20

// allocated runs f and returns the bytes it allocated on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// memoryBombs are expressions that ask for a huge value in one
// operation. Each must end in an evaluation error (the value is not
// evaluated and the recipe is uncertain), never in the allocation.
var memoryBombs = []string{
	`'%09999999999d' % 1`,
	`'%0999999999d' % 1`,
	`'%-999999999s' % 'x'`,
	`'%999999999s' % 'x'`,
	`'%099999999999999999999999d' % 1`,
	`'%.999999999f' % 1.0`,
	`'%.999999999e' % 1.0`,
	`'%0999999999x' % 255`,
	`'%(a)0999999999d' % {'a': 1}`,
	`'{:>1000000000}'.format(1)`,
	`'{:<1000000000}'.format('x')`,
	`'{:^1000000000}'.format('x')`,
	`'{:0999999999}'.format(1)`,
	`'{0:x^999999999}'.format('a')`,
	`'{:.1000000000f}'.format(1.0)`,
	`'{:99999999999999999999999}'.format(1)`,
	`'{:>3000000}'.format(1) * 2`,
	`format(1, '>1000000000')`,
	`format(1.5, '.999999999f')`,
	`f'{1:>1000000000}'`,
	`f'{1.0:.999999999f}'`,
	`f'{"x":\U0001F600<3000000}'`,
	`'x' * 10**9`,
	`'xy' * 3000000`,
	`10**9 * 'x'`,
	`['x'] * 10**9`,
	`[1, 2, 3] * 1000000`,
	`('x',) * 10**9`,
	`b'x' * 10**9`,
	`','.join(['x' * 4000000] * 100)`,
	`('x' * 3000000).replace('x', 'yy')`,
	`('x' * 1000).replace('', 'y' * 100000)`,
	`'x'.ljust(4000000, '\U0001F600')`,
	`'x'.rjust(10**9)`,
	`'x'.center(10**12)`,
	`'1'.zfill(10**9)`,
	`'1'.zfill(4000000) + '1'.zfill(4000000)`,
	`('\t' * 1000000).expandtabs()`,
	`('\t' * 1000).expandtabs(10**9)`,
	`bytes(10**9)`,
	`bytearray(10**9)`,
	`list(range(10**9))`,
	`[i for i in range(10**9)]`,
	`str(list(range(400000)))`,
	`repr(['x' * 1000000] * 8)`,
	`' '.join(str(i) for i in range(10**8))`,
	`sorted(range(10**9))`,
	`dict.fromkeys(range(10**9))`,
	`set(range(10**9))`,
	`tuple(range(10**9))`,
	`list(zip(range(10**9), range(10**9)))`,
	`list(enumerate(range(10**9)))`,
	`'%s' % ('x' * 3000000) * 2`,
	`'x' * 3000000 + 'y' * 3000000`,
	`chr(65) * 10**10`,
	`'a b'.split() * 10**9`,
	`'{}{}'.format('x' * 3000000, 'y' * 3000000)`,
	`'%s%s' % ('x' * 3000000, 'y' * 3000000)`,
	`f'{"x" * 3000000}{"y" * 3000000}'`,
	`('x' * 3000000).upper() + ('y' * 3000000).lower()`,
	`('a ' * 2000000).split()`,
	`('a,' * 2000000).split(',')`,
	`('a\n' * 2000000).splitlines()`,
	`list('x' * 4000000)`,
	`[c for c in 'x' * 4000000]`,
	`set('x' * 4000000)`,
	`tuple('x' * 4000000)`,
	`sorted('xy' * 2000000)`,
	`list(enumerate('x' * 4000000))`,
	`' '.join('x' * 4000000)`,
	`'%s' % [' ' * 3000000, 'x' * 3000000]`,
	`str({'a': 'x' * 3000000, 'b': 'y' * 3000000})`,
}

func TestMemoryBombsRefusedBeforeAllocating(t *testing.T) {
	for _, code := range memoryBombs {
		t.Run(code, func(t *testing.T) {
			in := NewInterp(newHost())
			var v string
			var err error
			n := allocated(func() { v, err = in.EvalInline(code) })
			if err == nil {
				t.Errorf("evaluated to %d bytes, want an evaluation error", len(v))
			}
			if n > allocBudget {
				t.Errorf("allocated %d MB (error %v), want at most %d MB", n>>20, err, allocBudget>>20)
			}
		})
	}
}

// TestIntegerOverflowIsNotAValue checks that integer results beyond 64
// bits are not wrapped around into wrong values: the expression is not
// evaluated instead.
func TestIntegerOverflowIsNotAValue(t *testing.T) {
	overflows := []string{
		`10**10**10`,
		`9**9**9`,
		`2**63`,
		`-(2**63) - 1`,
		`9223372036854775807 + 1`,
		`-9223372036854775807 - 2`,
		`4611686018427387904 * 2`,
		`-9223372036854775807 * 3`,
		`(-9223372036854775807 - 1) * -1`,
		`(-9223372036854775807 - 1) // -1`,
		`-(-9223372036854775807 - 1)`,
		`abs(-9223372036854775807 - 1)`,
		`1 << 63`,
		`1 << 64`,
		`3 << 62`,
		`-1 << 100`,
		`int('9' * 30)`,
		`int('-99999999999999999999')`,
		`int('ffffffffffffffffff', 16)`,
		`int(1e19)`,
		`int(-1e300)`,
		`round(1e300)`,
		`'%d' % 1e300`,
		`sum([9223372036854775807, 1])`,
		`10.0 ** 400`,
		`str(2**64)`,
		`'%s' % (2**64)`,
		`(2**64) > 5`,
		`str(int('1' * 100) // 10)`,
	}
	for _, code := range overflows {
		in := NewInterp(newHost())
		v, err := in.EvalInline(code)
		if err == nil {
			t.Errorf("%s = %q, want it not evaluated", code, v)
		}
	}
	exact := map[string]string{
		`2**62`: "4611686018427387904",
		`2**63 - 1 if False else 2**62 * 2 - 1 + 2**62 * 0`: "", // overflow in the taken branch
		`(2**62 - 1) * 2 + 1`:                               "9223372036854775807",
		`-9223372036854775807 - 1`:                          "-9223372036854775808",
		`(-9223372036854775807 - 1) // 1`:                   "-9223372036854775808",
		`(-9223372036854775807 - 1) % -1`:                   "0",
		`-3 ** 3`:                                           "-27",
		`(-2) ** 63`:                                        "-9223372036854775808",
		`7 // -2`:                                           "-4",
		`1 << 62`:                                           "4611686018427387904",
		`-1 << 63`:                                          "-9223372036854775808",
		`int('9223372036854775807')`:                        "9223372036854775807",
		`int(-9.99)`:                                        "-9",
		`round(2.5)`:                                        "2",
		`round(-3.5)`:                                       "-4",
		`2 ** -1`:                                           "0.5",
		`len(range(-9223372036854775807 - 1, 9223372036854775807, 2**61))`: "8",
		`list(range(10, 0, -3))`: "[10, 7, 4, 1]",
	}
	for code, want := range exact {
		in := NewInterp(newHost())
		v, err := in.EvalInline(code)
		if want == "" {
			if err == nil {
				t.Errorf("%s = %q, want it not evaluated", code, v)
			}
			continue
		}
		if err != nil || v != want {
			t.Errorf("%s = %q, %v; want %q", code, v, err, want)
		}
	}
}

// TestSizeChecksCountExactly checks that the checks made before building
// a value count what will be built, not a pessimistic bound: large but
// legitimate values still evaluate.
func TestSizeChecksCountExactly(t *testing.T) {
	cases := map[string]string{
		`len((' ' * 3000000 + 'a b').split())`:            "2",
		`len(('x' * 3000000 + ',y').split(','))`:          "2",
		`len(('a' * 3000000 + '\r\nb\r\n').splitlines())`: "2",
		`len('%s' % ('x' * 3000000))`:                     "3000000",
		`len('{:>3000000}'.format('x'))`:                  "3000000",
		`len('x'.ljust(1000000, '\u20ac'))`:               "1000000",
		`len(('\t' * 100000).expandtabs(4))`:              "400000",
		`('a\tbc\td\n\tx').expandtabs(4)`:                 "a   bc  d\n    x",
		`len(('ab' * 1000000).replace('a', 'xy'))`:        "3000000",
		`len('x' * 4000000)`:                              "4000000",
		`len(list(range(200000)))`:                        "200000",
		`len([0] * 200000)`:                               "200000",
	}
	for code, want := range cases {
		in := NewInterp(newHost())
		v, err := in.EvalInline(code)
		if err != nil || v != want {
			t.Errorf("%s = %q, %v; want %q", code, v, err, want)
		}
	}
}
