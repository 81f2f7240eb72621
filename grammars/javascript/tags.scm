; JavaScript-only definitions (the shared ones are in grammars/ecma/tags.scm).

(class_body
  (field_definition property: [(property_identifier) (private_property_identifier)] @name) @definition.field)
