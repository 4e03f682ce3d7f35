#include "onnx_impl.h"

const HessaOnnxOp HessaOnnxOpsPointwise[]    = {{NULL}};
const int         HessaOnnxOpsPointwiseCount = 0;
