package pyeval

import "testing"

// TestStrCodePoints checks that str indexes, slices, measures and searches
// by code point, as Python 3 does, not by UTF-8 byte. Each expected value
// is what python3 printed for repr(code).
func TestStrCodePoints(t *testing.T) {
	h := newHost()
	h.funcs["span"] = "def span(p, s):\n    import re\n    return re.search(p, s).span()\n"
	h.funcs["start"] = "def start(p, s):\n    import re\n    return re.search(p, s).start()\n"
	tests := []struct{ code, want string }{
		{`'héllo'[1:]`, `'éllo'`},
		{`'héllo'[-1]`, `'o'`},
		{`'héllo'[1]`, `'é'`},
		{`'héllo'[2]`, `'l'`},
		{`'naïve€x'[-2]`, `'€'`},
		{`len('héllo')`, `5`},
		{`'héllo'.find('l')`, `2`},
		{`'héllo'.index('l')`, `2`},
		{`'héllo'.rfind('l')`, `3`},
		{`'héllo'.rindex('o')`, `4`},
		{`'héllo'.find('l', 3)`, `3`},
		{`'héllo'.find('l', 0, 3)`, `2`},
		{`'héllo'.count('l', 3)`, `1`},
		{`'héllo'[::-1]`, `'olléh'`},
		{`'héllo'[::2]`, `'hlo'`},
		{`'héllo'[1:4]`, `'éll'`},
		{`'€€€'[1:2]`, `'€'`},
		{`'aé'.startswith('é', 1)`, `True`},
		{`'aé'.endswith('a', 0, 1)`, `True`},
		{`'héllo'.partition('l')`, `('hé', 'l', 'lo')`},
		{`'héllo'.split('l', 1)`, `['hé', 'lo']`},
		{`'héllo'.ljust(7, '*')`, `'héllo**'`},
		{`'héllo'.center(9, '*')`, `'**héllo**'`},
		{`'%-7s|' % 'héllo'`, `'héllo  |'`},
		{`'%.2s' % 'héllo'`, `'hé'`},
		{`'{:>7}'.format('héllo')`, `'  héllo'`},
		{`'{:.2}'.format('héllo')`, `'hé'`},
		{`f'{"héllo":*^9}'`, `'**héllo**'`},
		{`'héllo'.zfill(7)`, `'00héllo'`},
		{`'é\tx'.expandtabs(4)`, `'é   x'`},
		{`'héllo'.rjust(7)`, `'  héllo'`},
		{`'héllo'.replace('l', 'L', 1)`, `'héLlo'`},
		{`'héllo'.strip('ho')`, `'éll'`},
		{`'a'.center(4)`, `' a  '`},
		{`'é'.center(4)`, `' é  '`},
		{`'é'.center(4, '*')`, `'*é**'`},
		{`'ab'.center(5, '*')`, `'**ab*'`},
		{`'éa'.center(5, '*')`, `'**éa*'`},
		{`'%5s|' % 'é'`, `'    é|'`},
		{`'%-5.1s|' % 'éa'`, `'é    |'`},
		{`'{:<4}|'.format('é')`, `'é   |'`},
		{`'{:^5}|'.format('é')`, `'  é  |'`},
		{`'{:.1}|'.format('€x')`, `'€|'`},
		{`f'{"€x":.1}'`, `'€'`},
		{`'é'.zfill(3)`, `'00é'`},
		{`'-é'.zfill(4)`, `'-00é'`},
		{`'héllo'.rsplit('l', 1)`, `['hél', 'o']`},
		{`'€€'.find('€', 1)`, `1`},
		{`'a€b€c'.rindex('€', 0, 3)`, `1`},
		{`'a€b€c'.count('€', 2)`, `1`},
		{`'a€b€c'.startswith('b', 2)`, `True`},
		{`'a€b€c'.endswith('€', 0, 4)`, `True`},
		{`'a€b€c'.find('', 5)`, `5`},
		{`'a€b€c'.find('', 6)`, `-1`},
		{`'a€b€c'[5:]`, `''`},
		{`'a€b€c'[-10:2]`, `'a€'`},
		{`'a€b€c'[3:1:-1]`, `'€b'`},
		{`'a€b€c'[::-2]`, `'cba'`},
		{`span('l+', 'héllo')`, `(2, 4)`},
		{`start('l', 'héllo')`, `2`},
		{`span('(x)?€', 'aé€')`, `(2, 3)`},
		{`'abc'.find('', 4)`, `-1`},
		{`'abc'.count('', 4)`, `0`},
		{`'abc'.count('', 3)`, `1`},
		{`'abc'.startswith('', 4)`, `False`},
		{`'abc'.rfind('', 1, 0)`, `-1`},
	}
	for _, tc := range tests {
		got, err := NewInterp(h).EvalInline("repr(" + tc.code + ")")
		if err != nil {
			t.Errorf("%s: error %v", tc.code, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %s, want %s", tc.code, got, tc.want)
		}
	}
	for _, code := range []string{`'é'[1]`, `'aé€'[-4]`, `'aé€'.index('x', 1)`} {
		if _, err := NewInterp(h).EvalInline(code); err == nil {
			t.Errorf("%s: no error, want Python's IndexError or ValueError", code)
		}
	}
}
