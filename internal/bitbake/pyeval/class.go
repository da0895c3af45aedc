package pyeval

// Class is a class defined in Python code (single or multiple
// inheritance from other such classes; "object" and unknown bases are
// ignored).
type Class struct {
	Name  string
	Bases []*Class
	Attrs map[string]Value
}

// Instance is an object of a Class.
type Instance struct {
	Class *Class
	Attrs map[string]Value
}

// lookup finds a class attribute along the bases, depth first.
func (c *Class) lookup(name string) (Value, bool) {
	if v, ok := c.Attrs[name]; ok {
		return v, true
	}
	for _, b := range c.Bases {
		if v, ok := b.lookup(name); ok {
			return v, true
		}
	}
	return nil, false
}

func (c *Class) isSubclass(of *Class) bool {
	if c == of {
		return true
	}
	for _, b := range c.Bases {
		if b.isSubclass(of) {
			return true
		}
	}
	return false
}

// boundFunc is a Python method bound to its receiver.
type boundFunc struct {
	self Value
	fn   Value
}

func hasDecorator(f *Function, name string) bool {
	for _, d := range f.def.decorators {
		if d == name {
			return true
		}
	}
	return false
}

// execClass evaluates a class statement.
func (in *Interp) execClass(s *classStmt, sc *scope) error {
	var bases []*Class
	var excBase *ExcClass
	for _, b := range s.bases {
		v, err := in.eval(b, sc)
		if err != nil {
			return err
		}
		switch x := v.(type) {
		case *Class:
			bases = append(bases, x)
		case *ExcClass:
			excBase = x
		}
	}
	if excBase != nil {
		// Exception subclasses only need a name and a parent for raise
		// and except.
		sc.set(s.name, &ExcClass{Name: s.name, Parent: excBase})
		return nil
	}
	body := &scope{vars: map[string]Value{}, parent: sc}
	if _, _, err := in.execBlock(s.body, body); err != nil {
		return err
	}
	sc.set(s.name, &Class{Name: s.name, Bases: bases, Attrs: body.vars})
	return nil
}

// instantiate calls a class: a new instance with __init__ run.
func (in *Interp) instantiate(c *Class, args []Value, kw map[string]Value) (Value, error) {
	inst := &Instance{Class: c, Attrs: map[string]Value{}}
	if init, ok := c.lookup("__init__"); ok {
		if _, err := in.call(init, append([]Value{inst}, args...), kw); err != nil {
			return nil, err
		}
	}
	return inst, nil
}

// instanceAttr resolves inst.name: instance attributes, then class
// attributes with functions bound to the instance.
func (in *Interp) instanceAttr(inst *Instance, name string) (Value, error) {
	if v, ok := inst.Attrs[name]; ok {
		return v, nil
	}
	if name == "__class__" {
		return inst.Class, nil
	}
	v, ok := inst.Class.lookup(name)
	if !ok {
		return unknownf("attribute %s of %s instance", name, inst.Class.Name), nil
	}
	if f, ok := v.(*Function); ok {
		switch {
		case hasDecorator(f, "staticmethod"):
			return f, nil
		case hasDecorator(f, "classmethod"):
			return &boundFunc{self: inst.Class, fn: f}, nil
		case hasDecorator(f, "property"):
			return in.call(f, []Value{inst}, nil)
		}
		return &boundFunc{self: inst, fn: f}, nil
	}
	return v, nil
}

func (in *Interp) classAttr(c *Class, name string) Value {
	if name == "__name__" {
		return Str(c.Name)
	}
	v, ok := c.lookup(name)
	if !ok {
		return unknownf("attribute %s of class %s", name, c.Name)
	}
	if f, ok := v.(*Function); ok && hasDecorator(f, "classmethod") {
		return &boundFunc{self: c, fn: f}
	}
	return v
}
