; Definitions in C#. Properties and events are fields; `const` fields are constants.

(class_declaration name: (identifier) @name) @definition.class

(record_declaration name: (identifier) @name) @definition.class

(struct_declaration name: (identifier) @name) @definition.struct

(interface_declaration name: (identifier) @name) @definition.interface

(enum_declaration name: (identifier) @name) @definition.enum

(delegate_declaration name: (identifier) @name) @definition.type

(namespace_declaration name: (_) @name) @definition.module

(file_scoped_namespace_declaration name: (_) @name) @definition.module

(method_declaration name: (identifier) @name) @definition.method

(constructor_declaration name: (identifier) @name) @definition.method

(destructor_declaration name: (identifier) @name) @definition.method

(local_function_statement name: (identifier) @name) @definition.function

(enum_member_declaration name: (identifier) @name) @definition.constant

((field_declaration
   (modifier) @_modifier
   (variable_declaration (variable_declarator name: (identifier) @name))) @definition.constant
  (#eq? @_modifier "const"))

(field_declaration
  (variable_declaration (variable_declarator name: (identifier) @name))) @definition.field

(event_field_declaration
  (variable_declaration (variable_declarator name: (identifier) @name))) @definition.field

(property_declaration name: (identifier) @name) @definition.field

(event_declaration name: (identifier) @name) @definition.field
