package pyeval

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// maxNesting bounds the parser's recursion on nested expressions.
const maxNesting = 200

type pparser struct {
	toks  []token
	pos   int
	depth int
	inDef []*funcDef
}

func (p *pparser) peek() token { return p.toks[p.pos] }
func (p *pparser) next() token {
	t := p.toks[p.pos]
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}

func (p *pparser) isOp(v string) bool {
	t := p.toks[p.pos]
	return t.kind == tOp && t.val == v
}

func (p *pparser) isKw(v string) bool {
	t := p.toks[p.pos]
	return t.kind == tName && t.val == v
}

func (p *pparser) fail(format string, args ...any) {
	panic(&SyntaxError{p.peek().line, fmt.Sprintf(format, args...)})
}

func (p *pparser) expectOp(v string) {
	if !p.isOp(v) {
		p.fail("expected %q, found %v", v, p.peek())
	}
	p.next()
}

func (p *pparser) expectName() string {
	t := p.next()
	if t.kind != tName {
		panic(&SyntaxError{t.line, fmt.Sprintf("expected name, found %v", t)})
	}
	return t.val
}

func (p *pparser) enter() {
	p.depth++
	if p.depth > maxNesting {
		p.fail("expression nested too deeply")
	}
}

func (p *pparser) leave() { p.depth-- }

// parseExpression parses a complete inline expression (the inside of
// ${@...}).
func parseExpression(src string) (e expr, err error) {
	toks, err := tokenize(strings.TrimSpace(src), true)
	if err != nil {
		return nil, err
	}
	p := &pparser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			e, err = nil, se
		}
	}()
	e = p.testList()
	if p.peek().kind != tEOF {
		p.fail("unexpected %v after expression", p.peek())
	}
	return e, nil
}

// parseModule parses a sequence of statements.
func parseModule(src string) (body []stmt, err error) {
	toks, err := tokenize(src, false)
	if err != nil {
		return nil, err
	}
	p := &pparser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			body, err = nil, se
		}
	}()
	for p.peek().kind != tEOF {
		if p.peek().kind == tNewline {
			p.next()
			continue
		}
		if p.peek().kind == tIndent || p.peek().kind == tDedent {
			p.fail("unexpected indentation")
		}
		body = append(body, p.statement()...)
	}
	return body, nil
}

func (p *pparser) block() []stmt {
	if p.peek().kind != tNewline {
		return p.simpleStatements()
	}
	p.next()
	if p.peek().kind != tIndent {
		p.fail("expected an indented block")
	}
	p.next()
	var body []stmt
	for p.peek().kind != tDedent && p.peek().kind != tEOF {
		if p.peek().kind == tNewline {
			p.next()
			continue
		}
		body = append(body, p.statement()...)
	}
	if p.peek().kind == tDedent {
		p.next()
	}
	return body
}

func (p *pparser) statement() []stmt {
	t := p.peek()
	line := t.line
	if t.kind == tOp && t.val == "@" {
		// Decorators: staticmethod/classmethod/property matter inside
		// classes; others (e.g. @bb.parse.vardeps) only add metadata.
		var decos []string
		for p.isOp("@") {
			p.next()
			e := p.expr()
			if n, ok := e.(*nameExpr); ok {
				decos = append(decos, n.name)
			}
			if p.peek().kind != tNewline {
				p.fail("expected newline after decorator")
			}
			p.next()
		}
		st := p.statement()
		if len(st) == 1 {
			if ds, ok := st[0].(*defStmt); ok {
				ds.fn.decorators = decos
			}
		}
		return st
	}
	if t.kind == tName {
		switch t.val {
		case "if":
			return []stmt{p.ifStatement()}
		case "for":
			p.next()
			target := p.targetList()
			if !p.isKw("in") {
				p.fail("expected 'in'")
			}
			p.next()
			iter := p.testList()
			p.expectOp(":")
			body := p.block()
			var els []stmt
			if p.isKw("else") {
				p.next()
				p.expectOp(":")
				els = p.block()
			}
			return []stmt{&forStmt{target: target, iter: iter, body: body, els: els, line: line}}
		case "while":
			p.next()
			cond := p.namedExpr()
			p.expectOp(":")
			body := p.block()
			var els []stmt
			if p.isKw("else") {
				p.next()
				p.expectOp(":")
				els = p.block()
			}
			return []stmt{&whileStmt{cond: cond, body: body, els: els, line: line}}
		case "try":
			return []stmt{p.tryStatement()}
		case "with":
			p.next()
			var items []withItem
			for {
				it := withItem{ctx: p.expr()}
				if p.isKw("as") {
					p.next()
					it.target = p.target()
				}
				items = append(items, it)
				if !p.isOp(",") {
					break
				}
				p.next()
			}
			p.expectOp(":")
			body := p.block()
			return []stmt{&withStmt{items: items, body: body, line: line}}
		case "def":
			p.next()
			fn := p.funcDef(line)
			return []stmt{&defStmt{fn: fn, line: line}}
		case "class":
			p.next()
			cs := &classStmt{name: p.expectName(), line: line}
			if p.isOp("(") {
				p.next()
				for !p.isOp(")") {
					if p.peek().kind == tName && p.toks[p.pos+1].kind == tOp && p.toks[p.pos+1].val == "=" {
						// metaclass=... and friends
						p.next()
						p.next()
						p.expr()
					} else {
						cs.bases = append(cs.bases, p.expr())
					}
					if !p.isOp(",") {
						break
					}
					p.next()
				}
				p.expectOp(")")
			}
			p.expectOp(":")
			cs.body = p.block()
			return []stmt{cs}
		case "async":
			p.fail("async is not supported")
		}
	}
	return p.simpleStatements()
}

func (p *pparser) ifStatement() stmt {
	line := p.next().line // if / elif
	cond := p.namedExpr()
	p.expectOp(":")
	body := p.block()
	st := &ifStmt{cond: cond, body: body, line: line}
	if p.isKw("elif") {
		st.els = []stmt{p.ifStatement()}
	} else if p.isKw("else") {
		p.next()
		p.expectOp(":")
		st.els = p.block()
	}
	return st
}

func (p *pparser) tryStatement() stmt {
	line := p.next().line
	p.expectOp(":")
	st := &tryStmt{body: p.block(), line: line}
	for p.isKw("except") {
		p.next()
		var h exceptClause
		if p.isOp("*") {
			p.next()
		}
		if !p.isOp(":") {
			h.types = p.expr()
			if p.isKw("as") {
				p.next()
				h.name = p.expectName()
			} else if p.isOp(",") {
				p.next()
				h.name = p.expectName()
			}
		}
		p.expectOp(":")
		h.body = p.block()
		st.handlers = append(st.handlers, h)
	}
	if p.isKw("else") {
		p.next()
		p.expectOp(":")
		st.els = p.block()
	}
	if p.isKw("finally") {
		p.next()
		p.expectOp(":")
		st.finally = p.block()
	}
	if st.handlers == nil && st.finally == nil {
		p.fail("try without except or finally")
	}
	return st
}

func (p *pparser) funcDef(line int) *funcDef {
	fn := &funcDef{name: p.expectName(), line: line}
	p.expectOp("(")
	p.params(fn, ")")
	p.expectOp(")")
	if p.isOp("->") {
		p.next()
		p.expr()
	}
	p.expectOp(":")
	p.inDef = append(p.inDef, fn)
	fn.body = p.block()
	p.inDef = p.inDef[:len(p.inDef)-1]
	return fn
}

func (p *pparser) params(fn *funcDef, end string) {
	kwOnly := false
	for !p.isOp(end) {
		switch {
		case p.isOp("**"):
			p.next()
			fn.kwarg = p.expectName()
			p.annotation(end)
		case p.isOp("*"):
			p.next()
			if p.peek().kind == tName {
				fn.vararg = p.expectName()
				p.annotation(end)
			}
			kwOnly = true
		case p.isOp("/"):
			p.next()
		default:
			pr := param{name: p.expectName(), kwOnly: kwOnly}
			p.annotation(end)
			if p.isOp("=") {
				p.next()
				pr.def = p.expr()
			}
			fn.params = append(fn.params, pr)
		}
		if !p.isOp(",") {
			break
		}
		p.next()
	}
}

func (p *pparser) annotation(end string) {
	if end == ")" && p.isOp(":") {
		p.next()
		p.expr()
	}
}

func (p *pparser) simpleStatements() []stmt {
	var out []stmt
	for {
		out = append(out, p.smallStatement())
		if !p.isOp(";") {
			break
		}
		p.next()
		if p.peek().kind == tNewline || p.peek().kind == tEOF {
			break
		}
	}
	switch p.peek().kind {
	case tNewline:
		p.next()
	case tEOF, tDedent:
	default:
		p.fail("unexpected %v at end of statement", p.peek())
	}
	return out
}

func (p *pparser) smallStatement() stmt {
	t := p.peek()
	line := t.line
	if t.kind == tName {
		switch t.val {
		case "pass":
			p.next()
			return &passStmt{}
		case "break":
			p.next()
			return &breakStmt{}
		case "continue":
			p.next()
			return &continueStmt{}
		case "return":
			p.next()
			st := &returnStmt{line: line}
			if !p.atStmtEnd() {
				st.v = p.testListStar()
			}
			return st
		case "raise":
			p.next()
			st := &raiseStmt{line: line}
			if !p.atStmtEnd() {
				st.v = p.expr()
				if p.isKw("from") {
					p.next()
					p.expr()
				}
			}
			return st
		case "global", "nonlocal":
			g := &globalStmt{nonlocal: t.val == "nonlocal"}
			p.next()
			for {
				g.names = append(g.names, p.expectName())
				if !p.isOp(",") {
					break
				}
				p.next()
			}
			return g
		case "import":
			p.next()
			st := &importStmt{line: line}
			for {
				mod := p.dottedName()
				as := strings.SplitN(mod, ".", 2)[0]
				bindWhole := true
				if p.isKw("as") {
					p.next()
					as = p.expectName()
					bindWhole = false
				}
				in := importName{module: mod, as: as}
				if bindWhole {
					in.module = strings.SplitN(mod, ".", 2)[0]
				}
				st.names = append(st.names, in)
				if !p.isOp(",") {
					break
				}
				p.next()
			}
			return st
		case "from":
			p.next()
			mod := ""
			for p.isOp(".") || p.isOp("...") {
				mod += p.next().val
			}
			if p.peek().kind == tName && p.peek().val != "import" {
				mod += p.dottedName()
			}
			if !p.isKw("import") {
				p.fail("expected import")
			}
			p.next()
			st := &importStmt{line: line}
			paren := false
			if p.isOp("(") {
				p.next()
				paren = true
			}
			for {
				if p.isOp("*") {
					p.next()
					st.names = append(st.names, importName{module: mod, attr: "*", as: "*"})
				} else {
					attr := p.expectName()
					as := attr
					if p.isKw("as") {
						p.next()
						as = p.expectName()
					}
					st.names = append(st.names, importName{module: mod, attr: attr, as: as})
				}
				if !p.isOp(",") {
					break
				}
				p.next()
				if paren && p.isOp(")") {
					break
				}
			}
			if paren {
				p.expectOp(")")
			}
			return st
		case "del":
			p.next()
			st := &delStmt{line: line}
			for {
				st.targets = append(st.targets, p.target())
				if !p.isOp(",") {
					break
				}
				p.next()
				if p.atStmtEnd() {
					break
				}
			}
			return st
		case "assert":
			p.next()
			st := &assertStmt{cond: p.expr(), line: line}
			if p.isOp(",") {
				p.next()
				p.expr()
			}
			return st
		case "yield":
			if len(p.inDef) > 0 {
				p.inDef[len(p.inDef)-1].hasYield = true
			}
			p.next()
			var v expr = &constExpr{v: None}
			if p.isKw("from") {
				p.next()
				v = &starExpr{x: p.expr()}
			} else if !p.atStmtEnd() {
				v = p.testListStar()
			}
			return &exprStmt{x: &callExpr{fn: &nameExpr{name: "__yield__"}, args: []expr{v}}, line: line}
		}
	}
	first := p.testListStar()
	if p.peek().kind == tOp {
		switch op := p.peek().val; op {
		case "=":
			targets := []expr{first}
			var v expr
			for p.isOp("=") {
				p.next()
				v = p.testListStar()
				targets = append(targets, v)
			}
			targets = targets[:len(targets)-1]
			return &assignStmt{targets: targets, v: v, line: line}
		case "+=", "-=", "*=", "/=", "//=", "%=", "&=", "|=", "^=", ">>=", "<<=", "**=":
			p.next()
			v := p.testListStar()
			return &augAssignStmt{target: first, op: op[:len(op)-1], v: v, line: line}
		case ":":
			// Annotated assignment: x: int = 3
			p.next()
			p.expr()
			if p.isOp("=") {
				p.next()
				v := p.testListStar()
				return &assignStmt{targets: []expr{first}, v: v, line: line}
			}
			return &passStmt{}
		}
	}
	return &exprStmt{x: first, line: line}
}

func (p *pparser) atStmtEnd() bool {
	t := p.peek()
	return t.kind == tNewline || t.kind == tEOF || t.kind == tDedent || (t.kind == tOp && t.val == ";")
}

func (p *pparser) dottedName() string {
	name := p.expectName()
	for p.isOp(".") {
		p.next()
		name += "." + p.expectName()
	}
	return name
}

// targetList parses the target of a for loop (no 'in' operator).
func (p *pparser) targetList() expr {
	var elts []expr
	trailing := false
	for {
		if p.isOp("*") {
			p.next()
			elts = append(elts, &starExpr{x: p.target()})
		} else {
			elts = append(elts, p.target())
		}
		if !p.isOp(",") {
			trailing = false
			break
		}
		p.next()
		trailing = true
		if p.isKw("in") || p.isOp("=") {
			break
		}
	}
	if len(elts) == 1 && !trailing {
		return elts[0]
	}
	return &tupleExpr{elts: elts}
}

// target parses one assignment target (a primary expression or a
// parenthesised target list).
func (p *pparser) target() expr {
	return p.bitOr()
}

func (p *pparser) testListStar() expr {
	var elts []expr
	trailing := false
	for {
		if p.isOp("*") {
			p.next()
			elts = append(elts, &starExpr{x: p.bitOr()})
		} else {
			elts = append(elts, p.expr())
		}
		if !p.isOp(",") {
			trailing = false
			break
		}
		p.next()
		trailing = true
		if p.atStmtEnd() || p.isOp("=") || p.isOp(")") {
			break
		}
	}
	if len(elts) == 1 && !trailing {
		if _, star := elts[0].(*starExpr); !star {
			return elts[0]
		}
	}
	return &tupleExpr{elts: elts}
}

func (p *pparser) testList() expr {
	return p.testListStar()
}

func (p *pparser) namedExpr() expr {
	e := p.expr()
	if p.isOp(":=") {
		p.next()
		v := p.expr()
		return &callExpr{fn: &nameExpr{name: "__walrus__"}, args: []expr{&constExpr{v: Str(nameOf(e))}, v}}
	}
	return e
}

func nameOf(e expr) string {
	if n, ok := e.(*nameExpr); ok {
		return n.name
	}
	return ""
}

// expr parses a full expression: lambda, or a conditional expression.
func (p *pparser) expr() expr {
	p.enter()
	defer p.leave()
	if p.isKw("lambda") {
		line := p.next().line
		fn := &funcDef{name: "<lambda>", line: line}
		p.params(fn, ":")
		p.expectOp(":")
		fn.lambda = p.expr()
		return &lambdaExpr{fn: fn}
	}
	e := p.orTest()
	if p.isKw("if") {
		p.next()
		cond := p.orTest()
		if !p.isKw("else") {
			p.fail("expected else")
		}
		p.next()
		no := p.expr()
		return &ternaryExpr{cond: cond, yes: e, no: no}
	}
	return e
}

func (p *pparser) exprNoCond() expr {
	if p.isKw("lambda") {
		return p.expr()
	}
	return p.orTest()
}

func (p *pparser) orTest() expr {
	e := p.andTest()
	if !p.isKw("or") {
		return e
	}
	b := &boolOpExpr{vals: []expr{e}}
	for p.isKw("or") {
		p.next()
		b.vals = append(b.vals, p.andTest())
	}
	return b
}

func (p *pparser) andTest() expr {
	e := p.notTest()
	if !p.isKw("and") {
		return e
	}
	b := &boolOpExpr{and: true, vals: []expr{e}}
	for p.isKw("and") {
		p.next()
		b.vals = append(b.vals, p.notTest())
	}
	return b
}

func (p *pparser) notTest() expr {
	if p.isKw("not") {
		p.next()
		p.enter()
		defer p.leave()
		return &notExpr{x: p.notTest()}
	}
	return p.comparison()
}

func (p *pparser) comparison() expr {
	e := p.bitOr()
	var c *compareExpr
	for {
		op := ""
		t := p.peek()
		switch {
		case t.kind == tOp && (t.val == "<" || t.val == ">" || t.val == "==" || t.val == ">=" || t.val == "<=" || t.val == "!="):
			op = t.val
			p.next()
		case t.kind == tName && t.val == "in":
			op = "in"
			p.next()
		case t.kind == tName && t.val == "not" && p.toks[p.pos+1].kind == tName && p.toks[p.pos+1].val == "in":
			op = "not in"
			p.next()
			p.next()
		case t.kind == tName && t.val == "is":
			p.next()
			op = "is"
			if p.isKw("not") {
				p.next()
				op = "is not"
			}
		}
		if op == "" {
			break
		}
		if c == nil {
			c = &compareExpr{first: e}
		}
		c.ops = append(c.ops, op)
		c.rest = append(c.rest, p.bitOr())
	}
	if c != nil {
		return c
	}
	return e
}

func (p *pparser) binLevel(ops []string, sub func() expr) expr {
	e := sub()
	for {
		t := p.peek()
		if t.kind != tOp {
			return e
		}
		found := false
		for _, o := range ops {
			if t.val == o {
				found = true
				break
			}
		}
		if !found {
			return e
		}
		p.next()
		e = &binExpr{op: t.val, l: e, r: sub()}
	}
}

func (p *pparser) bitOr() expr {
	p.enter()
	defer p.leave()
	return p.binLevel([]string{"|"}, p.bitXor)
}
func (p *pparser) bitXor() expr { return p.binLevel([]string{"^"}, p.bitAnd) }
func (p *pparser) bitAnd() expr { return p.binLevel([]string{"&"}, p.shift) }
func (p *pparser) shift() expr  { return p.binLevel([]string{"<<", ">>"}, p.arith) }
func (p *pparser) arith() expr  { return p.binLevel([]string{"+", "-"}, p.term) }
func (p *pparser) term() expr   { return p.binLevel([]string{"*", "/", "//", "%", "@"}, p.factor) }

func (p *pparser) factor() expr {
	if p.isOp("-") || p.isOp("+") || p.isOp("~") {
		op := p.next().val
		p.enter()
		defer p.leave()
		return &unaryExpr{op: op, x: p.factor()}
	}
	return p.power()
}

func (p *pparser) power() expr {
	e := p.primary()
	if p.isOp("**") {
		p.next()
		return &binExpr{op: "**", l: e, r: p.factor()}
	}
	return e
}

func (p *pparser) primary() expr {
	if p.isKw("await") {
		p.fail("await is not supported")
	}
	e := p.atom()
	for {
		switch {
		case p.isOp("("):
			p.next()
			e = p.callArgs(e)
		case p.isOp("["):
			p.next()
			idx := p.subscript()
			p.expectOp("]")
			e = &indexExpr{x: e, idx: idx}
		case p.isOp("."):
			p.next()
			e = &attrExpr{x: e, name: p.expectName()}
		default:
			return e
		}
	}
}

func (p *pparser) callArgs(fn expr) expr {
	c := &callExpr{fn: fn}
	for !p.isOp(")") {
		switch {
		case p.isOp("**"):
			p.next()
			c.kwargs = append(c.kwargs, kwarg{v: p.expr()})
		case p.isOp("*"):
			p.next()
			c.args = append(c.args, &starExpr{x: p.expr()})
		case p.peek().kind == tName && p.toks[p.pos+1].kind == tOp && p.toks[p.pos+1].val == "=":
			name := p.next().val
			p.next()
			c.kwargs = append(c.kwargs, kwarg{name: name, v: p.expr()})
		default:
			a := p.namedExpr()
			if p.isKw("for") || p.isKw("async") {
				a = p.comprehension('(', a, nil)
			}
			c.args = append(c.args, a)
		}
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	p.expectOp(")")
	return c
}

func (p *pparser) subscript() expr {
	var elts []expr
	trailing := false
	for {
		elts = append(elts, p.sliceItem())
		if !p.isOp(",") {
			trailing = false
			break
		}
		p.next()
		trailing = true
		if p.isOp("]") {
			break
		}
	}
	if len(elts) == 1 && !trailing {
		return elts[0]
	}
	return &tupleExpr{elts: elts}
}

func (p *pparser) sliceItem() expr {
	var lo, hi, step expr
	if !p.isOp(":") {
		lo = p.expr()
		if !p.isOp(":") {
			return lo
		}
	}
	p.next() // first ':'
	if !p.isOp(":") && !p.isOp("]") && !p.isOp(",") {
		hi = p.expr()
	}
	if p.isOp(":") {
		p.next()
		if !p.isOp("]") && !p.isOp(",") {
			step = p.expr()
		}
	}
	return &sliceExpr{lo: lo, hi: hi, step: step}
}

func (p *pparser) atom() expr {
	t := p.peek()
	switch t.kind {
	case tName:
		switch t.val {
		case "None":
			p.next()
			return &constExpr{v: None}
		case "True":
			p.next()
			return &constExpr{v: True}
		case "False":
			p.next()
			return &constExpr{v: False}
		case "if", "else", "for", "in", "and", "or", "not", "is", "lambda", "def", "return", "import", "from",
			"while", "with", "class", "try", "except", "finally", "raise", "del", "pass", "break", "continue",
			"global", "nonlocal", "assert", "elif", "yield", "as":
			p.fail("unexpected keyword %q", t.val)
		}
		p.next()
		return &nameExpr{name: t.val}
	case tNumber:
		p.next()
		return &constExpr{v: parseNumber(p, t.val)}
	case tString:
		return p.strings()
	case tOp:
		switch t.val {
		case "(":
			p.next()
			if p.isOp(")") {
				p.next()
				return &tupleExpr{}
			}
			if p.isKw("yield") {
				p.fail("yield expressions are not supported")
			}
			var first expr
			if p.isOp("*") {
				p.next()
				first = &starExpr{x: p.bitOr()}
			} else {
				first = p.namedExpr()
			}
			if p.isKw("for") || p.isKw("async") {
				e := p.comprehension('(', first, nil)
				p.expectOp(")")
				return e
			}
			if p.isOp(")") {
				p.next()
				if _, star := first.(*starExpr); star {
					return &tupleExpr{elts: []expr{first}}
				}
				return first
			}
			elts := []expr{first}
			for p.isOp(",") {
				p.next()
				if p.isOp(")") {
					break
				}
				if p.isOp("*") {
					p.next()
					elts = append(elts, &starExpr{x: p.bitOr()})
				} else {
					elts = append(elts, p.expr())
				}
			}
			p.expectOp(")")
			return &tupleExpr{elts: elts}
		case "[":
			p.next()
			if p.isOp("]") {
				p.next()
				return &listExpr{}
			}
			first := p.listItem()
			if p.isKw("for") || p.isKw("async") {
				e := p.comprehension('[', first, nil)
				p.expectOp("]")
				return e
			}
			elts := []expr{first}
			for p.isOp(",") {
				p.next()
				if p.isOp("]") {
					break
				}
				elts = append(elts, p.listItem())
			}
			p.expectOp("]")
			return &listExpr{elts: elts}
		case "{":
			p.next()
			if p.isOp("}") {
				p.next()
				return &dictExpr{}
			}
			if p.isOp("**") {
				p.next()
				d := &dictExpr{keys: []expr{nil}, vals: []expr{p.bitOr()}}
				return p.dictRest(d)
			}
			first := p.listItem()
			if p.isOp(":") {
				p.next()
				v := p.expr()
				if p.isKw("for") || p.isKw("async") {
					e := p.comprehension('d', first, v)
					p.expectOp("}")
					return e
				}
				d := &dictExpr{keys: []expr{first}, vals: []expr{v}}
				return p.dictRest(d)
			}
			if p.isKw("for") || p.isKw("async") {
				e := p.comprehension('{', first, nil)
				p.expectOp("}")
				return e
			}
			elts := []expr{first}
			for p.isOp(",") {
				p.next()
				if p.isOp("}") {
					break
				}
				elts = append(elts, p.listItem())
			}
			p.expectOp("}")
			return &setExpr{elts: elts}
		case "...":
			p.next()
			return &constExpr{v: None}
		}
	}
	p.fail("unexpected %v", t)
	return nil
}

func (p *pparser) listItem() expr {
	if p.isOp("*") {
		p.next()
		return &starExpr{x: p.bitOr()}
	}
	return p.namedExpr()
}

func (p *pparser) dictRest(d *dictExpr) expr {
	for p.isOp(",") {
		p.next()
		if p.isOp("}") {
			break
		}
		if p.isOp("**") {
			p.next()
			d.keys = append(d.keys, nil)
			d.vals = append(d.vals, p.bitOr())
			continue
		}
		k := p.expr()
		p.expectOp(":")
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, p.expr())
	}
	p.expectOp("}")
	return d
}

func (p *pparser) comprehension(kind byte, elt, val expr) expr {
	c := &compExpr{kind: kind, elt: elt, val: val}
	for p.isKw("for") || p.isKw("async") {
		if p.isKw("async") {
			p.fail("async comprehension is not supported")
		}
		p.next()
		cl := compClause{target: p.targetList()}
		if !p.isKw("in") {
			p.fail("expected 'in'")
		}
		p.next()
		cl.iter = p.orTest()
		for p.isKw("if") {
			p.next()
			cl.conds = append(cl.conds, p.exprNoCond())
		}
		c.clauses = append(c.clauses, cl)
	}
	return c
}

func (p *pparser) strings() expr {
	var parts []fpart
	isF := false
	var lit strings.Builder
	for p.peek().kind == tString {
		t := p.next()
		if t.fstr {
			isF = true
			if lit.Len() > 0 {
				parts = append(parts, fpart{lit: lit.String()})
				lit.Reset()
			}
			parts = append(parts, p.fstring(t)...)
		} else {
			lit.WriteString(t.val)
		}
	}
	if !isF {
		return &constExpr{v: Str(lit.String())}
	}
	if lit.Len() > 0 {
		parts = append(parts, fpart{lit: lit.String()})
	}
	return &fstringExpr{parts: parts}
}

// fstring splits an f-string's (already unescaped) text into literal and
// expression parts.
func (p *pparser) fstring(t token) []fpart {
	s := t.val
	var parts []fpart
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '{' {
			if i+1 < len(s) && s[i+1] == '{' {
				lit.WriteByte('{')
				i++
				continue
			}
			// Find the matching close brace, respecting nesting and quotes.
			depth := 0
			j := i + 1
			var quote byte
			for ; j < len(s); j++ {
				ch := s[j]
				if quote != 0 {
					if ch == quote {
						quote = 0
					}
					continue
				}
				if ch == '\'' || ch == '"' {
					quote = ch
				} else if ch == '{' || ch == '[' || ch == '(' {
					depth++
				} else if ch == ')' || ch == ']' {
					depth--
				} else if ch == '}' {
					if depth == 0 {
						break
					}
					depth--
				}
			}
			if j >= len(s) {
				panic(&SyntaxError{t.line, "f-string: expecting '}'"})
			}
			inner := s[i+1 : j]
			fp := fpart{}
			// Split off format spec and conversion at top level.
			specAt, convAt := -1, -1
			d := 0
			var q byte
			for k := 0; k < len(inner); k++ {
				ch := inner[k]
				if q != 0 {
					if ch == q {
						q = 0
					}
					continue
				}
				switch ch {
				case '\'', '"':
					q = ch
				case '(', '[', '{':
					d++
				case ')', ']', '}':
					d--
				case '!':
					if d == 0 && k+1 < len(inner) && inner[k+1] != '=' && convAt < 0 {
						convAt = k
					}
				case ':':
					if d == 0 && specAt < 0 {
						specAt = k
					}
				}
				if specAt >= 0 {
					break
				}
			}
			exprText := inner
			if specAt >= 0 {
				fp.spec = inner[specAt+1:]
				exprText = inner[:specAt]
			}
			if convAt >= 0 && (specAt < 0 || convAt < specAt) {
				if convAt+1 >= len(exprText) {
					panic(&SyntaxError{t.line, "f-string: missing conversion character"})
				}
				fp.conv = exprText[convAt+1]
				exprText = exprText[:convAt]
			}
			exprText = strings.TrimSuffix(strings.TrimSpace(exprText), "=")
			e, err := parseExpression(exprText)
			if err != nil {
				panic(&SyntaxError{t.line, "f-string: " + err.Error()})
			}
			fp.e = e
			if lit.Len() > 0 {
				parts = append(parts, fpart{lit: lit.String()})
				lit.Reset()
			}
			parts = append(parts, fp)
			i = j
			continue
		}
		if c == '}' && i+1 < len(s) && s[i+1] == '}' {
			i++
		}
		lit.WriteByte(c)
	}
	if lit.Len() > 0 {
		parts = append(parts, fpart{lit: lit.String()})
	}
	return parts
}

func parseNumber(p *pparser, s string) Value {
	t := strings.ReplaceAll(strings.ToLower(s), "_", "")
	if strings.HasSuffix(t, "j") {
		p.fail("complex numbers are not supported")
	}
	base := 10
	digits := t
	switch {
	case strings.HasPrefix(t, "0x"):
		base, digits = 16, t[2:]
	case strings.HasPrefix(t, "0o"):
		base, digits = 8, t[2:]
	case strings.HasPrefix(t, "0b"):
		base, digits = 2, t[2:]
	}
	if base == 10 && strings.ContainsAny(t, ".e") {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			p.fail("bad number %q", s)
		}
		return Float(f)
	}
	if n, err := strconv.ParseInt(digits, base, 64); err == nil {
		return Int(n)
	}
	if _, ok := new(big.Int).SetString(digits, base); ok {
		p.fail("integer %q is too large", s)
	}
	p.fail("bad number %q", s)
	return nil
}
