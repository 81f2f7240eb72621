; Namespaces a C# file uses: `using System.Text;`, `using static System.Math;`, and the target of
; an alias (`using Json = Newtonsoft.Json;` gives `Newtonsoft.Json`).

(using_directive [(identifier) (qualified_name)] @import .)
