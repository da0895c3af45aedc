package pyeval

// Expression nodes.
type (
	expr interface{}

	nameExpr struct {
		name string
	}
	constExpr struct {
		v Value
	}
	fstringExpr struct {
		parts []fpart
	}
	fpart struct {
		lit  string
		e    expr // nil for literal parts
		conv byte // 0, 'r', 's', 'a'
		spec string
	}
	listExpr struct {
		elts []expr
	}
	tupleExpr struct {
		elts []expr
	}
	setExpr struct {
		elts []expr
	}
	dictExpr struct {
		keys []expr // nil key: **mapping in vals
		vals []expr
	}
	starExpr struct { // *x inside a list/tuple/call
		x expr
	}
	compExpr struct { // list/set/dict comprehension or generator
		kind    byte // '[', '{' (set), 'd' (dict), '('
		elt     expr
		val     expr // dict value
		clauses []compClause
	}
	compClause struct {
		target expr
		iter   expr
		conds  []expr
	}
	ternaryExpr struct {
		cond, yes, no expr
	}
	boolOpExpr struct {
		and  bool
		vals []expr
	}
	notExpr struct {
		x expr
	}
	unaryExpr struct {
		op string
		x  expr
	}
	binExpr struct {
		op   string
		l, r expr
	}
	compareExpr struct {
		first expr
		ops   []string // "<", "in", "not in", "is", "is not", ...
		rest  []expr
	}
	callExpr struct {
		fn     expr
		args   []expr // may contain *starExpr
		kwargs []kwarg
	}
	kwarg struct {
		name string // "" for **mapping
		v    expr
	}
	attrExpr struct {
		x    expr
		name string
	}
	indexExpr struct {
		x   expr
		idx expr
	}
	sliceExpr struct {
		lo, hi, step expr // any may be nil
	}
	lambdaExpr struct {
		fn *funcDef
	}
)

// Statement nodes.
type (
	stmt interface{}

	exprStmt struct {
		x    expr
		line int
	}
	assignStmt struct {
		targets []expr
		v       expr
		line    int
	}
	augAssignStmt struct {
		target expr
		op     string
		v      expr
		line   int
	}
	ifStmt struct {
		cond expr
		body []stmt
		els  []stmt
		line int
	}
	forStmt struct {
		target expr
		iter   expr
		body   []stmt
		els    []stmt
		line   int
	}
	whileStmt struct {
		cond expr
		body []stmt
		els  []stmt
		line int
	}
	returnStmt struct {
		v    expr
		line int
	}
	raiseStmt struct {
		v    expr
		line int
	}
	tryStmt struct {
		body     []stmt
		handlers []exceptClause
		els      []stmt
		finally  []stmt
		line     int
	}
	exceptClause struct {
		types expr // nil: bare except
		name  string
		body  []stmt
	}
	withStmt struct {
		items []withItem
		body  []stmt
		line  int
	}
	withItem struct {
		ctx    expr
		target expr
	}
	importStmt struct {
		names []importName
		line  int
	}
	importName struct {
		module string // dotted module path
		attr   string // for "from module import attr"
		as     string // bound name
	}
	delStmt struct {
		targets []expr
		line    int
	}
	assertStmt struct {
		cond expr
		line int
	}
	passStmt     struct{}
	breakStmt    struct{}
	continueStmt struct{}
	globalStmt   struct {
		names    []string
		nonlocal bool
	}
	defStmt struct {
		fn   *funcDef
		line int
	}
	classStmt struct {
		name  string
		bases []expr
		body  []stmt
		line  int
	}
	unsupportedStmt struct {
		what string
	}
)

// funcDef is a parsed def or lambda.
type funcDef struct {
	name     string
	params   []param
	vararg   string
	kwarg    string
	body     []stmt
	lambda   expr // for lambdas: the expression
	line     int
	hasYield bool
	// decorators are the dotted names of simple decorators
	// (staticmethod, classmethod, property); others are ignored.
	decorators []string
}

type param struct {
	name   string
	def    expr // nil: required
	kwOnly bool
}
