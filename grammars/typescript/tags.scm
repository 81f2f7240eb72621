; TypeScript definitions beyond the ones shared with JavaScript (grammars/ecma/tags.scm).
; TSX reads this file too.

(abstract_class_declaration name: (type_identifier) @name) @definition.class

(interface_declaration name: (type_identifier) @name) @definition.interface

(type_alias_declaration name: (type_identifier) @name) @definition.type

(enum_declaration name: (identifier) @name) @definition.enum

(function_signature name: (identifier) @name) @definition.function

(internal_module name: (_) @name) @definition.module

(module name: (_) @name) @definition.module

(interface_body (method_signature name: (_) @name) @definition.method)

(interface_body (property_signature name: (_) @name) @definition.field)

(class_body (abstract_method_signature name: (_) @name) @definition.method)

(class_body (method_signature name: (_) @name) @definition.method)

(class_body (public_field_definition name: (_) @name) @definition.field)
