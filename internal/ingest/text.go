package ingest

import (
	"reflect"
	"strings"
)

// storableText makes a string from a layer storable as text by every
// database: PostgreSQL refuses NUL bytes and invalid UTF-8 in text
// columns, and a layer may hold both in file names, values and
// conf/layer.conf. Each invalid byte sequence and each NUL becomes U+FFFD,
// so what is shown still says where something was.
func storableText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= 0x80 {
			return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
		}
	}
	return s
}

// makeStorable applies storableText to every string reachable from v (a
// pointer): fields, elements and map values, in place.
func makeStorable(v any) {
	storable(reflect.ValueOf(v))
}

func storable(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			storable(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				storable(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			storable(v.Index(i))
		}
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String || v.Type().Elem().Kind() == reflect.String {
			// Keys and values are replaced whole (map entries are not
			// addressable).
			for _, k := range v.MapKeys() {
				val := v.MapIndex(k)
				nk, nv := k, val
				if k.Kind() == reflect.String {
					nk = reflect.ValueOf(storableText(k.String())).Convert(k.Type())
				}
				if val.Kind() == reflect.String {
					nv = reflect.ValueOf(storableText(val.String())).Convert(val.Type())
				}
				if nk.String() != k.String() || nv.Kind() == reflect.String && nv.String() != val.String() {
					v.SetMapIndex(k, reflect.Value{})
					v.SetMapIndex(nk, nv)
				}
			}
		} else {
			for _, k := range v.MapKeys() {
				e := v.MapIndex(k)
				if e.Kind() == reflect.Pointer {
					storable(e)
				}
			}
		}
	case reflect.String:
		if v.CanSet() {
			if s := storableText(v.String()); s != v.String() {
				v.SetString(s)
			}
		}
	}
}
