package store

// PGRecipeDocument exposes the indexed expression to tests.
const PGRecipeDocument = pgRecipeDocument
