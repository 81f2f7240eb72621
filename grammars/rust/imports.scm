; Rust `use` paths as written (`std::fmt`; the common prefix of a `{...}` list) and extern crates.

(use_declaration argument: [(identifier) (scoped_identifier)] @import)

(use_declaration argument: (scoped_use_list path: (_) @import))

(use_declaration argument: (use_as_clause path: (_) @import))

(use_declaration argument: (use_wildcard [(identifier) (scoped_identifier)] @import))

(extern_crate_declaration name: (identifier) @import)
