; JavaScript-only references: superclasses (JSX components come from grammars/jsx/).

(class_heritage (identifier) @reference.type)

(class_heritage (member_expression property: (property_identifier) @reference.type))
