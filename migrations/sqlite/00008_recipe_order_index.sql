-- +goose Up
-- A layer's recipe list is ordered by name then version (store.LayerRecipes);
-- with this index the first page is read in order instead of sorting every
-- recipe of the layer on each view.
CREATE INDEX recipes_layer_branch_id_name_order_idx ON recipes (layer_branch_id, lower(pn), pv, id);

-- +goose Down
DROP INDEX recipes_layer_branch_id_name_order_idx;
