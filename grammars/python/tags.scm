; Definitions in Python. Methods are functions whose nearest enclosing definition is a class;
; the extractor decides that from the tree, so one pattern serves both.

; Decorated definitions are matched from their decorators as well: indexing stops looking
; below a depth limit (`LanguageSpec.max_depth`), and a decorated method of a nested class
; sits one level deeper than its decorators.
(decorated_definition
  definition: (class_definition
    name: (identifier) @name
    body: (block . (expression_statement . (string) @doc)?)) @definition.class)

(decorated_definition
  definition: (function_definition
    name: (identifier) @name
    body: (block . (expression_statement . (string) @doc)?)) @definition.function)

(class_definition
  name: (identifier) @name
  body: (block . (expression_statement . (string) @doc)?)) @definition.class

(function_definition
  name: (identifier) @name
  body: (block . (expression_statement . (string) @doc)?)) @definition.function

(type_alias_statement
  left: (type (identifier) @name)) @definition.type

; Module-level assignments: constants when their names are UPPER_CASE (`_*[A-Z][A-Z0-9_]*`),
; by convention, else variables. The extractor tests the name (`definition.assignment`): one
; pattern costs the query less than a pair split by `#match?` and `#not-match?`.
(module
  (expression_statement
    (assignment left: (identifier) @name) @definition.assignment))

; Class attributes (`sides: int = 4`, `name: str`).
(class_definition
  body: (block
    (expression_statement
      (assignment left: (identifier) @name) @definition.field)))
