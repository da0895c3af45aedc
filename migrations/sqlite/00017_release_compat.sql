-- +goose Up
-- Release compatibility: a layer branch's LAYERSERIES_COMPAT (the release
-- codenames its layer.conf declares it works with) and, for a core layer,
-- LAYERSERIES_CORENAMES (the codenames that release's core provides), both
-- space-separated as layer.conf writes them. A layer branch is compatible
-- with a release when its series_compat names one of the series_corenames of
-- that release's core layer branch. Filled by the next update of each layer
-- branch (an unchanged layer stores them without re-parsing).
-- declared_depends and declared_recommends are the collection names of
-- LAYERDEPENDS and LAYERRECOMMENDS as declared, resolvable or not, so the
-- dependency graph can show the ones no layer on the branch provides.
-- Keep this file and ../postgres/00014_release_compat.sql in step.
ALTER TABLE layer_branches ADD COLUMN series_compat TEXT NOT NULL DEFAULT '';
ALTER TABLE layer_branches ADD COLUMN series_corenames TEXT NOT NULL DEFAULT '';
ALTER TABLE layer_branches ADD COLUMN declared_depends TEXT NOT NULL DEFAULT '';
ALTER TABLE layer_branches ADD COLUMN declared_recommends TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE layer_branches DROP COLUMN declared_recommends;
ALTER TABLE layer_branches DROP COLUMN declared_depends;
ALTER TABLE layer_branches DROP COLUMN series_corenames;
ALTER TABLE layer_branches DROP COLUMN series_compat;
