package store

// Page selects one page of a list: Number counts from 1.
type Page struct {
	Number int
	Size   int
}

// MaxPage bounds page numbers so offsets stay small integers whatever a
// query string says.
const MaxPage = 100_000

func (p Page) norm() Page {
	if p.Size <= 0 {
		p.Size = 50
	}
	if p.Number < 1 {
		p.Number = 1
	}
	if p.Number > MaxPage {
		p.Number = MaxPage
	}
	return p
}

// Offset is the number of rows before the page.
func (p Page) Offset() int { p = p.norm(); return (p.Number - 1) * p.Size }

// Paged is one page of a list and the size of the whole list.
type Paged[T any] struct {
	Items []T
	Total int64
	More  bool // there are more than Total rows (a search's bounded count)
	Page  Page
}

// Pages is the number of pages the whole list fills (at least 1).
func (p Paged[T]) Pages() int {
	size := p.Page.norm().Size
	n := int((p.Total + int64(size) - 1) / int64(size))
	return max(n, 1)
}

// First is the 1-based position of the page's first row (0 when empty).
func (p Paged[T]) First() int {
	if len(p.Items) == 0 {
		return 0
	}
	return p.Page.Offset() + 1
}

// Last is the 1-based position of the page's last row.
func (p Paged[T]) Last() int { return p.Page.Offset() + len(p.Items) }

// fillTotal sets out.Total: from the page itself when it is the first and
// not full (most lists and searches), else with count.
func fillTotal[T any](out *Paged[T], count func(*int64) error) error {
	if out.Page.norm().Number == 1 && len(out.Items) < out.Page.norm().Size {
		out.Total = int64(len(out.Items))
		return nil
	}
	return count(&out.Total)
}

// paginate cuts one page out of a list held in memory.
func paginate[T any](all []T, p Page) Paged[T] {
	p = p.norm()
	out := Paged[T]{Total: int64(len(all)), Page: p}
	if off := p.Offset(); off < len(all) {
		out.Items = all[off:min(off+p.Size, len(all))]
	}
	return out
}

// Current is the page's number.
func (p Paged[T]) Current() int { return p.Page.norm().Number }
