/* Temporary stub of the op table (owned by onnx-exec): no op is supported yet, so the
 * loader refuses every runtime node. The owner's version replaces this file. */
#include "onnx_impl.h"

const HessaOnnxOp *HessaOnnxOpFind(const char op_type[])
{
  (void)op_type;
  return NULL;
}

const char *HessaOnnxSupportedOps(void)
{
  return "(none yet)";
}
