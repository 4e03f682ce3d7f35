/* Private to src/objective: the ONNX graph (what onnx_load.c builds from a .onnx file)
 * and the contract of the operator kernels (onnx_ops_*.c) that the executor
 * (onnx_exec.c) runs.
 *
 * The graph after loading
 *   Every tensor the model names is a HessaOnnxValue. Values are of four kinds:
 *   - CONST:   initializers that are not parameters (BatchNorm running statistics,
 *              shapes, axes) and everything folded from constants at load
 *              (Shape/Gather/Unsqueeze/Concat/Slice/Cast/Constant of constants);
 *   - PARAM:   the float initializers that feed differentiable inputs: theta. They
 *              are stored in graph order in the flat parameter vector (offset);
 *   - INPUT:   the graph input the data rows feed (one per model);
 *   - RUNTIME: produced by a node at run time.
 *   A value is `batched` when it depends on the data sample: its dims[0] is the batch
 *   (HESSA_ONNX_BATCH) and it is stored per sample, rows of `size` doubles. A value is
 *   `differentiable` when it depends on theta. A runtime value that is not batched but
 *   is differentiable (e.g. Transpose of a weight) is computed once per theta, before
 *   the samples (the "parameter phase"), and behaves like a parameter for the nodes of
 *   the sample phase.
 *   Nodes are stored in topological order; folded nodes are removed. Every remaining
 *   node has an op in the op table (HessaOnnxOpFind).
 *
 * Shapes of shape tensors
 *   Shape(x) of a batched x is an integer constant whose entry at x's ONNX batch axis is
 *   symbolic: c * N for a positive integer c (c = 1 unless the batch is merged with other
 *   axes, as in nn.MultiheadAttention's [T, N*H, D]), encoded as HessaOnnxBatchEntry(c) =
 *   HESSA_ONNX_BATCH + (c - 1) (so N itself is HESSA_ONNX_BATCH). Folding keeps such an entry
 *   (Gather, Slice, Concat, Unsqueeze, integer Cast carry it; Mul by a positive constant and
 *   Div by a divisor of c scale it); adding to it, multiplying it by itself or dividing it
 *   inexactly is refused by name. Reshape reads it as "the batch times c" and the layout layer
 *   (onnx_layout.c) places the batch of the result. A graph exported with a fixed batch size
 *   B treats dims[0] of the input as the batch as well; a Reshape target whose first entry is
 *   B, 0, -1 or HESSA_ONNX_BATCH keeps the batch.
 *
 * Layouts (onnx_layout.c)
 *   PyTorch's attention moves the batch (x.transpose(0, 1)) and merges it with the heads
 *   (reshape to [T, N*H, D]) or with the sequence ([T*N, E]). Kernels never see that: before
 *   each node's infer the layout layer rewrites the node's axis attributes and inputs from
 *   ONNX axes into per-sample axes (a Transpose that moves the batch becomes a per-sample
 *   Transpose, a Reshape that merges it a per-sample Reshape), and after it records the
 *   outputs' layouts. Ops it cannot translate refuse a moved batch by name.
 *
 * The passes (m samples of a chunk, b directions of a block)
 *   forward      y = f(x)                                           rows: m
 *   backward     dx += J^T dy      (dy rows m*nb; nb = 1 for the gradient, b for the
 *                                   R-backward and the GGN)
 *   jvp          ty = J tx         (tangent rows m*b, sample-major, direction-minor:
 *                                   row i*b + j is sample i, direction j)
 *   sot          dx += sum_k (d^2 f / dx dx_k)[dy, tx_k]  (second-order term of the
 *                                   R-backward: dy is the first-order adjoint, rows m;
 *                                   the result rows m*b); NULL for ops that are linear
 *                                   in their differentiable inputs.
 *   Hv  = backward(R dy, nb = b) + sot  through every node, last node first.
 *   GGN = backward(R dy, nb = b) only (no sot): J^T H_loss J v.
 *   Layouts for an input that is NOT batched (parameters, parameter-phase values,
 *   constants): value [size]; tangent [b][size] (one per direction); adjoint [nb][size]
 *   ACCUMULATED over the samples (the kernel adds each sample's contribution).
 *   Inputs that are constant have tx == NULL and dx == NULL. An output is batched when
 *   any input is; in the parameter phase (no batched input) kernels run with m = 1. One
 *   op makes a batched output of no batched input: Expand of a parameter to the batch (a
 *   ViT's class token); its infer sets node->phase = 1, and it runs in the sample phase
 *   with m samples, reading the parameter's [size] value and [b][size] tangent for every
 *   sample and adding every sample's adjoint into its [nb][size] accumulator.
 *
 * Kernels never allocate per call (scratch comes from HessaOnnxScratch), never call MPI,
 * and use BLAS level 3 for the heavy work.
 */
#ifndef HESSA_ONNX_IMPL_H
#define HESSA_ONNX_IMPL_H

#include <hessa/objective.h>
#include <stdint.h>

#define HESSA_ONNX_MAX_DIMS 8
#define HESSA_ONNX_BATCH INT64_C(-4611686018427387904)     /* the symbolic batch entry of a shape: N */
#define HESSA_ONNX_BATCH_MAX_FACTOR INT64_C(1099511627776) /* c*N entries: 1 <= c < this */
/* Whether a shape entry is c * N, its c, and the entry of c * N. */
static inline int HessaOnnxIsBatchEntry(int64_t e)
{
  return e >= HESSA_ONNX_BATCH && e < HESSA_ONNX_BATCH + HESSA_ONNX_BATCH_MAX_FACTOR - 1;
}
static inline int64_t HessaOnnxBatchFactor(int64_t e)
{
  return e - HESSA_ONNX_BATCH + 1;
}
static inline int64_t HessaOnnxBatchEntry(int64_t c)
{
  return HESSA_ONNX_BATCH + (c - 1);
}

typedef enum { HESSA_ONNX_CONST, HESSA_ONNX_PARAM, HESSA_ONNX_INPUT, HESSA_ONNX_RUNTIME } HessaOnnxValueKind;

typedef struct {
  char              *name; /* the ONNX name (malloc'd) */
  HessaOnnxValueKind kind;
  int                elem_type; /* onnx TensorProto.DataType of the source: 1 float, 11 double, 7 int64, 6 int32, 9 bool */
  int                is_int;    /* integer or bool data: in ivalue, not value (an integer INPUT, token ids, holds
                                   doubles with integer values like every batched value) */
  int      ndim;                /* full rank, the batch included when batched */
  int64_t  dims[HESSA_ONNX_MAX_DIMS];
  int      batched;        /* dims[0] is the batch; stored as rows of `size` */
  int      differentiable; /* depends on theta */
  int64_t  size;           /* elements per sample (batched) or in total */
  double  *value;          /* CONST float data, PARAM initial values (malloc'd); else NULL */
  int64_t *ivalue;         /* CONST integer data (malloc'd); else NULL */
  PetscInt offset;         /* PARAM: first index in theta; else -1 */
  int      producer;       /* index of the producing node, -1 for initializers and inputs */
  /* The ONNX view of a batched value (onnx_layout.c): where the ONNX tensor holds the batch.
   * lay_axis = 0, lay_ka = 0: ONNX axis 0 is the batch, dims are the ONNX dims. Otherwise the
   * ONNX tensor has the batch at axis lay_axis, alone (lay_ka = 0: the per-sample dims are the
   * ONNX dims without that axis) or merged (lay_ka, lay_kb > 0: ONNX dims[lay_axis] =
   * lay_ka * N * lay_kb, the batch index in the middle; the per-sample dims are the ONNX dims
   * with that entry replaced by lay_ka * lay_kb). Either way one sample's row is the ONNX
   * tensor's sample n in ONNX order, and kernels see dims = [N, per-sample dims]. */
  int     lay_axis;
  int64_t lay_ka, lay_kb;
} HessaOnnxValue;

typedef enum { HESSA_ONNX_ATTR_FLOAT, HESSA_ONNX_ATTR_INT, HESSA_ONNX_ATTR_STRING, HESSA_ONNX_ATTR_FLOATS, HESSA_ONNX_ATTR_INTS, HESSA_ONNX_ATTR_TENSOR, HESSA_ONNX_ATTR_OTHER } HessaOnnxAttrType;

typedef struct {
  char             *name;
  HessaOnnxAttrType type;
  double            f;
  int64_t           i;
  char             *s;      /* STRING (malloc'd, NUL-terminated) */
  int64_t           n;      /* FLOATS / INTS count */
  double           *floats; /* malloc'd */
  int64_t          *ints;   /* malloc'd */
  int               tensor; /* TENSOR: index of a CONST value the loader made of it */
} HessaOnnxAttr;

struct HessaOnnxOp;

typedef struct {
  char                     *name;    /* node name ("" when the model has none: messages use "#index") */
  char                     *op_type; /* e.g. "Conv" */
  const struct HessaOnnxOp *op;      /* the kernels (NULL only for nodes folded at load) */
  int                       n_in, n_out;
  int                      *in;  /* value indices; -1 for an absent optional input */
  int                      *out; /* value indices */
  int                       n_attr;
  HessaOnnxAttr            *attr;
  void                     *op_data;        /* what the op's infer parsed (attributes, shapes); free()d with the graph */
  size_t                    aux_per_sample; /* doubles of per-chunk aux the forward keeps for the other passes */
  int                       phase;          /* 0: parameter phase (no batched input), 1: sample phase */
  int                       file_index;     /* position in the model file's node list (messages) */
} HessaOnnxNode;

typedef struct {
  char            path[PETSC_MAX_PATH_LEN]; /* the file, for messages */
  int64_t         opset;                    /* default-domain opset version */
  int             n_values, n_nodes;
  HessaOnnxValue *values;
  HessaOnnxNode  *nodes;          /* topological order */
  int             input;          /* the data input value */
  int             output;         /* the model's output (logits or predictions) */
  PetscInt        n_params;       /* length of theta */
  int             n_param_values; /* PARAM values in graph order ... */
  int            *param_values;   /* ... their value indices */
} HessaOnnxGraph;

/* Everything a kernel call sees. Entries for absent inputs are NULL. */
typedef struct {
  const HessaOnnxGraph *g;
  const HessaOnnxNode  *node;
  PetscInt              m;   /* samples (1 in the parameter phase) */
  PetscInt              nb;  /* backward: rows per sample of dy/dx (1 or b); jvp/sot: b */
  const double        **x;   /* [n_in] input values (batched: [m][size]; else [size]) */
  double              **y;   /* [n_out] output values (written by forward, read by the others) */
  const double        **tx;  /* [n_in] jvp/sot: input tangents (NULL: constant input) */
  double              **ty;  /* [n_out] jvp: output tangents [m*b][size] (overwrite) */
  const double        **dy;  /* [n_out] backward: [m*nb][size]; sot: first-order adjoint [m][size] */
  double              **dx;  /* [n_in] backward/sot: ADD to (NULL: not wanted) */
  double               *aux; /* [m * node->aux_per_sample] kept from the forward of this chunk, sample-major
                                (sample i at i * aux_per_sample): the product passes may run on a sub-range
                                of the chunk's samples and then pass values, adjoints and aux from its first */
  void *scratch_owner;       /* pass to HessaOnnxScratch */
} HessaOnnxKernel;

typedef struct HessaOnnxOp {
  const char *op_type;
  /* Load time: check attributes and input kinds/shapes, set the outputs' ndim/dims/
   * batched/differentiable/size (and is_int/elem_type), fill node->op_data and
   * node->aux_per_sample. A graph it cannot run: st set with a message naming the node. */
  void (*infer)(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st);
  PetscErrorCode (*forward)(HessaOnnxKernel *K);
  PetscErrorCode (*backward)(HessaOnnxKernel *K);
  PetscErrorCode (*jvp)(HessaOnnxKernel *K);
  PetscErrorCode (*sot)(HessaOnnxKernel *K); /* NULL: linear in the differentiable inputs */
  uint32_t constant_inputs;                  /* bit i set: input i is never differentiable (BatchNorm's mean and var,
                                                Reshape's shape, Pad's pads): an initializer there is a CONST, not a
                                                parameter. Every other float initializer input is a parameter. */
} HessaOnnxOp;

/* ---- the op table (onnx_ops.c): every supported op ---- */
const HessaOnnxOp *HessaOnnxOpFind(const char op_type[]);
/* "Add, AveragePool, ..." for messages. */
const char *HessaOnnxSupportedOps(void);
/* Kernels of each family (each file defines its table and its count). */
extern const HessaOnnxOp HessaOnnxOpsLinear[]; /* onnx_ops_linear.c: Gemm, MatMul, Add, Sub, Mul, Div */
extern const int         HessaOnnxOpsLinearCount;
extern const HessaOnnxOp HessaOnnxOpsPointwise[]; /* onnx_ops_pointwise.c: Relu, LeakyRelu, Tanh, Sigmoid, Softplus, Erf, Elu, Identity, Dropout, Clip,
                                                     HardSigmoid, HardSwish, Exp, Log, Neg, Reciprocal, Sqrt, Pow */
extern const int         HessaOnnxOpsPointwiseCount;
extern const HessaOnnxOp HessaOnnxOpsShape[]; /* onnx_ops_shape.c: Flatten, Reshape, Transpose, Pad, Concat */
extern const int         HessaOnnxOpsShapeCount;
extern const HessaOnnxOp HessaOnnxOpsSpatial[]; /* onnx_ops_spatial.c: Conv, BatchNormalization, MaxPool, AveragePool, GlobalAveragePool */
extern const int         HessaOnnxOpsSpatialCount;
extern const HessaOnnxOp HessaOnnxOpsEmbedding[]; /* onnx_ops_embedding.c: Gather (embedding tables, constant selections) */
extern const int         HessaOnnxOpsEmbeddingCount;
/* onnx_ops_embedding.c: token ids of n samples x [n][input size] against every embedding
 * table the data input indexes; an id out of range sets st (sample first + i, position, table). */
void                     HessaOnnxGatherCheckIds(const HessaOnnxGraph *g, const double *x, PetscInt n, PetscInt first, HessaStatus *st);
extern const HessaOnnxOp HessaOnnxOpsNorm[]; /* onnx_ops_norm.c: LayerNormalization, ReduceMean, ReduceSum, Softmax, LogSoftmax */
extern const int         HessaOnnxOpsNormCount;

/* ---- helpers for kernels and infer functions (onnx_graph.c) ---- */
/* The named attribute of a node, or NULL. */
const HessaOnnxAttr *HessaOnnxAttrGet(const HessaOnnxNode *node, const char name[]);
int64_t              HessaOnnxAttrInt(const HessaOnnxNode *node, const char name[], int64_t dflt);
double               HessaOnnxAttrFloat(const HessaOnnxNode *node, const char name[], double dflt);
/* A FLOAT attribute as the double the exporter was given (its float32 read back as 1/n or
 * the shortest decimal): LeakyRelu's alpha, LayerNormalization's epsilon. */
double HessaOnnxAttrDecimal(const HessaOnnxNode *node, const char name[], double dflt);
/* "node 'conv1' (Conv)" or "node #3 (Conv)" for messages. */
const char *HessaOnnxNodeLabel(const HessaOnnxNode *node, char *buf, size_t len);
/* "[N, 3, 4]" for messages (N: the batch entry). */
const char *HessaOnnxDimsString(int ndim, const int64_t *dims, char *buf, size_t len);
const char *HessaOnnxDimsTuple(int ndim, const int64_t *dims, char *buf, size_t len);
/* Whether value v (-1: absent) is read by a node or is the graph's output. */
int HessaOnnxValueIsRead(const HessaOnnxGraph *g, int v);
/* Set value v's shape (dims[0] = HESSA_ONNX_BATCH when batched) and its size. */
void HessaOnnxValueSetShape(HessaOnnxValue *v, int ndim, const int64_t *dims, int batched);
/* Scratch memory of at least `bytes`, valid until the next call with the same owner. */
void *HessaOnnxScratch(void *scratch_owner, size_t bytes, int slot);

/* ---- the layout layer (onnx_layout.c), run by the loader around each node's infer ---- */
typedef struct {
  /* A new CONST 1-D int64 value holding ints[0..n-1] named after `name`: its index, -1 on a
   * fault (the loader's status set). The values array may move. */
  int (*new_ints)(void *ctx, const char *name, int64_t n, const int64_t *ints);
  void *ctx;
} HessaOnnxLayoutHooks;
typedef struct {
  int     set;    /* the batched outputs take the layout below */
  int     axis;   /* ONNX axis of the batch */
  int64_t ka, kb; /* as lay_ka, lay_kb */
  /* shared operands seen without a unit axis during this node's infer only ([T, 1, E] as
   * [T, E] against [T, N, E]: the same data; kernels read offsets made by infer, not dims) */
  int     n_swap;
  int     swap[4];
  int     swap_ndim[4];
  int64_t swap_dims[4][HESSA_ONNX_MAX_DIMS];
} HessaOnnxLayoutPlan;
/* Before node's infer: translate its ONNX axes into per-sample axes (rewriting attributes, or
 * inputs through hooks) and plan its outputs' layouts; a node that cannot run on the layouts
 * of its inputs sets st (naming the node, the value and why). Not collective. */
void HessaOnnxLayoutBefore(HessaOnnxGraph *g, HessaOnnxNode *node, const HessaOnnxLayoutHooks *hooks, HessaOnnxLayoutPlan *plan, HessaStatus *st);
/* After node's infer (also when infer failed: st already set): restore the operands seen
 * without a unit axis, then give the batched outputs the planned layout (checked against
 * the shapes infer set). Not collective. */
void HessaOnnxLayoutAfter(HessaOnnxGraph *g, HessaOnnxNode *node, const HessaOnnxLayoutPlan *plan, HessaStatus *st);
/* The ONNX rank and dims of v (the batch entry as HessaOnnxBatchEntry(c)). Not collective. */
int HessaOnnxLayoutOnnxDims(const HessaOnnxValue *v, int64_t *dims);
/* Whether v is batched with the batch somewhere else than ONNX axis 0 alone. */
int HessaOnnxLayoutMoved(const HessaOnnxValue *v);

/* ---- the executor (onnx_exec.c) ---- */
typedef struct _p_HessaOnnxExec *HessaOnnxExec;
/* Not collective. Work buffers for chunks of `chunk` samples and blocks of directions;
 * the forward cache within cache_mb. The graph is not owned. */
PetscErrorCode HessaOnnxExecCreate(const HessaOnnxGraph *g, PetscInt chunk, PetscReal cache_mb, HessaOnnxExec *ex);
/* The graph output for m samples x [m][input size] at theta into out [m][output size]
 * (parameter phase included). Not collective. */
PetscErrorCode HessaOnnxExecForward(HessaOnnxExec ex, const double *theta, PetscInt m, const double *x, double *out);
PetscErrorCode HessaOnnxExecDestroy(HessaOnnxExec *ex);
/* Not collective. The "onnx" objective over a graph already loaded (HessaONNXCreate loads the
 * file and calls this; tests pass graphs built by hand). Checks the graph against the data
 * (input width, output = classes or targets); a mismatch sets st and *obj is NULL. With
 * own_graph the objective destroys g (also on failure). *theta0 (may be NULL): malloc'd copy
 * of the parameters' initial values. */
PetscErrorCode HessaOnnxObjectiveCreate(const HessaONNXArch *arch, HessaOnnxGraph *g, PetscBool own_graph, HessaData data, HessaObjective *obj, double **theta0, HessaStatus *st);

/* ---- the graph (onnx_load.c) ---- */
/* Read and check an ONNX file: parse, fold constants, order the nodes, infer shapes,
 * choose the parameters. Not collective. On a fault st names the file and the problem and
 * *g is NULL. input_row_length: the data's features per sample (checked against the
 * graph input's per-sample size; < 0: not checked). */
void HessaOnnxGraphLoad(const char path[], int64_t input_row_length, HessaOnnxGraph **g, HessaStatus *st);
/* What HessaOnnxGraphLoad does, with choices for tests (the ONNX node conformance test,
 * loader tests). Zero-initialise and set what differs from the defaults. */
typedef struct {
  int64_t input_row_length; /* as above; set < 0 (e.g. -1) for no check */
  /* Graph inputs (those that are not initializers) given as constants, by position among
   * those inputs: feeds[i] (a value read by HessaOnnxReadTensorFile) is graph input i.
   * With first_input_batched, input 0 stays the batched data input (feeds[0] unused;
   * its shape may be checked by the caller) and inputs 1..n_feeds-1 are constants;
   * without it every input is a constant, there is no INPUT value (g->input = -1) and
   * the output may be a constant: every node is folded (shape computations by the loader,
   * runtime ops by their kernel's forward with m = 1), so the output's value is the answer
   * (the node conformance test reads it there). */
  int                   n_feeds;
  const HessaOnnxValue *feeds;
  int                   first_input_batched;
  /* The op table to use; NULL: HessaOnnxOpFind (tests pass their own). */
  const HessaOnnxOp *(*find_op)(const char op_type[]);
  /* Lowest default-domain opset accepted; 0: 13. The node conformance cases declare the
   * opset their op's current schema came with (Conv 11, MaxPool 12, Elu 6, ...). */
  int64_t opset_min;
} HessaOnnxLoadOptions;
void HessaOnnxGraphLoadWithOptions(const char path[], const HessaOnnxLoadOptions *opt, HessaOnnxGraph **g, HessaStatus *st);
void HessaOnnxGraphDestroy(HessaOnnxGraph **g);
/* A TensorProto file (the ONNX node tests' input_0.pb ...) as doubles (or int64). */
void HessaOnnxReadTensorFile(const char path[], HessaOnnxValue *out, HessaStatus *st);
/* Free what a value owns (name, value, ivalue) and zero it. */
void HessaOnnxValueClear(HessaOnnxValue *v);
/* Write the graph with theta in place of the parameters' initializers (float32 or
 * float64 as they were) to path (atomically). */
void HessaOnnxGraphWrite(const HessaOnnxGraph *g, const char source_path[], const double *theta, const char path[], HessaStatus *st);

#endif
