; Definitions in Ruby. Every `def` is a method; one outside any class or module is reported as a
; function by the extractor.

(class name: (constant) @name) @definition.class

(class name: (scope_resolution name: (constant) @name)) @definition.class

(module name: (constant) @name) @definition.module

(module name: (scope_resolution name: (constant) @name)) @definition.module

(method name: (_) @name) @definition.method

(singleton_method name: (_) @name) @definition.method

(assignment left: (constant) @name) @definition.constant
