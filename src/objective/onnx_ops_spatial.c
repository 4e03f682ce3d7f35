#include "onnx_impl.h"

const HessaOnnxOp HessaOnnxOpsSpatial[]    = {{NULL}};
const int         HessaOnnxOpsSpatialCount = 0;
