; Names a Rust file uses: called functions, methods and macros, fields, and types. The extractor
; drops the identifiers that name a definition, so every type identifier may be captured.

(call_expression function: (identifier) @reference.call)

(call_expression function: (field_expression field: (field_identifier) @reference.call))

(call_expression function: (scoped_identifier name: (identifier) @reference.call))

(call_expression function: (generic_function function: (identifier) @reference.call))

(macro_invocation macro: (identifier) @reference.call)

(field_expression field: (field_identifier) @reference.attribute)

(type_identifier) @reference.type

; `Type::function()` and `Enum::Variant` name the type through a path.
((scoped_identifier path: (identifier) @reference.type)
  (#match? @reference.type "^[A-Z]"))

; Macro arguments stay unparsed token trees; `f(...)` and `.name` inside them are still uses.
(token_tree (identifier) @reference.call . (token_tree))

(token_tree "." . (identifier) @reference.attribute)
