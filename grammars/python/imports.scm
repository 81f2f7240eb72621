; Modules a Python file imports, as written: `os.path`, `.shapes`, `..`.

(import_statement name: (dotted_name) @import)

(import_statement name: (aliased_import name: (dotted_name) @import))

(import_from_statement module_name: (_) @import)

(future_import_statement) @import

; `from . import events, constants` and `from app import models`: the names imported from a
; package may be its modules. Each is recorded joined to the package (`.events`, `app.models`);
; the extractor keeps those of a relative package, and the lower-case ones of another (classes
; and constants are not modules).
(import_from_statement
  module_name: (_) @import.package
  name: [(dotted_name) @import.member (aliased_import name: (dotted_name) @import.member)])
