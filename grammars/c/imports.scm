; Included headers as written, without quotes or angle brackets: `stdio.h`, `geometry.h`.

(preproc_include path: (_) @import)
