package bitbake

// Version names the parser's output and semantics. Bump it whenever what
// a recipe parses to may change, so that stored indexes are re-parsed in
// full on their next update.
const Version = "2"
