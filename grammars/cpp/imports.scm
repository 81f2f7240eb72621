; C++ adds `using namespace std;` and `import <module>;` to C's includes (read first).

(using_declaration "namespace" [(identifier) (qualified_identifier)] @import)
