/* Stub of the graph helpers (the onnx-load branch owns this file and replaces it): just
 * enough for the kernels of the other families to build and be tested alone. */
#include "onnx_impl.h"
#include <stdio.h>
#include <string.h>

const HessaOnnxAttr *HessaOnnxAttrGet(const HessaOnnxNode *node, const char name[])
{
  for (int a = 0; a < node->n_attr; a++)
    if (!strcmp(node->attr[a].name, name)) return &node->attr[a];
  return NULL;
}

int64_t HessaOnnxAttrInt(const HessaOnnxNode *node, const char name[], int64_t dflt)
{
  const HessaOnnxAttr *a = HessaOnnxAttrGet(node, name);
  return a && a->type == HESSA_ONNX_ATTR_INT ? a->i : dflt;
}

double HessaOnnxAttrFloat(const HessaOnnxNode *node, const char name[], double dflt)
{
  const HessaOnnxAttr *a = HessaOnnxAttrGet(node, name);
  return a && a->type == HESSA_ONNX_ATTR_FLOAT ? a->f : dflt;
}

const char *HessaOnnxNodeLabel(const HessaOnnxNode *node, char *buf, size_t len)
{
  if (node->name && node->name[0])
    snprintf(buf, len, "node '%s' (%s)", node->name, node->op_type);
  else
    snprintf(buf, len, "node (%s)", node->op_type);
  return buf;
}

void HessaOnnxValueSetShape(HessaOnnxValue *v, int ndim, const int64_t *dims, int batched)
{
  v->ndim    = ndim;
  v->batched = batched;
  v->size    = 1;
  for (int d = 0; d < ndim; d++) {
    v->dims[d] = batched && d == 0 ? HESSA_ONNX_BATCH : dims[d];
    if (!(batched && d == 0)) v->size *= dims[d];
  }
}
