/* Private to src/objective: what onnx_ops_linear.c needs from onnx_ops_attention.c.
 * MatMul is one ONNX op with two kernels: the GEMM against a 2-D right operand that is not
 * batched (onnx_ops_linear.c) and the batched product of 3-D/4-D operands with broadcast
 * leading dims (onnx_ops_attention.c, Q K^T and attn V in attention). MatMul's infer picks
 * one; the kernels of the table entry dispatch on the first int of node->op_data. */
#ifndef HESSA_ONNX_ATTENTION_H
#define HESSA_ONNX_ATTENTION_H

#include "onnx_impl.h"

#define HESSA_ONNX_MATMUL_GEMM 0    /* LinData (onnx_ops_linear.c) */
#define HESSA_ONNX_MATMUL_BATCHED 1 /* BatchedMatMul (onnx_ops_attention.c) */

/* Does MatMul need the batched kernel (a batched right operand, or a right operand of rank
 * other than 2)? */
int            HessaOnnxMatMulIsBatched(const HessaOnnxGraph *g, const HessaOnnxNode *node);
void           HessaOnnxBatchedMatMulInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st);
PetscErrorCode HessaOnnxBatchedMatMulForward(HessaOnnxKernel *K);
PetscErrorCode HessaOnnxBatchedMatMulBackward(HessaOnnxKernel *K);
PetscErrorCode HessaOnnxBatchedMatMulJvp(HessaOnnxKernel *K);
PetscErrorCode HessaOnnxBatchedMatMulSot(HessaOnnxKernel *K);

/* The kernels of the attention family (Where, Slice, Split, Squeeze, Unsqueeze, Expand). */
extern const HessaOnnxOp HessaOnnxOpsAttention[];
extern const int         HessaOnnxOpsAttentionCount;

#endif
