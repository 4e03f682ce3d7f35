/* Counter-based random streams: entry `index` of stream `stream` with seed `seed`
 * is a pure function of the three numbers (SplitMix64's finalizer applied to a
 * mix of them), so a rank fills its own slice of a vector with exactly the numbers
 * a single rank would produce. */
#include <hessa/core.h>
#include <math.h>

static inline uint64_t Mix64(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t HessaRandomBits(uint64_t seed, uint64_t stream, uint64_t index)
{
  uint64_t key = Mix64(seed + 0x9e3779b97f4a7c15ULL * (stream + 1));
  return Mix64(key ^ Mix64(index + 0x632be59bd9b4e019ULL));
}

double HessaRandomUniform(uint64_t seed, uint64_t stream, uint64_t index)
{
  /* 53 random bits, shifted by half an ulp so the value is never 0 or 1 */
  return ((double)(HessaRandomBits(seed, stream, index) >> 11) + 0.5) * 0x1.0p-53;
}

double HessaRandomNormal(uint64_t seed, uint64_t stream, uint64_t index)
{
  /* Box-Muller on two uniforms drawn from counters 2i and 2i+1 */
  double u1 = HessaRandomUniform(seed, stream, 2 * index), u2 = HessaRandomUniform(seed, stream, 2 * index + 1);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double HessaRandomRademacher(uint64_t seed, uint64_t stream, uint64_t index)
{
  return (HessaRandomBits(seed, stream, index) >> 63) ? 1.0 : -1.0;
}

void HessaRandomFill(HessaRandomKind kind, uint64_t seed, uint64_t stream, PetscInt first, PetscInt count, double *x)
{
  for (PetscInt i = 0; i < count; i++) {
    uint64_t k = (uint64_t)(first + i);
    switch (kind) {
    case HESSA_RANDOM_UNIFORM:
      x[i] = HessaRandomUniform(seed, stream, k);
      break;
    case HESSA_RANDOM_NORMAL:
      x[i] = HessaRandomNormal(seed, stream, k);
      break;
    case HESSA_RANDOM_RADEMACHER:
      x[i] = HessaRandomRademacher(seed, stream, k);
      break;
    }
  }
}

/* The registry of stream families (core.h): the spans are generous bounds on
 * how many streams of a family one run can use (probes, trials, directions). */
static const HessaRandomStream stream_table[] = {
    {"HESSA_STREAM_DATA_CENTRES", HESSA_STREAM_DATA_CENTRES, 1}, {"HESSA_STREAM_DATA_INPUTS", HESSA_STREAM_DATA_INPUTS, 1},     {"HESSA_STREAM_QUADRATIC", HESSA_STREAM_QUADRATIC, 1},
    {"HESSA_STREAM_ROTATIONS", HESSA_STREAM_ROTATIONS, 2},       {"HESSA_STREAM_MLP_INIT", HESSA_STREAM_MLP_INIT, 1},           {"HESSA_STREAM_CHECK", HESSA_STREAM_CHECK, UINT64_C(1) << 32},
    {"HESSA_STREAM_SLQ", HESSA_STREAM_SLQ, UINT64_C(1) << 32},   {"HESSA_STREAM_TRACE", HESSA_STREAM_TRACE, UINT64_C(1) << 24}, {"HESSA_STREAM_LANDSCAPE", HESSA_STREAM_LANDSCAPE, UINT64_C(1) << 8},
    {"HESSA_STREAM_TRAIN_BATCH", HESSA_STREAM_TRAIN_BATCH, 1},
};

/* HessaRandomStreamTable - not collective. Output: *count entries of the registry. */
const HessaRandomStream *HessaRandomStreamTable(int *count)
{
  *count = (int)(sizeof stream_table / sizeof stream_table[0]);
  return stream_table;
}
