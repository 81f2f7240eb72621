; Java imports as written, without `.*`: `java.util.List`, `java.util`.

(import_declaration [(identifier) (scoped_identifier)] @import)
