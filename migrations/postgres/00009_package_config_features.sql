-- +goose Up
-- PACKAGECONFIG rows are the recipe's features only (bitbake.PackageConfigFeature):
-- drop the flags indexed before as if they were features (bitbake.conf's
-- [vardepvalue] and documentation.conf's [doc] on every recipe, and the other
-- BitBake flags), and derive the build dependencies of the recipes concerned
-- again from the rows that stay (a recipe's own [doc] may have some).
-- Keep this file and ../sqlite/00009_package_config_features.sql in step.
DELETE FROM recipe_package_config_deps WHERE recipe_id IN (
    SELECT recipe_id FROM recipe_package_configs WHERE build_deps <> '' AND feature IN ('doc',
    'vardeps', 'vardepsexclude', 'vardepvalue', 'vardepvalueexclude', 'export', 'unexport', 'defaultval', 'type',
    'func', 'fakeroot', 'task', 'noexec', 'nostamp', 'dirs', 'cleandirs', 'lockfiles', 'umask',
    'depends', 'rdepends', 'deptask', 'rdeptask', 'recrdeptask', 'recideptask',
    'prefuncs', 'postfuncs', 'file-checksums', 'stamp-extra-info', 'number_threads', 'eventmask', 'filename', 'lineno'));
DELETE FROM recipe_package_configs WHERE feature IN ('doc',
    'vardeps', 'vardepsexclude', 'vardepvalue', 'vardepvalueexclude', 'export', 'unexport', 'defaultval', 'type',
    'func', 'fakeroot', 'task', 'noexec', 'nostamp', 'dirs', 'cleandirs', 'lockfiles', 'umask',
    'depends', 'rdepends', 'deptask', 'rdeptask', 'recrdeptask', 'recideptask',
    'prefuncs', 'postfuncs', 'file-checksums', 'stamp-extra-info', 'number_threads', 'eventmask', 'filename', 'lineno');
INSERT INTO recipe_package_config_deps (recipe_id, name)
SELECT DISTINCT recipe_id, dep FROM recipe_package_configs c, unnest(string_to_array(build_deps, ' ')) AS dep
WHERE dep <> '' AND NOT EXISTS (SELECT 1 FROM recipe_package_config_deps d WHERE d.recipe_id = c.recipe_id);

-- +goose Down
-- The rows come back with the next full parse of each layer.
