/* Helpers shared by the ONNX loader, the executor and the kernels' infer functions:
 * attribute look-up, node labels for messages, value shapes. Nothing here allocates. */
#include "onnx_impl.h"
#include <stdio.h>
#include <string.h>

/* HessaOnnxAttrGet - the attribute `name` of a node, or NULL when the node has none.
 * Not collective. */
const HessaOnnxAttr *HessaOnnxAttrGet(const HessaOnnxNode *node, const char name[])
{
  for (int i = 0; i < node->n_attr; i++)
    if (!strcmp(node->attr[i].name, name)) return &node->attr[i];
  return NULL;
}

/* HessaOnnxAttrInt - an INT attribute's value, dflt when absent (or of another type:
 * infer functions that must refuse a wrong type check HessaOnnxAttrGet first). */
int64_t HessaOnnxAttrInt(const HessaOnnxNode *node, const char name[], int64_t dflt)
{
  const HessaOnnxAttr *a = HessaOnnxAttrGet(node, name);
  return a && a->type == HESSA_ONNX_ATTR_INT ? a->i : dflt;
}

/* HessaOnnxAttrFloat - a FLOAT attribute's value (an INT one converted), dflt when absent. */
double HessaOnnxAttrFloat(const HessaOnnxNode *node, const char name[], double dflt)
{
  const HessaOnnxAttr *a = HessaOnnxAttrGet(node, name);
  if (!a) return dflt;
  if (a->type == HESSA_ONNX_ATTR_FLOAT) return a->f;
  if (a->type == HESSA_ONNX_ATTR_INT) return (double)a->i;
  return dflt;
}

/* HessaOnnxNodeLabel - "node 'conv1' (Conv)", or "node #3 (Conv)" (its position in the
 * model file) when the model does not name it, into buf; returns buf. */
const char *HessaOnnxNodeLabel(const HessaOnnxNode *node, char *buf, size_t len)
{
  if (node->name && node->name[0])
    snprintf(buf, len, "node '%s' (%s)", node->name, node->op_type ? node->op_type : "?");
  else
    snprintf(buf, len, "node #%d (%s)", node->file_index, node->op_type ? node->op_type : "?");
  return buf;
}

/* HessaOnnxValueSetShape - set v's rank, dims and size. When batched, dims[0] becomes
 * HESSA_ONNX_BATCH whatever was passed and size counts the elements of one sample;
 * otherwise size is the product of all dims (1 for a scalar). ndim is clamped to
 * [0, HESSA_ONNX_MAX_DIMS]; dims must be >= 0 (infer functions check before calling). */
void HessaOnnxValueSetShape(HessaOnnxValue *v, int ndim, const int64_t *dims, int batched)
{
  int64_t size = 1;

  if (ndim < 0) ndim = 0;
  if (ndim > HESSA_ONNX_MAX_DIMS) ndim = HESSA_ONNX_MAX_DIMS;
  v->ndim    = ndim;
  v->batched = batched && ndim > 0;
  for (int d = 0; d < ndim; d++) {
    v->dims[d] = dims[d];
    if (d == 0 && v->batched) {
      v->dims[0] = HESSA_ONNX_BATCH;
      continue;
    }
    size *= dims[d];
  }
  for (int d = ndim; d < HESSA_ONNX_MAX_DIMS; d++) v->dims[d] = 0;
  v->size = size;
}
