; Names a Go file uses: called functions and methods, selected fields, and types (the extractor
; drops the identifiers that name a definition, so every type identifier may be captured).

(call_expression function: (identifier) @reference.call)

(call_expression function: (selector_expression field: (field_identifier) @reference.call))

(selector_expression field: (field_identifier) @reference.attribute)

(type_identifier) @reference.type
