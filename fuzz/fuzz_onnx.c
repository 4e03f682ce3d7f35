/* libFuzzer harness: the ONNX loader (HessaOnnxGraphLoad with the real op table, so the
 * kernels' infer functions are fuzzed too once they exist), the TensorProto reader on the
 * same bytes, and, for a model that loads, the writer and a reload of what it wrote. */
#include "fuzz_common.h"
#include "../src/objective/onnx_impl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  FuzzInit();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char     *path = FuzzWrite("input.onnx", data, size);
  char            out[160];
  HessaOnnxGraph *g = NULL, *h = NULL;
  HessaStatus     st = {0};
  HessaOnnxValue  t;

  HessaOnnxGraphLoad(path, -1, &g, &st);
  FUZZ_CHECK((st.code != 0) == (g == NULL), "status %d but graph %p", (int)st.code, (void *)g);
  FUZZ_CHECK(!st.code || st.msg[0], "an error without a message");
  if (g) {
    double *theta = calloc((size_t)g->n_params + 1, sizeof(double));
    FUZZ_CHECK(g->input >= 0 && g->input < g->n_values && g->output >= 0 && g->output < g->n_values, "input %d output %d of %d values", g->input, g->output, g->n_values);
    FUZZ_CHECK(g->values[g->output].batched, "the output is not batched");
    for (int k = 0; k < g->n_param_values; k++) {
      const HessaOnnxValue *p = &g->values[g->param_values[k]];
      FUZZ_CHECK(p->kind == HESSA_ONNX_PARAM && p->offset >= 0 && p->offset + p->size <= g->n_params, "parameter %d out of theta", k);
    }
    snprintf(out, sizeof out, "%s/written.onnx", fuzz_dir);
    HessaOnnxGraphWrite(g, path, theta, out, &st);
    if (!st.code) {
      HessaOnnxGraphLoad(out, -1, &h, &st);
      FUZZ_CHECK(!st.code && h && h->n_params == g->n_params, "the written model does not load back: %s", st.msg);
      HessaOnnxGraphDestroy(&h);
    }
    free(theta);
    HessaOnnxGraphDestroy(&g);
  }
  memset(&st, 0, sizeof st);
  HessaOnnxReadTensorFile(path, &t, &st);
  FUZZ_CHECK(!st.code || (!t.value && !t.ivalue && !t.name), "a failed read kept memory");
  HessaOnnxValueClear(&t);
  return 0;
}
