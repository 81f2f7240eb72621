; Definitions shared by JavaScript, TypeScript and TSX (read before each language's own file).
; Only node types and fields that all three grammars have may appear here.

(function_declaration name: (identifier) @name) @definition.function

(generator_function_declaration name: (identifier) @name) @definition.function

(class_declaration name: (_) @name) @definition.class

(class_body (method_definition name: (_) @name) @definition.method)

; Top-level `const f = () => ...` / `function` expressions are functions; the declaration is the
; definition so that its signature keeps `const`/`async`.
(program
  (_
    (variable_declarator
      name: (identifier) @name
      value: [(arrow_function) (function_expression) (generator_function)])) @definition.function)

(program
  (export_statement
    declaration: (_
      (variable_declarator
        name: (identifier) @name
        value: [(arrow_function) (function_expression) (generator_function)])) @definition.function))

; CommonJS: `exports.f = function () {}`, `module.exports.f = () => {}`.
(program
  (expression_statement
    (assignment_expression
      left: (member_expression property: (property_identifier) @name)
      right: [(arrow_function) (function_expression)])) @definition.function)

; Other top-level bindings; UPPER_CASE ones are constants by convention.
(program
  [(lexical_declaration (variable_declarator name: (identifier) @name))
   (variable_declaration (variable_declarator name: (identifier) @name))] @definition.constant
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

(program
  (export_statement
    declaration: (lexical_declaration (variable_declarator name: (identifier) @name)) @definition.constant)
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

(program
  [(lexical_declaration (variable_declarator name: (identifier) @name))
   (variable_declaration (variable_declarator name: (identifier) @name))] @definition.variable)

(program
  (export_statement
    declaration: (lexical_declaration (variable_declarator name: (identifier) @name)) @definition.variable))
