; C++ definitions beyond C's (grammars/c/tags.scm is read first). Out-of-class definitions
; (`double Circle::area() {...}`) name their class explicitly as @container.

(class_specifier name: (type_identifier) @name body: (_)) @definition.class

(class_specifier name: (template_type name: (type_identifier) @name) body: (_)) @definition.class

(struct_specifier name: (template_type name: (type_identifier) @name) body: (_)) @definition.struct

(namespace_definition name: (_) @name) @definition.module

(alias_declaration name: (type_identifier) @name) @definition.type

(concept_definition name: (identifier) @name) @definition.type

; Methods written inside the class body, with or without a body.
(function_definition
  declarator: (function_declarator
    declarator: [(field_identifier) (destructor_name) (operator_name)] @name)) @definition.method

(function_definition
  declarator: (reference_declarator
    (function_declarator declarator: [(field_identifier) (operator_name)] @name))) @definition.method

(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator declarator: (field_identifier) @name))) @definition.method

(field_declaration
  declarator: (function_declarator
    declarator: [(field_identifier) (destructor_name) (operator_name)] @name)) @definition.method

(field_declaration
  declarator: (pointer_declarator
    declarator: (function_declarator declarator: (field_identifier) @name))) @definition.method

(declaration
  declarator: (function_declarator
    declarator: [(destructor_name) (operator_name)] @name)) @definition.method

; Constructors declared in the class: `Shape(int id);`.
(field_declaration_list
  (declaration
    declarator: (function_declarator declarator: (identifier) @name)) @definition.method)

; Out-of-class definitions: `Circle::area`, `geo::Circle::area`, `Box<T>::area`.
(function_definition
  declarator: (_
    declarator: (qualified_identifier
      scope: [(namespace_identifier) @container
              (template_type name: (type_identifier) @container)]
      name: [(identifier) (destructor_name) (operator_name)] @name))) @definition.method

(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier
      name: (qualified_identifier
        scope: [(namespace_identifier) @container
                (template_type name: (type_identifier) @container)]
        name: [(identifier) (destructor_name) (operator_name)] @name)))) @definition.method

(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier
      scope: [(namespace_identifier) @container
              (template_type name: (type_identifier) @container)]
      name: [(identifier) (destructor_name) (operator_name)] @name))) @definition.method

; Namespace-level variables.
(declaration_list
  (declaration
    declarator: [(init_declarator declarator: (identifier) @name)
                 (identifier) @name]) @definition.variable)
