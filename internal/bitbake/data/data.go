// Package data is a re-implementation of BitBake's datastore
// (lib/bb/data_smart.py): lazily expanded variables with flags, weak
// defaults, :append/:prepend/:remove with override qualifiers, override
// selection driven by OVERRIDES (rightmost wins, multi-part overrides),
// ${VAR} expansion that leaves unknown variables literal, and ${@...}
// inline Python handed to a pluggable evaluator.
//
// Stores are layered copy-on-write: Child returns a cheap store whose
// reads fall through to its parent and whose writes stay local, so the
// configuration is parsed once and every recipe gets its own child. A
// store with children must no longer be written (Freeze enforces this).
package data

import (
	"strings"
	"sync"
)

// Op is one :append, :prepend or :remove entry.
type Op struct {
	Value    string
	Override string // "" or the override qualifier(s), e.g. "class-target" or "a:b"
}

// Var is one variable's state (BitBake's per-variable dict).
type Var struct {
	Value    string
	HasValue bool
	// Obj is a non-string value set from Python (d.setVar with an
	// object); Value is then its string form.
	Obj        any
	Default    string // ??= (flag _defaultval)
	HasDefault bool
	Appends    []Op
	Prepends   []Op
	Removes    []Op
	flags      map[string]string
	sharedFlag bool // flags map is shared with a parent store
}

func (v *Var) empty() bool {
	return !v.HasValue && !v.HasDefault && len(v.Appends) == 0 && len(v.Prepends) == 0 && len(v.Removes) == 0 && len(v.flags) == 0
}

// ovRef is an entry of overridedata: a full variable name and the
// override part that selects it.
type ovRef struct {
	full     string
	override string
}

// InlineFunc evaluates the code of a ${@...} expression against s.
type InlineFunc func(code string, s *Store) (string, error)

// Limits bound expansion.
type Limits struct {
	Depth    int // nested variable expansions
	MaxBytes int // length of one expanded value
	Rounds   int // expansion passes over one value
	// Work bounds the bytes produced by all expansions of a store and
	// its short-lived copies (a child store starts afresh).
	Work int
}

// DefaultLimits are far above what real metadata needs.
var DefaultLimits = Limits{Depth: 120, MaxBytes: 2 << 20, Rounds: 50, Work: 256 << 20}

// Stats counts inline Python evaluations of a store and its copies.
type Stats struct {
	InlineOK     int
	InlineFailed int
	Failed       []string // distinct failed expressions, first ones only
	seen         map[string]bool
	Errors       []string // expansion errors (self references, limits)
}

func (st *Stats) fail(code string, err error) {
	st.InlineFailed++
	if st.seen == nil {
		st.seen = map[string]bool{}
	}
	key := code
	if len(key) > 200 {
		key = key[:200]
	}
	if !st.seen[key] && len(st.Failed) < 40 {
		st.seen[key] = true
		st.Failed = append(st.Failed, key+" -> "+err.Error())
	}
}

func (st *Stats) errorf(msg string) {
	if len(st.Errors) < 20 {
		st.Errors = append(st.Errors, msg)
	}
}

// Store is a datastore layer.
type Store struct {
	parent *Store
	frozen bool

	vars   map[string]*Var
	ovr    map[string][]ovRef // overridedata; a nil slice stored under a key hides the parent's
	ovrOwn map[string]bool    // ovr lists this store may modify in place
	// ovrIdx indexes long owned ovr lists (position of each entry; a nil
	// map when the list holds duplicates), and ovrDead counts their
	// removed entries: a removal leaves a tombstone (an ovRef with an
	// empty full name, which readers skip) instead of shifting the list,
	// so renaming the hundreds of RECIPE_MAINTAINER:pn-${...} or
	// FILES:${PN}-... variants of a recipe is not quadratic.
	ovrIdx  map[string]*ovIdx
	ovrDead map[string]int
	// frozenIdx caches, in a frozen store, the index of its long ovr
	// lists (short name -> frozenIndex): every recipe copies the
	// configuration's 900-entry RECIPE_MAINTAINER list to rename a few
	// of its variants, and starts from this index instead of building
	// its own.
	frozenIdx sync.Map
	// flat is, for a frozen store whose ancestors are frozen too, the
	// merged view of their variables and override lists (built once):
	// every lookup of a recipe's store that misses its own variables
	// then costs one map access instead of one per configuration layer.
	flatOnce sync.Once
	flat     *flatView
	// dollarKeys lists the names in vars that contain "${" (for
	// ExpandKeys), in creation order.
	dollarKeys []string
	defs       map[string]string // python def sources by name
	filters    map[string]string // variable filters (expressions), copied on write
	ownFilt    bool

	// Override state (need_overrides).
	overrides  []string
	ovSet      map[string]bool
	ovValid    bool
	inOverride bool
	ovDeps     map[string]bool // base names read while computing OVERRIDES
	tracking   map[string]bool

	// gen counts writes that can change a variable's value and fgen
	// writes of flags: a cached expansion stays valid while gen is
	// unchanged and, if it read a flag (flagDep), while fgen is too, so
	// that d.setVarFlag in anonymous Python does not throw away every
	// expansion. flagReads counts flag reads (transitively, including
	// cache hits of expansions that read flags) to compute flagDep.
	gen       uint64
	fgen      uint64
	flagReads uint64
	cache     map[string]cacheEntry

	// exp is the expansion state shared by a store and its short-lived
	// copies, so that recursion through d.createCopy() is bounded too.
	exp *expState

	// sep is the override separator: ':' (BitBake >= 1.52) or '_' with
	// old syntax, where ':' in names is also rewritten to '_' (1.46-1.50).
	sep byte
	old bool

	work *int // expansion bytes left, shared with copies
	// expanding variables are reached through exp.

	Inline InlineFunc
	Limits Limits
	Stats  *Stats
	// Filter applies a variable filter expression to a value; nil means
	// filters are ignored.
	Filter func(expr, value string, s *Store) (string, error)
	// Skipped and SkipReason are set when inline code raised SkipRecipe.
	Skipped    bool
	SkipReason string
	// Host carries the caller's per-recipe context (e.g. the inherit
	// cache) for the inline evaluator; the datastore does not use it.
	Host any
}

type cacheEntry struct {
	gen, fgen uint64
	flagDep   bool // the expansion read a flag
	value     string
	ok        bool
	removes   []string
}

// cached returns a valid cache entry for key.
func (s *Store) cached(key string) (cacheEntry, bool) {
	e, hit := s.cache[key]
	if !hit || e.gen != s.gen || e.flagDep && e.fgen != s.fgen {
		return e, false
	}
	if e.flagDep {
		s.flagReads++
	}
	return e, true
}

// New returns an empty root store.
func New() *Store {
	work := DefaultLimits.Work
	return &Store{vars: map[string]*Var{}, ovr: map[string][]ovRef{}, defs: map[string]string{}, Limits: DefaultLimits, Stats: &Stats{}, sep: ':', work: &work}
}

// NewOld returns an empty root store with BitBake <= 1.50 semantics:
// VAR_append, VAR_remove, VAR_<override>, and ':' in names read as '_'.
func NewOld() *Store {
	s := New()
	s.sep, s.old = '_', true
	return s
}

// OldSyntax reports whether the store uses the old override syntax.
func (s *Store) OldSyntax() bool { return s.old }

// norm rewrites ':' to '_' in names with old syntax, as BitBake 1.46 and
// 1.50 do at every datastore entry point.
func (s *Store) norm(name string) string {
	if s.old && strings.IndexByte(name, ':') >= 0 {
		return strings.ReplaceAll(name, ":", "_")
	}
	return name
}

// Freeze marks the store read-only; it may then be shared by children
// used concurrently.
func (s *Store) Freeze() { s.frozen = true }

// Child returns a copy-on-write store layered over s. s is frozen.
func (s *Store) Child() *Store {
	if !s.frozen {
		s.frozen = true
	}
	c := s.newChild()
	// Sized up front for a typical recipe, its maps are not rehashed
	// again and again as they grow (an oe-core recipe's own store ends
	// with 210-340 variables for 8 in 10 recipes, and 140-160 cached
	// expansions); sized much larger, clearing them costs more than
	// the rehashing it saves.
	c.vars = make(map[string]*Var, childVars)
	c.cache = make(map[string]cacheEntry, childCache)
	return c
}

// childVars and childCache are the initial capacities of a child store's
// variable and expansion cache maps.
const (
	childVars  = 384
	childCache = 192
)

func (s *Store) newChild() *Store {
	work := s.Limits.Work
	return &Store{
		work:    &work,
		parent:  s,
		vars:    map[string]*Var{},
		ovr:     map[string][]ovRef{},
		defs:    map[string]string{},
		filters: s.filters,
		Inline:  s.Inline,
		Limits:  s.Limits,
		Stats:   &Stats{},
		Filter:  s.Filter,
		Host:    s.Host,
		sep:     s.sep,
		old:     s.old,
	}
}

// Copy returns a child of s without freezing s, for short-lived
// evaluations (":=" or d.createCopy()). s must not be written while the
// copy is in use.
func (s *Store) Copy() *Store {
	c := s.newChild()
	c.work = s.work
	c.exp = s.expState()
	return c
}

// Parent returns the store this one was created from.
func (s *Store) Parent() *Store { return s.parent }

func (s *Store) mustWrite() {
	if s.frozen {
		panic("bitbake/data: write to a frozen store")
	}
}

// find returns the variable as seen from s (nil if never set or deleted).
func (s *Store) find(name string) *Var {
	for d := s; d != nil; d = d.parent {
		if d.frozen {
			if f := d.flatten(); f != nil {
				return f.vars[name]
			}
		}
		if v, ok := d.vars[name]; ok {
			return v
		}
	}
	return nil
}

// flatView is the merged view of a frozen store and its ancestors.
type flatView struct {
	vars map[string]*Var
	ovr  map[string]ovrAt
	defs map[string]string
}

// ovrAt is an override list and the store that holds it.
type ovrAt struct {
	l     []ovRef
	owner *Store
}

// flatten returns the merged view of frozen store s, or nil if one of its
// ancestors may still change.
func (s *Store) flatten() *flatView {
	s.flatOnce.Do(func() {
		var chain []*Store
		nv, no, nd := 0, 0, 0
		for d := s; d != nil; d = d.parent {
			if !d.frozen {
				return
			}
			chain = append(chain, d)
			nv += len(d.vars)
			no += len(d.ovr)
			nd += len(d.defs)
		}
		f := &flatView{vars: make(map[string]*Var, nv), ovr: make(map[string]ovrAt, no), defs: make(map[string]string, nd)}
		for i := len(chain) - 1; i >= 0; i-- {
			d := chain[i]
			for k, v := range d.vars {
				f.vars[k] = v
			}
			for k, l := range d.ovr {
				f.ovr[k] = ovrAt{l, d}
			}
			for k, src := range d.defs {
				f.defs[k] = src
			}
		}
		s.flat = f
	})
	return s.flat
}

// local returns the variable for writing, copying it from a parent first.
func (s *Store) local(name string) *Var {
	s.mustWrite()
	if v, ok := s.vars[name]; ok {
		return v
	}
	var nv *Var
	if pv := s.parent.findOrNil(name); pv != nil {
		c := *pv
		c.Appends = pv.Appends[:len(pv.Appends):len(pv.Appends)]
		c.Prepends = pv.Prepends[:len(pv.Prepends):len(pv.Prepends)]
		c.Removes = pv.Removes[:len(pv.Removes):len(pv.Removes)]
		c.sharedFlag = pv.flags != nil
		nv = &c
	} else {
		nv = &Var{}
	}
	s.vars[name] = nv
	if strings.Contains(name, "${") {
		s.dollarKeys = append(s.dollarKeys, name)
	}
	return nv
}

func (s *Store) findOrNil(name string) *Var {
	if s == nil {
		return nil
	}
	return s.find(name)
}

func (v *Var) setFlag(flag, value string) {
	if v.flags == nil || v.sharedFlag {
		m := make(map[string]string, len(v.flags)+1)
		for k, x := range v.flags {
			m[k] = x
		}
		v.flags = m
		v.sharedFlag = false
	}
	v.flags[flag] = value
}

func (v *Var) delFlag(flag string) {
	if _, ok := v.flags[flag]; !ok {
		return
	}
	if v.sharedFlag {
		m := make(map[string]string, len(v.flags))
		for k, x := range v.flags {
			m[k] = x
		}
		v.flags = m
		v.sharedFlag = false
	}
	delete(v.flags, flag)
}

// overrideData returns overridedata[name] as seen from s.
func (s *Store) overrideData(name string) []ovRef {
	l, _ := s.overrideDataOwner(name)
	return l
}

// overrideDataOwner is overrideData with the store that holds the list.
func (s *Store) overrideDataOwner(name string) ([]ovRef, *Store) {
	for d := s; d != nil; d = d.parent {
		if d.frozen {
			if f := d.flatten(); f != nil {
				a := f.ovr[name]
				return a.l, a.owner
			}
		}
		if l, ok := d.ovr[name]; ok {
			return l, d
		}
	}
	return nil, nil
}

func (s *Store) touch(name string) {
	s.gen++
	if !s.ovValid || s.ovDeps == nil {
		return
	}
	if name == "OVERRIDES" {
		s.ovValid = false
		return
	}
	if s.old {
		// '_' also occurs inside plain names: compare prefixes.
		for dep := range s.ovDeps {
			if name == dep || strings.HasPrefix(name, dep) && len(name) > len(dep) && name[len(dep)] == '_' {
				s.ovValid = false
				return
			}
		}
		return
	}
	base := name
	if i := strings.IndexByte(base, ':'); i >= 0 {
		base = base[:i]
	}
	if s.ovDeps[base] {
		s.ovValid = false
	}
}

// setVarKeyword splits NAME:append[:override] style names like
// __setvar_regexp__ (lazy base, first keyword whose remainder is free of
// upper-case letters).
func setVarKeyword(name string) (base, keyword, override string, ok bool) {
	return splitKeyword(name, ':')
}

func splitKeyword(name string, sep byte) (base, keyword, override string, ok bool) {
	for i := strings.IndexByte(name, sep); i >= 0; {
		rest := name[i+1:]
		for _, kw := range [...]string{"append", "prepend", "remove"} {
			if !strings.HasPrefix(rest, kw) {
				continue
			}
			tail := rest[len(kw):]
			if tail == "" {
				return name[:i], kw, "", true
			}
			if tail[0] == sep && !hasUpper(tail[1:]) {
				return name[:i], kw, tail[1:], true
			}
		}
		j := strings.IndexByte(name[i+1:], sep)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return "", "", "", false
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func isOverrideStart(s string) bool {
	return s != "" && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= '0' && s[0] <= '9')
}

// updateOverrides registers name's override candidates
// (_setvar_update_overrides).
func (s *Store) updateOverrides(name string) {
	i := strings.LastIndexByte(name, s.sep)
	if i < 0 {
		return
	}
	override := name[i+1:]
	short := name[:i]
	for isOverrideStart(override) {
		s.addOverrideRef(short, ovRef{full: name, override: override})
		override = ""
		if j := strings.LastIndexByte(short, s.sep); j >= 0 {
			override = name[j+1:]
			short = name[:j]
			if short == "" {
				override = ""
			}
		}
	}
}

func (s *Store) addOverrideRef(short string, ref ovRef) {
	l, owner := s.overrideDataOwner(short)
	if s.ovrOwn[short] {
		if m := s.ovrIndex(short, l); m != nil {
			if _, dup := m.find(l, ref); dup {
				return
			}
			m.add(ref, len(l))
		} else if indexOf(l, ref) >= 0 {
			return
		}
		s.ovr[short] = append(l, ref)
		return
	}
	if fi := owner.frozenIndex(short, l); fi != nil {
		if _, dup := fi.idx.find(l, ref); dup {
			return
		}
		s.adoptFrozen(short, l, fi)
		s.ovrIdx[short].add(ref, len(l))
		s.ovr[short] = append(s.ovr[short], ref)
		return
	}
	if indexOf(l, ref) >= 0 {
		return
	}
	nl := make([]ovRef, 0, len(l)+4)
	s.ovr[short] = append(appendLive(nl, l), ref)
	s.ownOvr(short)
}

// ownOvr marks s.ovr[short] as a list of s's own, without an index yet.
func (s *Store) ownOvr(short string) {
	if s.ovrOwn == nil {
		s.ovrOwn = map[string]bool{}
	}
	s.ovrOwn[short] = true
	s.dropOvrIndex(short)
}

// setOvr replaces s.ovr[short] (nil hides the parent's list).
func (s *Store) setOvr(short string, l []ovRef) {
	s.ovr[short] = l
	s.dropOvrIndex(short)
}

func (s *Store) dropOvrIndex(short string) {
	if s.ovrIdx != nil {
		delete(s.ovrIdx, short)
		delete(s.ovrDead, short)
	}
}

// ovrIdxMin is the length from which an owned ovr list is indexed.
const ovrIdxMin = 16

// ovIdx is the index of an owned ovr list: the position of each entry,
// looked up in local, then in base, the read-only index of the frozen
// list this one was copied from (positions kept, removed entries left as
// tombstones). An entry found is checked against the list, so removing
// one only needs its tombstone.
type ovIdx struct {
	base  map[ovRef]int
	local map[ovRef]int
}

func (x *ovIdx) find(l []ovRef, ref ovRef) (int, bool) {
	if i, ok := x.local[ref]; ok && i < len(l) && l[i] == ref {
		return i, true
	}
	if i, ok := x.base[ref]; ok && i < len(l) && l[i] == ref {
		return i, true
	}
	return 0, false
}

func (x *ovIdx) add(ref ovRef, i int) {
	if x.local == nil {
		x.local = map[ovRef]int{}
	}
	x.local[ref] = i
}

func (x *ovIdx) remove(ref ovRef) { delete(x.local, ref) }

// buildIndex indexes l; nil if l holds duplicates.
func buildIndex(l []ovRef) map[ovRef]int {
	m := make(map[ovRef]int, len(l)+len(l)/2)
	for i, r := range l {
		if r.full == "" {
			continue
		}
		if _, dup := m[r]; dup {
			return nil
		}
		m[r] = i
	}
	return m
}

// ovrIndex returns the index of the owned list l = s.ovr[short], building
// it for a long list; nil for a short list or one with duplicates.
func (s *Store) ovrIndex(short string, l []ovRef) *ovIdx {
	if m, ok := s.ovrIdx[short]; ok {
		return m
	}
	if len(l) < ovrIdxMin {
		return nil
	}
	var x *ovIdx
	if m := buildIndex(l); m != nil {
		x = &ovIdx{local: m}
	}
	if s.ovrIdx == nil {
		s.ovrIdx, s.ovrDead = map[string]*ovIdx{}, map[string]int{}
	}
	s.ovrIdx[short] = x
	return x
}

// frozenIndex is the shared index of a frozen store's ovr list.
type frozenIndex struct {
	idx  *ovIdx
	dead int // tombstones in the list
}

// frozenIndex returns the index of l = owner.ovr[short] if owner is a
// frozen store (its lists never change again) and l is long and free of
// duplicates; nil otherwise.
func (owner *Store) frozenIndex(short string, l []ovRef) *frozenIndex {
	if owner == nil || !owner.frozen || len(l) < ovrIdxMin {
		return nil
	}
	if v, ok := owner.frozenIdx.Load(short); ok {
		return v.(*frozenIndex)
	}
	var fi *frozenIndex
	if m := buildIndex(l); m != nil {
		fi = &frozenIndex{idx: &ovIdx{base: m}}
		for _, r := range l {
			if r.full == "" {
				fi.dead++
			}
		}
	}
	v, _ := owner.frozenIdx.LoadOrStore(short, fi)
	return v.(*frozenIndex)
}

// adoptFrozen makes s's own copy of the frozen list l, positions kept,
// indexed by the frozen index plus entries of its own.
func (s *Store) adoptFrozen(short string, l []ovRef, fi *frozenIndex) {
	// Room for the variants a recipe adds (17 renamed RECIPE_MAINTAINER
	// variants in every oe-core recipe) without growing the copy.
	nl := make([]ovRef, len(l), len(l)+32)
	copy(nl, l)
	s.ovr[short] = nl
	s.ownOvr(short)
	if s.ovrIdx == nil {
		s.ovrIdx, s.ovrDead = map[string]*ovIdx{}, map[string]int{}
	}
	s.ovrIdx[short] = &ovIdx{base: fi.idx.base}
	s.ovrDead[short] = fi.dead
}

// removeOvrRef removes the first ref from overridedata[short].
func (s *Store) removeOvrRef(short string, ref ovRef) {
	l, owner := s.overrideDataOwner(short)
	if l == nil {
		return
	}
	if !s.ovrOwn[short] {
		if fi := owner.frozenIndex(short, l); fi != nil {
			if _, ok := fi.idx.find(l, ref); !ok {
				return
			}
			s.adoptFrozen(short, l, fi)
			l = s.ovr[short]
		}
	}
	if !s.ovrOwn[short] {
		idx := indexOf(l, ref)
		if idx < 0 {
			return
		}
		nl := make([]ovRef, 0, len(l))
		nl = appendLive(nl, l[:idx])
		nl = appendLive(nl, l[idx+1:])
		s.ovr[short] = nl
		s.ownOvr(short)
		return
	}
	if m := s.ovrIndex(short, l); m != nil {
		idx, ok := m.find(l, ref)
		if !ok {
			return
		}
		m.remove(ref)
		l[idx] = ovRef{}
		s.ovrDead[short]++
		if s.ovrDead[short]*2 > len(l) {
			// Mostly tombstones: compact in place; the index is rebuilt
			// when next needed.
			s.ovr[short] = appendLive(l[:0], l)
			s.dropOvrIndex(short)
		}
		return
	}
	if idx := indexOf(l, ref); idx >= 0 {
		s.ovr[short] = append(l[:idx], l[idx+1:]...)
	}
}

// indexOf returns the position of the first ref in l, or -1.
func indexOf(l []ovRef, ref ovRef) int {
	for i, r := range l {
		if r == ref {
			return i
		}
	}
	return -1
}

// appendLive appends the entries of l that are not tombstones.
func appendLive(dst, l []ovRef) []ovRef {
	for _, r := range l {
		if r.full != "" {
			dst = append(dst, r)
		}
	}
	return dst
}

// SetVar sets a variable as Python code does (d.setVar): pending
// :append/:prepend/:remove and active override variants are dropped.
func (s *Store) SetVar(name, value string) { s.setVar(s.norm(name), value, false) }

// SetVarParsing sets a variable as the parser does (setVar with
// parsing=True): appends and override variants stay.
func (s *Store) SetVarParsing(name, value string) { s.setVar(s.norm(name), value, true) }

func (s *Store) setVar(name, value string, parsing bool) {
	s.mustWrite()
	if base, kw, ovr, ok := splitKeyword(name, s.sep); ok {
		v := s.local(base)
		op := Op{Value: value, Override: ovr}
		switch kw {
		case "append":
			v.Appends = append(v.Appends, op)
		case "prepend":
			v.Prepends = append(v.Prepends, op)
		default:
			v.Removes = append(v.Removes, op)
		}
		s.updateOverrides(base)
		s.touch(base)
		return
	}
	v := s.local(name)
	if !parsing {
		v.Appends, v.Prepends, v.Removes = nil, nil, nil
		if l := s.overrideData(name); l != nil {
			s.needOverrides()
			var active []string
			for _, r := range l {
				if r.full != "" && s.overrideActive(r.override) {
					active = append(active, r.full)
				}
			}
			for _, a := range active {
				s.DelVar(a)
			}
			s.setOvr(name, nil)
			v = s.local(name)
		}
	}
	if strings.IndexByte(name, s.sep) >= 0 {
		s.updateOverrides(name)
	}
	v.Value, v.HasValue, v.Obj = value, true, nil
	s.touch(name)
}

// SetVarObject stores a non-string Python value (d.setVar(name, obj));
// str is its string form, used where the value is expanded.
func (s *Store) SetVarObject(name string, obj any, str string) {
	name = s.norm(name)
	s.SetVar(name, str)
	s.local(name).Obj = obj
}

// GetObject returns a non-string value stored with SetVarObject.
func (s *Store) GetObject(name string) (any, bool) {
	if v := s.find(s.norm(name)); v != nil && v.Obj != nil && v.HasValue {
		return v.Obj, true
	}
	return nil, false
}

func (s *Store) overrideActive(o string) bool {
	if s.ovSet[o] {
		return true
	}
	if strings.IndexByte(o, s.sep) < 0 {
		return false
	}
	for _, p := range strings.Split(o, string(s.sep)) {
		if !s.ovSet[p] {
			return false
		}
	}
	return true
}

// SetDefault records a weak default (??=).
func (s *Store) SetDefault(name, value string) {
	name = s.norm(name)
	v := s.local(name)
	v.Default, v.HasDefault = value, true
	if strings.IndexByte(name, s.sep) >= 0 {
		s.updateOverrides(name)
	}
	s.touch(name)
}

// SetFlag sets a variable flag.
func (s *Store) SetFlag(name, flag, value string) {
	name = s.norm(name)
	if flag == "_defaultval" {
		s.SetDefault(name, value)
		return
	}
	v := s.local(name)
	v.setFlag(flag, value)
	s.fgen++
}

// DelVar deletes a variable and its override registrations.
func (s *Store) DelVar(name string) {
	s.mustWrite()
	name = s.norm(name)
	if _, ok := s.vars[name]; !ok && strings.Contains(name, "${") {
		s.dollarKeys = append(s.dollarKeys, name)
	}
	s.vars[name] = &Var{}
	if s.overrideData(name) != nil {
		s.setOvr(name, nil)
	}
	if i := strings.LastIndexByte(name, s.sep); i >= 0 {
		override := name[i+1:]
		short := name[:i]
		for isOverrideStart(override) {
			s.removeOvrRef(short, ovRef{full: name, override: override})
			override = ""
			if j := strings.LastIndexByte(short, s.sep); j >= 0 {
				override = name[j+1:]
				short = name[:j]
				if short == "" {
					override = ""
				}
			}
		}
	}
	s.touch(name)
}

// DelFlag deletes a flag (and its weak default).
func (s *Store) DelFlag(name, flag string) {
	name = s.norm(name)
	if s.find(name) == nil {
		return
	}
	v := s.local(name)
	v.delFlag(flag)
	v.delFlag("_defaultval_flag_" + flag)
	s.fgen++
}

// AppendVar is d.appendVar: a parsing-mode :append without override.
func (s *Store) AppendVar(name, value string) {
	s.setVar(s.norm(name)+string(s.sep)+"append", value, true)
}

// PrependVar is d.prependVar.
func (s *Store) PrependVar(name, value string) {
	s.setVar(s.norm(name)+string(s.sep)+"prepend", value, true)
}

// AppendFlag is d.appendVarFlag.
func (s *Store) AppendFlag(name, flag, value string) {
	cur, _ := s.GetFlag(name, flag, false)
	s.SetFlag(name, flag, cur+value)
}

// PrependFlag is d.prependVarFlag.
func (s *Store) PrependFlag(name, flag, value string) {
	cur, _ := s.GetFlag(name, flag, false)
	s.SetFlag(name, flag, value+cur)
}

// Raw is getVar(name, expand=False, noweakdefault, parsing=True): the
// variable's own content, without overrides or appends.
func (s *Store) Raw(name string, noWeakDefault bool) (string, bool) {
	v := s.find(s.norm(name))
	if v == nil {
		return "", false
	}
	if v.HasValue {
		return v.Value, true
	}
	if v.HasDefault && !noWeakDefault {
		return v.Default, true
	}
	return "", false
}

// Lookup returns the variable struct as seen from s (read-only).
func (s *Store) Lookup(name string) *Var {
	s.flagReads++
	return s.find(s.norm(name))
}

// GetFlag returns a flag (its weak default if unset), optionally expanded.
func (s *Store) GetFlag(name, flag string, expand bool) (string, bool) {
	name = s.norm(name)
	s.flagReads++
	if s.tracking != nil {
		s.track(name)
	}
	v := s.find(name)
	if v == nil {
		return "", false
	}
	val, ok := v.flags[flag]
	if !ok {
		val, ok = v.flags["_defaultval_flag_"+flag]
	}
	if !ok {
		return "", false
	}
	if expand {
		key := name + "[" + flag + "]"
		if e, hit := s.cached(key); hit {
			return e.value, true
		}
		val = s.expand(val, key)
		s.putCache(key, cacheEntry{value: val, ok: true, flagDep: true})
	}
	return val, true
}

// Flags returns getVarFlags(name): public flags, with weak flag defaults
// where the flag itself is unset.
func (s *Store) Flags(name string) map[string]string {
	s.flagReads++
	v := s.find(s.norm(name))
	if v == nil || len(v.flags) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, x := range v.flags {
		if strings.HasPrefix(k, "_defaultval_flag_") {
			f := k[len("_defaultval_flag_"):]
			if _, set := v.flags[f]; !set {
				out[f] = x
			}
			continue
		}
		if strings.HasPrefix(k, "_") || strings.HasPrefix(k, ":") {
			continue
		}
		out[k] = x
	}
	return out
}

// SetDef records a python def's source.
func (s *Store) SetDef(name, src string) {
	s.mustWrite()
	s.defs[name] = src
}

// Def returns a python def's source.
func (s *Store) Def(name string) (string, bool) {
	for d := s; d != nil; d = d.parent {
		if d.frozen {
			if f := d.flatten(); f != nil {
				src, ok := f.defs[name]
				return src, ok
			}
		}
		if src, ok := d.defs[name]; ok {
			return src, true
		}
	}
	return "", false
}

// SetFilter installs a filter expression applied to name's expanded value.
func (s *Store) SetFilter(name, expr string) {
	s.mustWrite()
	if !s.ownFilt {
		m := make(map[string]string, len(s.filters)+1)
		for k, v := range s.filters {
			m[k] = v
		}
		s.filters = m
		s.ownFilt = true
	}
	if expr == "" {
		delete(s.filters, name)
	} else {
		s.filters[name] = expr
	}
	s.gen++
}

func (s *Store) putCache(key string, e cacheEntry) {
	if s.frozen {
		return
	}
	if s.cache == nil {
		s.cache = map[string]cacheEntry{}
	}
	e.gen, e.fgen = s.gen, s.fgen
	s.cache[key] = e
}

func (s *Store) track(name string) {
	if !s.old {
		if i := strings.IndexByte(name, ':'); i >= 0 {
			name = name[:i]
		}
	}
	s.tracking[name] = true
}

// needOverrides computes OVERRIDES like need_overrides: up to five rounds
// until the value is stable, recording which variables it depends on.
func (s *Store) needOverrides() {
	if s.ovValid || s.inOverride {
		return
	}
	saved := s.tracking
	s.tracking = map[string]bool{}
	// Lookups made to compute OVERRIDES run with other overrides: they
	// are not re-entries of the expansions in progress.
	x := s.expState()
	savedExp := x.expanding[s]
	x.expanding[s] = nil
	defer func() { x.expanding[s] = savedExp }()
	// While computing, nested lookups use the overrides as they stand
	// (none in the first round), like BitBake's inoverride guard.
	s.inOverride = true
	defer func() { s.inOverride = false }()
	for count := 0; count < 5; count++ {
		s.overrides = nil
		s.ovSet = map[string]bool{}
		ov, _ := s.getVar("OVERRIDES", true, false)
		s.overrides = strings.Split(ov, ":")
		s.ovSet = toSet(s.overrides)
		s.gen++
		nv, _ := s.getVar("OVERRIDES", true, false)
		n := strings.Split(nv, ":")
		if equalStrings(n, s.overrides) {
			break
		}
		s.overrides = n
		s.ovSet = toSet(n)
	}
	s.ovDeps = s.tracking
	s.tracking = saved
	if saved != nil {
		for k := range s.ovDeps {
			saved[k] = true
		}
	}
	s.ovValid = true
}

// Overrides returns the active override list (computing it if needed).
func (s *Store) Overrides() []string {
	s.needOverrides()
	return s.overrides
}

func toSet(l []string) map[string]bool {
	m := make(map[string]bool, len(l))
	for _, x := range l {
		m[x] = true
	}
	return m
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Get returns the expanded value of a variable (d.getVar(name)).
func (s *Store) Get(name string) (string, bool) { return s.getVar(name, true, false) }

// GetString is Get with "" for unset variables.
func (s *Store) GetString(name string) string {
	v, _ := s.getVar(name, true, false)
	return v
}

// GetUnexpanded is d.getVar(name, False): overrides and appends applied,
// no expansion.
func (s *Store) GetUnexpanded(name string) (string, bool) { return s.getVar(name, false, false) }

// getVar is getVarFlag(name, "_content", expand, noweakdefault=False,
// parsing=False).
func (s *Store) getVar(name string, expand bool, noWeakDefault bool) (string, bool) {
	val, ok, _ := s.getVarRemoves(name, expand, noWeakDefault)
	return val, ok
}

func (s *Store) getVarRemoves(name string, expand bool, noWeakDefault bool) (string, bool, []string) {
	name = s.norm(name)
	if s.tracking != nil {
		s.track(name)
	}
	if expand {
		if e, hit := s.cached(name); hit {
			return e.value, e.ok, e.removes
		}
	}
	flagReads := s.flagReads
	var (
		value    string
		has      bool
		removes  []string
		variant  string
		selected bool
	)
	if l := s.overrideData(name); len(l) > 0 {
		s.needOverrides()
		variant, selected = s.selectOverride(l)
		if selected {
			var subRemoves []string
			value, has, subRemoves = s.getVarRemoves(variant, false, false)
			removes = append(removes, subRemoves...)
		}
	}
	v := s.find(name)
	if v != nil && !has {
		if v.HasValue {
			value, has = v.Value, true
		} else if v.HasDefault && !noWeakDefault {
			value, has = v.Default, true
		}
	}
	if v != nil && (len(v.Appends) > 0 || len(v.Prepends) > 0 || len(v.Removes) > 0) {
		s.needOverrides()
		for _, a := range v.Appends {
			if s.qualifierActive(a.Override) {
				value += a.Value
				has = true
			}
		}
		for _, p := range v.Prepends {
			if s.qualifierActive(p.Override) {
				value = p.Value + value
				has = true
			}
		}
		for _, r := range v.Removes {
			if s.qualifierActive(r.Override) {
				removes = append(removes, r.Value)
			}
		}
	}
	if !expand {
		// retparser=True in BitBake: the removes of an override variant
		// travel up to the variable that selected it.
		return value, has, removes
	}
	if has {
		x := s.expState()
		if x.expanding[s][name] {
			// An indirect self reference: BitBake recurses until Python
			// gives up; leave the value unexpanded.
			s.Stats.errorf("variable " + name + " references itself indirectly")
			return value, true, nil
		}
		if x.expanding[s] == nil {
			x.expanding[s] = map[string]bool{}
		}
		x.expanding[s][name] = true
		value = s.expand(value, name)
		delete(x.expanding[s], name)
		if value != "" && len(removes) > 0 {
			value = s.applyRemoves(value, removes)
		}
		if value != "" && s.filters != nil && s.Filter != nil {
			base := name
			if i := strings.IndexByte(base, s.sep); i >= 0 {
				base = base[:i]
			}
			if f, ok := s.filters[base]; ok {
				if fv, err := s.Filter(f, value, s); err == nil {
					value = fv
				} else {
					s.Stats.errorf("filter on " + base + ": " + err.Error())
				}
			}
		}
	}
	if !noWeakDefault {
		s.putCache(name, cacheEntry{value: value, ok: has, flagDep: s.flagReads != flagReads})
	}
	return value, has, nil
}

// qualifierActive reports whether every part of an :append/:prepend/
// :remove override qualifier is in OVERRIDES.
func (s *Store) qualifierActive(o string) bool {
	if o == "" {
		return true
	}
	for {
		i := strings.IndexByte(o, s.sep)
		part := o
		if i >= 0 {
			part = o[:i]
		}
		if !s.ovSet[part] {
			return false
		}
		if i < 0 {
			return true
		}
		o = o[i+1:]
	}
}

// selectOverride picks the override variant like getVarFlag: candidates
// whose override parts are all active, peeled one suffix at a time in
// OVERRIDES order; the last exact match wins.
func (s *Store) selectOverride(l []ovRef) (string, bool) {
	type kv struct{ k, v string }
	var active []kv
	set := func(k, v string) {
		for i := range active {
			if active[i].k == k {
				active[i].v = v
				return
			}
		}
		active = append(active, kv{k, v})
	}
	for _, r := range l {
		if r.full != "" && s.overrideActive(r.override) {
			set(r.override, r.full)
		}
	}
	if len(active) == 0 {
		return "", false
	}
	match, found := "", false
	for mod := true; mod; {
		mod = false
		for _, o := range s.overrides {
			snapshot := append([]kv(nil), active...)
			for _, a := range snapshot {
				idx := -1
				for i := range active {
					if active[i].k == a.k {
						idx = i
						break
					}
				}
				if idx < 0 {
					continue
				}
				cur := active[idx]
				if strings.HasSuffix(cur.k, string(s.sep)+o) {
					active = append(active[:idx], active[idx+1:]...)
					set(strings.ReplaceAll(cur.k, string(s.sep)+o, ""), cur.v)
					mod = true
				} else if cur.k == o {
					match, found = cur.v, true
					active = append(active[:idx], active[idx+1:]...)
				}
			}
		}
	}
	return match, found
}

func (s *Store) applyRemoves(value string, removes []string) string {
	rm := map[string]bool{}
	for _, r := range removes {
		for _, w := range strings.Fields(s.expand(r, "")) {
			rm[w] = true
		}
	}
	if len(rm) == 0 {
		return value
	}
	var b strings.Builder
	start := 0
	flush := func(end int) {
		tok := value[start:end]
		if tok != "" && !rm[tok] {
			b.WriteString(tok)
		}
	}
	for i := 0; i < len(value); i++ {
		if isSpace(value[i]) {
			flush(i)
			b.WriteByte(value[i])
			start = i + 1
		}
	}
	flush(len(value))
	return b.String()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// Keys returns every variable name visible from s (set, with content or
// flags), in no particular order.
func (s *Store) Keys() []string {
	s.flagReads++ // a variable with flags only is listed
	seen := map[string]bool{}
	var out []string
	for d := s; d != nil; d = d.parent {
		for k, v := range d.vars {
			if seen[k] {
				continue
			}
			seen[k] = true
			if !v.empty() {
				out = append(out, k)
			}
		}
	}
	return out
}

// ExpandKeys renames variables whose names contain ${...} to their
// expanded names (bb.data.expandKeys), merging :append lists.
func (s *Store) ExpandKeys() {
	todo := map[string]string{}
	var keys []string
	for d := s; d != nil; d = d.parent {
		for _, k := range d.dollarKeys {
			v := d.vars[k]
			if s.find(k) != v || v.empty() {
				continue // shadowed by a nearer store, or deleted
			}
			if _, dup := todo[k]; dup {
				continue
			}
			ek := s.Expand(k)
			if ek != k {
				todo[k] = ek
				keys = append(keys, k)
			}
		}
	}
	sortStrings(keys)
	for _, k := range keys {
		s.RenameVar(k, todo[k])
	}
}

func sortStrings(a []string) {
	if len(a) < 2 {
		return
	}
	// Small insertion sort keeps the package free of sort for tiny lists;
	// use a simple quicksort for larger ones.
	quick(a)
}

func quick(a []string) {
	for len(a) > 12 {
		p := a[len(a)/2]
		i, j := 0, len(a)-1
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		if j+1 < len(a)-i {
			quick(a[:j+1])
			a = a[i:]
		} else {
			quick(a[i:])
			a = a[:j+1]
		}
	}
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// RenameVar is d.renameVar: moves content and :append/:prepend/:remove
// lists (not other flags) and renames override variants recursively.
func (s *Store) RenameVar(key, newkey string) {
	s.renameVar(s.norm(key), s.norm(newkey), 0)
}

func (s *Store) renameVar(key, newkey string, depth int) {
	if key == newkey || depth > 20 {
		return
	}
	found := false
	val, has := s.Raw(key, false)
	if has {
		s.SetVarParsing(newkey, val)
		found = true
	}
	if src := s.find(key); src != nil && (len(src.Appends) > 0 || len(src.Prepends) > 0 || len(src.Removes) > 0) {
		dst := s.local(newkey)
		dst.Appends = append(dst.Appends, src.Appends...)
		dst.Prepends = append(dst.Prepends, src.Prepends...)
		dst.Removes = append(dst.Removes, src.Removes...)
		found = true
	}
	if l := s.overrideData(key); l != nil {
		found = true
		l = appendLive(nil, l) // renaming changes the list
		nl := make([]ovRef, 0, len(l))
		for _, r := range l {
			nl = append(nl, ovRef{full: strings.ReplaceAll(r.full, key, newkey), override: r.override})
		}
		s.ovr[newkey] = nl
		s.ownOvr(newkey)
		for _, r := range l {
			s.renameVar(r.full, strings.ReplaceAll(r.full, key, newkey), depth+1)
		}
	}
	if !found {
		return
	}
	if strings.IndexByte(newkey, s.sep) >= 0 && !has {
		s.updateOverrides(newkey)
	}
	s.DelVar(key)
}

// GetFlagNoDefault returns a flag's own value, unexpanded, ignoring its
// weak default (getVarFlag with noweakdefault=True).
func (s *Store) GetFlagNoDefault(name, flag string) (string, bool) {
	s.flagReads++
	v := s.find(s.norm(name))
	if v == nil {
		return "", false
	}
	val, ok := v.flags[flag]
	return val, ok
}

// LocalKeys returns the names set in this layer of the store only.
func (s *Store) LocalKeys() []string {
	s.flagReads++
	out := make([]string, 0, len(s.vars))
	for k, v := range s.vars {
		if !v.empty() {
			out = append(out, k)
		}
	}
	sortStrings(out)
	return out
}

// ExpandVarref replaces ${name} by name's value in the variables set in
// this layer (d.expandVarref(name)).
func (s *Store) ExpandVarref(name string) {
	ref := "${" + name + "}"
	val, _ := s.GetUnexpanded(name)
	for _, k := range s.LocalKeys() {
		cur, ok := s.GetUnexpanded(k)
		if ok && strings.Contains(cur, ref) {
			s.SetVar(k, strings.ReplaceAll(cur, ref, val))
		}
	}
}

// HasOverrides reports whether override variants of name were set
// (d.hasOverrides).
func (s *Store) HasOverrides(name string) bool { return len(s.overrideData(s.norm(name))) > 0 }

// expState tracks nested expansions.
type expState struct {
	depth     int
	expanding map[*Store]map[string]bool
}

func (s *Store) expState() *expState {
	if s.exp == nil {
		x := &expState{expanding: map[*Store]map[string]bool{}}
		if s.frozen {
			return x // never write to a shared store
		}
		s.exp = x
	}
	return s.exp
}
