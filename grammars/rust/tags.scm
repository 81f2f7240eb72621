; Definitions in Rust. Functions inside an `impl` or a trait become methods: the `impl` block is
; captured as a @scope named after its type (`impl Trait for Type` belongs to Type).

(function_item name: (identifier) @name) @definition.function

(function_signature_item name: (identifier) @name) @definition.function

(struct_item name: (type_identifier) @name) @definition.struct

(union_item name: (type_identifier) @name) @definition.struct

(enum_item name: (type_identifier) @name) @definition.enum

(trait_item name: (type_identifier) @name) @definition.trait

(type_item name: (type_identifier) @name) @definition.type

(const_item name: (identifier) @name) @definition.constant

(static_item name: (identifier) @name) @definition.constant

(macro_definition name: (identifier) @name) @definition.macro

(mod_item name: (identifier) @name) @definition.module

(field_declaration_list (field_declaration name: (field_identifier) @name) @definition.field)

(enum_variant_list (enum_variant name: (identifier) @name) @definition.constant)

(impl_item
  type: [(type_identifier) @scope.name
         (generic_type type: (type_identifier) @scope.name)
         (scoped_type_identifier name: (type_identifier) @scope.name)]) @scope
