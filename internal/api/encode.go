package api

import (
	"strconv"
	"time"

	"layerindex/internal/jsonw"
	"layerindex/internal/store"
)

// The encoders below write each resource's JSON keys in upstream's order
// (clients and golden tests compare it) straight into a byte slice:
// serialising a 3,500-recipe dump this way costs a fraction of what
// reflection-based encoding/json does, and allocates nothing per field.

// buf appends JSON.
type buf []byte

func (b buf) key(k string) buf {
	if n := len(b); n > 0 && b[n-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

func (b buf) str(k, v string) buf { return b.key(k).quote(v) }
func (b buf) int(k string, v int64) buf {
	return strconv.AppendInt(b.key(k), v, 10)
}
func (b buf) boolean(k string, v bool) buf { return strconv.AppendBool(b.key(k), v) }
func (b buf) null(k string) buf            { return append(b.key(k), "null"...) }

func (b buf) intPtr(k string, v *int) buf {
	if v == nil {
		return b.null(k)
	}
	return b.int(k, int64(*v))
}

func (b buf) idPtr(k string, v *int64) buf {
	if v == nil {
		return b.null(k)
	}
	return b.int(k, *v)
}

// timeFormat is jsonw.TimeFormat (the tests compare appendTime with it).
const timeFormat = jsonw.TimeFormat

func (b buf) time(k string, t time.Time) buf {
	b = append(b.key(k), '"')
	b = appendTime(b, t)
	return append(b, '"')
}

func appendTime(b []byte, t time.Time) []byte { return jsonw.AppendTime(b, t) }

func (b buf) timePtr(k string, t *time.Time) buf {
	if t == nil {
		return b.null(k)
	}
	return b.time(k, *t)
}

// quote appends s as a JSON string (jsonw.Quote).
func (b buf) quote(s string) buf { return jsonw.Quote(b, s) }

func (b buf) strings(k string, vs []string) buf {
	b = append(b.key(k), '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = b.quote(v)
	}
	return append(b, ']')
}

func encBranch(b buf, x *store.Branch) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).str("name", x.Name).str("bitbake_branch", x.BitbakeBranch).
		str("short_description", x.ShortDescription).intPtr("sort_priority", x.SortPriority).
		boolean("updates_enabled", x.UpdatesEnabled).boolean("comparison", x.Comparison).boolean("hidden", x.Hidden).
		time("updated", x.UpdatedAt).null("update_environment")
	return append(b, '}')
}

func encLayerFields(b buf, x *store.Layer) buf {
	return b.int("id", x.ID).str("name", x.Name).str("status", x.Status).str("layer_type", x.LayerType).
		str("summary", x.Summary).str("description", x.Description).str("vcs_url", x.VCSURL).
		str("vcs_web_url", x.VCSWebURL).str("vcs_web_tree_base_url", x.VCSWebTreeBaseURL).
		str("vcs_web_file_base_url", x.VCSWebFileBaseURL).str("vcs_web_commit_url", x.VCSWebCommitURL).
		str("usage_url", x.UsageURL).str("mailing_list_url", x.MailingListURL).
		int("index_preference", int64(x.IndexPreference)).boolean("comparison", x.Comparison).time("updated", x.UpdatedAt).
		// Issue 14, after upstream's keys.
		boolean("master_for_compatible", x.MasterForCompatible)
}

func encLayer(b buf, x *store.Layer) buf {
	return append(encLayerFields(append(b, '{'), x), '}')
}

// encLayerBranchState writes the keys a layer branch shares with "layers".
func encLayerBranchState(b buf, x *store.LayerBranch) buf {
	return b.str("collection", x.Collection).str("version", x.Version).str("vcs_subdir", x.VCSSubdir).
		timePtr("vcs_last_fetch", x.VCSLastFetch).str("vcs_last_rev", x.VCSLastRev).
		timePtr("vcs_last_commit", x.VCSLastCommit).str("actual_branch", x.ActualBranch).
		str("local_path", x.LocalPath).boolean("updates_enabled", x.UpdatesEnabled).time("updated", x.UpdatedAt)
}

func encLayerBranch(b buf, x *store.LayerBranch) buf {
	b = append(b, '{')
	b = encLayerBranchState(b.int("id", x.ID), x)
	b = b.int("layer", x.LayerID).int("branch", x.BranchID).idPtr("yp_compatible_version", x.YPCompatibleVersionID)
	// Issue 14, after upstream's keys (its clients ignore unknown keys).
	b = b.str("layerseries_compat", x.SeriesCompat).str("layerseries_corenames", x.SeriesCorenames).boolean("follows_master", x.FollowsMaster)
	return append(b, '}')
}

// encLayerSet writes a layer set (not upstream's): its configuration is at
// /layerindex/api/registry/configurations/NAME.conf.json.
func encLayerSet(b buf, x *store.LayerSet) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).str("name", x.Name).str("description", x.Description).int("branch", x.BranchID)
	b = append(b.key("layers"), '[')
	for i, id := range x.LayerIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, ']')
	b = b.str("machine", x.Machine).str("distro", x.Distro).boolean("recommends", x.Recommends).time("updated", x.UpdatedAt)
	return append(b, '}')
}

func encLayerDependency(b buf, x *store.LayerDependency) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).boolean("required", x.Required).int("layerbranch", x.LayerBranchID).int("dependency", x.DependencyID)
	return append(b, '}')
}

func encLayerMaintainer(b buf, x *store.LayerMaintainer) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).str("name", x.Name).str("email", x.Email).str("responsibility", x.Responsibility).
		str("status", x.Status).int("layerbranch", x.LayerBranchID)
	return append(b, '}')
}

func encLayerNote(b buf, x *store.LayerNote) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).str("text", x.Text).int("layer", x.LayerID)
	return append(b, '}')
}

// encRecipeFields writes every recipes key but id: store.AppendRecipeFields,
// which also writes the objects the store keeps beside each recipe row for
// the full dump (store.AppendRecipeJSON).
func encRecipeFields(b buf, x *store.Recipe) buf { return store.AppendRecipeFields(b, x) }

func encRecipe(b buf, x *store.Recipe) buf { return store.AppendRecipeJSON(b, x) }

func encRecipeExtended(b buf, x *store.RecipeExtended) buf {
	b = append(b, '{')
	b = append(b.int("id", x.ID).key("sources"), '[')
	for i, s := range x.Sources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(b, '{').str("url", s.URL).str("sha256sum", s.SHA256Sum), '}')
	}
	b = append(append(b, ']').key("patches"), '[')
	for i, p := range x.Patches {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = b.str("path", p.Path).str("src_path", p.SrcPath).str("status", p.Status).str("status_extra", p.StatusExtra).
			intPtr("apply_order", p.ApplyOrder).boolean("applied", p.Applied).int("striplevel", int64(p.Striplevel))
		b = append(b, '}')
	}
	b = append(append(b, ']').key("package_configs"), '[')
	for i, p := range x.PackageConfigs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = b.strings("builddeps", fields(p.BuildDeps)).str("feature", p.Feature).str("with_option", p.WithOption).
			str("without_option", p.WithoutOption)
		b = append(b, '}')
	}
	b = append(b, ']').strings("staticbuilddeps", nonNil(x.BuildDeps))
	b = append(b.key("filedeps"), '[')
	for i, f := range x.FileDeps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(b, '{').str("path", f.Path).int("layerbranch", f.LayerBranchID), '}')
	}
	b = append(b, ']')
	b = encRecipeFields(b, &x.Recipe)
	return append(b, '}')
}

func encMachine(b buf, x *store.Machine) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).str("name", x.Name).str("description", x.Description).time("updated", x.UpdatedAt).
		int("layerbranch", x.LayerBranchID)
	return append(b, '}')
}

func encDistro(b buf, x *store.Distro) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).str("name", x.Name).str("description", x.Description).time("updated", x.UpdatedAt).
		int("layerbranch", x.LayerBranchID)
	return append(b, '}')
}

func encClass(b buf, x *store.BBClass) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).str("name", x.Name).str("bbclass_type", x.BBClassType).int("layerbranch", x.LayerBranchID)
	return append(b, '}')
}

func encAppend(b buf, x *store.BBAppend) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).str("filename", x.Filename).str("filepath", x.Filepath).int("layerbranch", x.LayerBranchID)
	return append(b, '}')
}

func encIncFile(b buf, x *store.IncFile) buf {
	b = append(b, '{')
	b = b.int("id", x.ID).str("path", x.Path).int("layerbranch", x.LayerBranchID)
	return append(b, '}')
}

// encLayerView is upstream's "layers": a layer branch with its branch,
// layer, Yocto Project Compatible version and active maintainers nested.
func encLayerView(b buf, x *store.LayerView) buf {
	b = append(b, '{')
	b = b.int("id", x.ID)
	b = append(append(b.key("branch"), '{').int("id", x.Branch.ID).str("name", x.Branch.Name), '}')
	b = append(encLayerFields(append(b.key("layer"), '{'), &x.Layer), '}')
	if y := x.YPVersion; y != nil {
		b = append(b.key("yp_compatible_version"), '{')
		b = b.int("id", y.ID).str("name", y.Name).str("description", y.Description).str("image_url", y.ImageURL).
			str("link_url", y.LinkURL)
		b = append(b, '}')
	} else {
		b = b.null("yp_compatible_version")
	}
	b = append(b.key("maintainers"), '[')
	for i, m := range x.Maintainers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(b, '{').str("name", m.Name).str("email", m.Email).str("responsibility", m.Responsibility), '}')
	}
	b = append(b, ']')
	b = encLayerBranchState(b, &x.LayerBranch)
	return append(b, '}')
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
