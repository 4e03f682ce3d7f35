/* The ONNX op table: one lookup over the kernel families (linear, pointwise,
 * shape, spatial, attention), each defined in its own onnx_ops_*.c file. */
#include "onnx_impl.h"
#include "onnx_attention.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const HessaOnnxOp *ops;
  const int         *count;
} OpFamily;

static const OpFamily families[] = {
    {HessaOnnxOpsLinear, &HessaOnnxOpsLinearCount},   {HessaOnnxOpsPointwise, &HessaOnnxOpsPointwiseCount}, {HessaOnnxOpsShape, &HessaOnnxOpsShapeCount},
    {HessaOnnxOpsSpatial, &HessaOnnxOpsSpatialCount}, {HessaOnnxOpsNorm, &HessaOnnxOpsNormCount},           {HessaOnnxOpsAttention, &HessaOnnxOpsAttentionCount},
};

/* HessaOnnxOpFind - the kernels of an ONNX op type (case-sensitive, as ONNX spells it),
 * or NULL when hessa does not support it. Not collective. */
const HessaOnnxOp *HessaOnnxOpFind(const char op_type[])
{
  if (!op_type) return NULL;
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
    for (int k = 0; k < *families[f].count; k++)
      if (families[f].ops[k].op_type && !strcmp(families[f].ops[k].op_type, op_type)) return &families[f].ops[k];
  return NULL;
}

static int CompareNames(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* HessaOnnxSupportedOps - "Add, AveragePool, ..." (sorted) for messages. Not collective;
 * the string is built on the first call and lives until the process ends. */
const char *HessaOnnxSupportedOps(void)
{
  static char list[2048];
  const char *names[256];
  int         n   = 0;
  size_t      len = 0;

  if (list[0]) return list;
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
    for (int k = 0; k < *families[f].count && n < 256; k++)
      if (families[f].ops[k].op_type) names[n++] = families[f].ops[k].op_type;
  qsort(names, (size_t)n, sizeof names[0], CompareNames);
  for (int k = 0; k < n; k++) {
    int w = snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", names[k]);
    if (w < 0 || (size_t)w >= sizeof list - len) break;
    len += (size_t)w;
  }
  if (!n) snprintf(list, sizeof list, "(none)");
  return list;
}
