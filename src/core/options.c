/* Strict options: nothing is accepted that the user did not mean.
 *
 *  - An option -hessa_* that no source file of hessa names (the generated list
 *    hessa_option_names.h) is an error at start-up, with the closest known spelling.
 *  - An option that is known but that no part of the run read (PETSc's record of used
 *    options, over all ranks) is an error at the end of the run.
 *  - Every numeric option has a valid range (the table below, also in docs/options.md):
 *    the raw text is parsed here, strictly, before PETSc sees it, so a value that does
 *    not parse, is not finite, overflows or is out of range is one message naming the
 *    option, the value and the range. List options: no empty item, at most max items.
 */
#include <hessa/core.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "hessa_option_names.h"

typedef enum { OPT_INT, OPT_REAL, OPT_INT_LIST, OPT_REAL_LIST, OPT_BOOL } OptKind;

typedef struct {
  const char *name;
  OptKind     kind;
  double      lo, hi;    /* valid range of a value (every item of a list) */
  int         lo_open;   /* 1: lo itself is excluded (a positive real: (0, hi]) */
  double      special;   /* one more accepted value outside the range (NAN: none) */
  const char *meaning;   /* what the special value means */
  int         max_items; /* lists: most items accepted */
} OptRange;

#define IMAX 2147483647.0 /* PETSc's PetscInt is 32 bits in Debian's build */
#define RMAX DBL_MAX      /* any finite real */
#define NONE NAN, NULL, 0

/* The valid range of every numeric option (docs/options.md lists the same). */
static const OptRange hessa_ranges[] = {
    /* model */
    {"-hessa_model_seed", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_model_dim", OPT_INT, 1, IMAX, 0, NONE},
    {"-hessa_model_point", OPT_REAL_LIST, -RMAX, RMAX, 0, NAN, NULL, 16},
    {"-hessa_mlp_hidden", OPT_INT_LIST, 1, 1e8, 0, NAN, NULL, 14},
    {"-hessa_mlp_weight_decay", OPT_REAL, 0, 1e6, 0, NONE},
    {"-hessa_mlp_chunk", OPT_INT, 1, IMAX, 0, NONE},
    {"-hessa_mlp_cache_mb", OPT_REAL, 0, 1e9, 0, NONE},
    {"-hessa_stop_after_products", OPT_INT, 0, IMAX, 0, NONE},
    /* data */
    {"-hessa_data_limit", OPT_INT, 1, IMAX, 0, -1, "all samples", 0},
    {"-hessa_data_seed", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_data_samples", OPT_INT, 1, IMAX, 0, NONE},
    {"-hessa_data_dim", OPT_INT, 1, 1e8, 0, NONE},
    {"-hessa_data_classes", OPT_INT, 2, 1e8, 0, NONE},
    {"-hessa_data_spread", OPT_REAL, 0, 1e6, 0, NONE},
    {"-hessa_data_pool", OPT_INT, 1, 1e4, 0, NONE},
    {"-hessa_data_targets", OPT_INT, 1, 1e8, 0, NONE},
    {"-hessa_data_vocab", OPT_INT, 1, 1e8, 0, NONE},
    /* analyze */
    {"-hessa_analyze_k", OPT_INT, 0, 1e6, 0, NONE},
    {"-hessa_analyze_eps_tol", OPT_REAL, 0, 1, 1, NONE},
    {"-hessa_analyze_full_max", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_analyze_probes", OPT_INT, 1, 1e6, 0, NONE},
    {"-hessa_analyze_steps", OPT_INT, 1, 1e6, 0, NONE},
    {"-hessa_analyze_seed", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_analyze_trace", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_analyze_gradient_tol", OPT_REAL, 0, 1e300, 0, -1, "automatic: 1e-6 max(1, |loss|)", 0},
    {"-hessa_analyze_zero_tol", OPT_REAL, 0, 1e300, 0, -1, "automatic: from residuals and round-off", 0},
    {"-hessa_analyze_alphas", OPT_REAL_LIST, -1e6, 1e6, 0, NAN, NULL, 8},
    {"-hessa_analyze_sf_dim", OPT_INT, 1, 1e6, 0, NONE},
    {"-hessa_analyze_refine_products", OPT_INT, 0, IMAX, 0, -1, "automatic: max(1000, 4 x the products of the first extreme solves)", 0},
    /* landscape */
    {"-hessa_landscape_index", OPT_INT, 0, 1e6, 0, NONE},
    {"-hessa_landscape_eps_tol", OPT_REAL, 0, 1, 1, NONE},
    {"-hessa_landscape_seed", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_landscape_range", OPT_REAL_LIST, -1e6, 1e6, 0, NAN, NULL, 2},
    {"-hessa_landscape_points", OPT_INT, 2, 1e6, 0, NONE},
    {"-hessa_landscape_group_size", OPT_INT, 0, IMAX, 0, NONE},
    /* check */
    {"-hessa_check_trials", OPT_INT, 1, 1e6, 0, NONE},
    {"-hessa_check_step", OPT_REAL, 0, 1, 1, NONE},
    {"-hessa_check_seed", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_check_tol_fd", OPT_REAL, 0, 1e300, 1, NONE},
    {"-hessa_check_tol_symmetry", OPT_REAL, 0, 1e300, 1, NONE},
    /* spectrum */
    {"-hessa_spectrum_extremes", OPT_INT, 0, 1e6, 0, NONE},
    {"-hessa_spectrum_tol", OPT_REAL, 0, 0.1, 1, NONE},
    {"-hessa_full_zero_tol", OPT_REAL, 0, 1e300, 0, -1, "automatic: max(1e-10 max|lambda|, 10 |H - H^T|_F)", 0},
    {"-hessa_full_max_n", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_full_block", OPT_INT, 1, IMAX, 0, NONE},
    {"-hessa_full_nb", OPT_INT, 1, 1e6, 0, NONE},
    {"-hessa_full_memory_mb", OPT_REAL, 0, 1e12, 0, -1, "the node's available memory shared by its ranks", 0},
    {"-hessa_trace_samples", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_trace_seed", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_slq_probes", OPT_INT, 1, 1e6, 0, NONE},
    {"-hessa_slq_steps", OPT_INT, 1, 1e6, 0, NONE},
    {"-hessa_slq_seed", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_slq_block_size", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_slq_grid", OPT_INT, 2, 1e7, 0, NONE},
    {"-hessa_slq_sigma", OPT_REAL, 0, 1e300, 0, NONE},
    {"-hessa_slq_sigma_rel", OPT_REAL, 0, 1e3, 1, NONE},
    {"-hessa_slq_zero_width", OPT_REAL, -1e300, 1e300, 0, NONE},
    /* train */
    {"-hessa_train_lr", OPT_REAL, 0, 1e6, 1, NONE},
    {"-hessa_train_momentum", OPT_REAL, 0, 1, 0, NONE},
    {"-hessa_train_beta1", OPT_REAL, 0, 1, 0, NONE},
    {"-hessa_train_beta2", OPT_REAL, 0, 1, 0, NONE},
    {"-hessa_train_eps", OPT_REAL, 0, 1, 1, NONE},
    {"-hessa_train_weight_decay", OPT_REAL, 0, 1e6, 0, NONE},
    {"-hessa_train_batch", OPT_INT, 1, IMAX, 0, NONE},
    {"-hessa_train_steps", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_train_gtol", OPT_REAL, 0, 1e300, 0, NONE},
    {"-hessa_train_seed", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_train_checkpoint_every", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_train_lambda_every", OPT_INT, 0, IMAX, 0, NONE},
    {"-hessa_train_max_steps_per_run", OPT_INT, 0, IMAX, 0, NONE},
    /* switches: no value, or one of PETSc's words for true and false */
    {"-hessa_analyze_density", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_analyze_full", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_analyze_newton", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_data_test", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_landscape_distance", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_landscape_plane", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_report_density_log", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_report_plots", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_slq_block", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_spectrum_density", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_spectrum_full", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_full_vectors", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_spectrum_trace", OPT_BOOL, 0, 1, 0, NONE},
    {"-hessa_traceback", OPT_BOOL, 0, 1, 0, NONE},
    /* study */
    {"-hessa_study_group_size", OPT_INT, 1, IMAX, 0, NONE},
    {"-hessa_study_max_points", OPT_INT, 0, IMAX, 0, NONE},
};

/* "an integer in [1, 2147483647]", "a finite number in (0, 0.1]", "... or -1 (all samples)" */
static void RangeText(const OptRange *r, char *out, size_t len)
{
  int is_int = r->kind == OPT_INT || r->kind == OPT_INT_LIST;
  if (r->lo <= -RMAX && r->hi >= RMAX)
    snprintf(out, len, "any finite number");
  else
    snprintf(out, len, "%s in %s%.15g, %.15g]", is_int ? "an integer" : "a finite number", r->lo_open ? "(" : "[", r->lo, r->hi);
  if (!isnan(r->special)) snprintf(out + strlen(out), len - strlen(out), " or %.15g (%s)", r->special, r->meaning);
}

/* One value of an option: parsed strictly (all of it, no overflow) and in range. */
static PetscBool ValueOk(const OptRange *r, const char *text, size_t len)
{
  char   buf[128], *end;
  double v;
  if (len == 0 || len >= sizeof buf) return PETSC_FALSE;
  memcpy(buf, text, len);
  buf[len] = 0;
  errno    = 0;
  if (r->kind == OPT_INT || r->kind == OPT_INT_LIST) {
    long long i = strtoll(buf, &end, 10);
    if (errno || *end || end == buf) return PETSC_FALSE;
    v = (double)i;
  } else {
    v = strtod(buf, &end);
    if (errno == ERANGE && fabs(v) > 1) return PETSC_FALSE; /* overflow; underflow to 0 is fine */
    if (*end || end == buf || !isfinite(v)) return PETSC_FALSE;
  }
  if (!isnan(r->special) && v == r->special) return PETSC_TRUE;
  if (r->lo_open ? !(v > r->lo) : !(v >= r->lo)) return PETSC_FALSE;
  return v <= r->hi ? PETSC_TRUE : PETSC_FALSE;
}

/* Check one option's raw text against its range; st set on a fault. */
static void CheckValue(const OptRange *r, const char *value, HessaStatus *st)
{
  char        range[160];
  const char *p     = value ? value : "";
  int         items = 0;

  if (r->kind == OPT_BOOL) {
    static const char *const words[] = {"", "true", "false", "yes", "no", "on", "off", "1", "0", NULL};
    for (int i = 0; words[i]; i++)
      if (!strcasecmp(p, words[i])) return;
    HessaStatusSet(st, HESSA_ERR_ARG, "%s %s: expected no value (on), or true, false, yes, no, on, off, 1 or 0", r->name, value);
    return;
  }
  RangeText(r, range, sizeof range);
  if (r->kind == OPT_INT || r->kind == OPT_REAL) {
    size_t len = strlen(p);
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    while (*p == ' ' || *p == '\t') p++, len--;
    if (!ValueOk(r, p, len)) HessaStatusSet(st, HESSA_ERR_ARG, "%s %s: expected %s", r->name, value && value[0] ? value : "(no value)", range);
    return;
  }
  if (!p[0]) {
    HessaStatusSet(st, HESSA_ERR_ARG, "%s: expected a comma-separated list of 1 to %d values, found no value", r->name, r->max_items);
    return;
  }
  for (const char *item = p;; item++) {
    const char *comma = strchr(item, ',');
    size_t      len   = comma ? (size_t)(comma - item) : strlen(item);
    items++;
    if (len == 0) {
      HessaStatusSet(st, HESSA_ERR_ARG, "%s %s: item %d is empty (expected a comma-separated list like 1,2)", r->name, value, items);
      return;
    }
    if (items > r->max_items) {
      HessaStatusSet(st, HESSA_ERR_ARG, "%s %s: more than %d items (hessa supports at most %d)", r->name, value, r->max_items, r->max_items);
      return;
    }
    if (!ValueOk(r, item, len)) {
      HessaStatusSet(st, HESSA_ERR_ARG, "%s %s: item %d '%.*s' is not %s", r->name, value, items, (int)len, item, range);
      return;
    }
    if (!comma) break;
    item = comma;
  }
}

/* A name that one of hessa's PETSc/SLEPc objects reads under its prefix. */
static PetscBool UnderObjectPrefix(const char *name)
{
  static const char *const objects[] = {"eps_", "st_", "bv_", "ds_", "rg_", "fn_", "ksp_", "pc_", NULL};
  for (int i = 0; hessa_option_prefixes[i]; i++) {
    size_t n = strlen(hessa_option_prefixes[i]);
    if (strncmp(name + 1, hessa_option_prefixes[i], n)) continue;
    for (int j = 0; objects[j]; j++)
      if (!strncmp(name + 1 + n, objects[j], strlen(objects[j]))) return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

static PetscBool KnownName(const char *name)
{
  for (int i = 0; hessa_option_names[i]; i++)
    if (!strcmp(name, hessa_option_names[i])) return PETSC_TRUE;
  return UnderObjectPrefix(name);
}

/* HessaOptionsCheck - collective on comm (every rank holds the same options). Checks
 * every -hessa_* option of opts (NULL: the global database) that nothing has read yet:
 * its name is one hessa knows (else an error with the closest spelling), and a numeric
 * option's value is in its documented range (docs/options.md). */
PetscErrorCode HessaOptionsCheck(MPI_Comm comm, PetscOptions opts)
{
  PetscInt    n;
  char      **names, **values;
  HessaStatus st = {0};
  char        name[256];

  PetscFunctionBegin;
  PetscCall(PetscOptionsLeftGet(opts, &n, &names, &values));
  for (PetscInt i = 0; i < n && !st.code; i++) {
    snprintf(name, sizeof name, "-%s", names[i]);
    if (strncmp(name, "-hessa_", 7)) continue;
    if (!KnownName(name)) {
      const char *near = HessaClosestName(name, hessa_option_names);
      if (near)
        HessaStatusSet(&st, HESSA_ERR_ARG, "unknown option %s (did you mean %s?)", name, near);
      else
        HessaStatusSet(&st, HESSA_ERR_ARG, "unknown option %s (see hessa <command> -help for the options)", name);
      break;
    }
    for (size_t r = 0; r < sizeof hessa_ranges / sizeof hessa_ranges[0]; r++)
      if (!strcmp(name, hessa_ranges[r].name)) CheckValue(&hessa_ranges[r], values[i], &st);
  }
  PetscCall(PetscOptionsLeftRestore(opts, &n, &names, &values));
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}

/* HessaOptionsMarkUsed - not collective. Every option of the global database that was
 * read in opts (a database pushed for a while, e.g. one study point's) is marked read
 * in the global database too, so HessaOptionsCheckUnused counts it. */
PetscErrorCode HessaOptionsMarkUsed(PetscOptions opts)
{
  PetscInt  n;
  char    **names, **values, name[256];
  PetscBool used, has;

  PetscFunctionBegin;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    snprintf(name, sizeof name, "-%s", names[i]);
    PetscCall(PetscOptionsUsed(opts, names[i], &used));               /* PetscOptionsUsed takes the name without '-' */
    if (used) PetscCall(PetscOptionsHasName(NULL, NULL, name, &has)); /* marks it read */
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscFunctionReturn(0);
}

/* HessaOptionsCheckUnused - collective on comm. An error naming the first -hessa_*
 * option of the global database that no rank has read (nothing in this run used it:
 * most likely it belongs to another command). Call at the end of a command. */
PetscErrorCode HessaOptionsCheckUnused(MPI_Comm comm, const char command[])
{
  PetscMPIInt rank;
  PetscInt    n     = 0;
  char      **names = NULL, **values = NULL, list[4096] = "", *save = NULL;
  int         count = 0, *used_here, *used_any;
  HessaStatus st    = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
    for (PetscInt i = 0; i < n; i++)
      if (!strncmp(names[i], "hessa_", 6) && strlen(list) + strlen(names[i]) + 2 < sizeof list) {
        strcat(list, names[i]);
        strcat(list, " ");
      }
    PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  }
  PetscCallMPI(MPI_Bcast(list, sizeof list, MPI_CHAR, 0, comm));
  for (char *p = list; *p; p++) count += *p == ' ';
  if (!count) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2(count, &used_here, count, &used_any));
  {
    int k = 0;
    for (char *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save), k++) {
      PetscBool used;
      PetscCall(PetscOptionsUsed(NULL, tok, &used)); /* the name without its '-' */
      used_here[k] = used ? 1 : 0;
    }
  }
  PetscCallMPI(MPI_Allreduce(used_here, used_any, count, MPI_INT, MPI_MAX, comm));
  /* list was cut by strtok_r: walk the words again */
  {
    char *p = list;
    for (int k = 0; k < count; k++) {
      if (!used_any[k]) {
        char      value[256] = "";
        PetscBool set;
        char      name[256];
        /* option names are short; a longer word would be cut, never overflow */
        name[0] = '-';
        PetscCall(PetscStrncpy(name + 1, p, sizeof name - 1));
        PetscCall(PetscOptionsGetString(NULL, NULL, name, value, sizeof value, &set));
        HessaStatusSet(&st, HESSA_ERR_ARG, "option %s%s%s was given but not used by hessa %s (it belongs to another command, or needs an option that enables it)", name, value[0] ? " " : "", value, command);
        break;
      }
      p += strlen(p) + 1;
    }
  }
  PetscCall(PetscFree2(used_here, used_any));
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}
