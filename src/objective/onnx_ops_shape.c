#include "onnx_impl.h"

const HessaOnnxOp HessaOnnxOpsShape[]    = {{NULL}};
const int         HessaOnnxOpsShapeCount = 0;
