-- +goose Up
-- PACKAGECONFIG rows are the recipe's features only (bitbake.PackageConfigFeature):
-- drop the flags indexed before as if they were features (bitbake.conf's
-- [vardepvalue] and documentation.conf's [doc] on every recipe, and the other
-- BitBake flags), and derive the build dependencies of the recipes concerned
-- again from the rows that stay (a recipe's own [doc] may have some).
-- Keep this file and ../postgres/00009_package_config_features.sql in step.
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
WITH RECURSIVE split(recipe_id, rest, word) AS (
    SELECT recipe_id, build_deps || ' ', '' FROM recipe_package_configs c WHERE build_deps <> ''
        AND NOT EXISTS (SELECT 1 FROM recipe_package_config_deps d WHERE d.recipe_id = c.recipe_id)
    UNION ALL
    SELECT recipe_id, substr(rest, instr(rest, ' ') + 1), substr(rest, 1, instr(rest, ' ') - 1) FROM split WHERE rest <> ''
)
SELECT DISTINCT recipe_id, word FROM split WHERE word <> '';

-- +goose Down
-- The rows come back with the next full parse of each layer.
