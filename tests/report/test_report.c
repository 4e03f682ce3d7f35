/* Report files from a complete example document (a saddle with every optional section),
 * from the same document with two plots that cannot be drawn, and from a minimal one.
 * Checks at every rank count: report.json reads back equal to the document; report.md
 * starts with the verdict and holds the key numbers; eigenvalues.csv has every value;
 * the PNG files are real PNGs; no *.tmp file remains; the folder holds exactly the
 * expected files (so no other rank wrote anything else); a rewrite removes the files
 * of the previous run that it does not write again. */
#include <hessa/report.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static const double full_values[12] = {-2.5, -0.75, -0.125, 1e-9, 0.5, 1, 1.5, 2, 3.25, 4, 7.5, 12.125};

static cJSON *NumberArray(const double *x, int n)
{
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(x[i]));
  return a;
}

static cJSON *Pair(double value, double residual, int converged)
{
  cJSON *p = cJSON_CreateObject();
  cJSON_AddNumberToObject(p, "value", value);
  cJSON_AddNumberToObject(p, "residual", residual);
  cJSON_AddBoolToObject(p, "converged", converged);
  return p;
}

/* The analysis layer's document for a saddle of a 12-parameter model, every section present. */
static cJSON *FullDocument(void)
{
  cJSON *doc = cJSON_CreateObject(), *v, *counts, *ho, *in, *o, *res, *x, *a, *p, *cost;
  double grid[41], dens[41], nodes[2][4] = {{-2.4, -0.1, 1.9, 11.8}, {-0.7, 0.6, 3.3, 12.0}}, w[2][4] = {{0.1, 0.2, 0.6, 0.1}, {0.15, 0.35, 0.4, 0.1}};

  cJSON_AddStringToObject(doc, "schema", "hessa-report");
  cJSON_AddNumberToObject(doc, "version", 1);
  v = cJSON_AddObjectToObject(doc, "verdict");
  cJSON_AddStringToObject(v, "type", "saddle");
  cJSON_AddStringToObject(v, "summary", "The gradient vanishes and 3 of 12 eigenvalues are negative: a saddle point, and the loss falls along the lowest eigenvector.");
  cJSON_AddStringToObject(v, "basis", "full_spectrum");
  cJSON_AddNumberToObject(v, "gradient_norm", 3e-9);
  cJSON_AddNumberToObject(v, "gradient_tolerance", 1e-6);
  cJSON_AddBoolToObject(v, "critical", 1);
  cJSON_AddNumberToObject(v, "zero_tolerance", 1.5e-7);
  cJSON_AddStringToObject(v, "zero_tolerance_reason", "100 x the largest residual of the extreme eigenpairs");
  counts = cJSON_AddObjectToObject(v, "counts");
  cJSON_AddNumberToObject(counts, "negative", 3);
  cJSON_AddNumberToObject(counts, "zero", 1);
  cJSON_AddNumberToObject(counts, "positive", 8);
  cJSON_AddNumberToObject(counts, "n", 12);
  cJSON_AddNumberToObject(v, "negative_fraction", 0.25);
  cJSON_AddNullToObject(v, "negative_fraction_se");
  cJSON_AddNumberToObject(v, "minimum_ratio", 8.0 / 12.0);
  cJSON_AddNullToObject(v, "minimum_ratio_se");
  cJSON_AddNumberToObject(v, "lambda_min", -2.5);
  cJSON_AddNumberToObject(v, "lambda_max", 12.125);
  ho = cJSON_AddArrayToObject(v, "higher_order");
  cJSON_AddItemToArray(ho, o = cJSON_CreateObject());
  cJSON_AddNumberToObject(o, "eigenvalue", 1e-9);
  cJSON_AddStringToObject(o, "behaviour", "rises");

  in = cJSON_AddObjectToObject(doc, "inputs");
  cJSON_AddStringToObject(in, "command", "analyze");
  a = cJSON_AddArrayToObject(in, "argv");
  cJSON_AddItemToArray(a, cJSON_CreateString("-hessa_model"));
  cJSON_AddItemToArray(a, cJSON_CreateString("mlp:3-2-2"));
  o = cJSON_AddObjectToObject(in, "model");
  cJSON_AddStringToObject(o, "kind", "mlp");
  cJSON_AddStringToObject(o, "description", "3-2-2 tanh, cross-entropy");
  cJSON_AddNumberToObject(o, "n", 12);
  o = cJSON_AddObjectToObject(in, "data");
  cJSON_AddStringToObject(o, "description", "synthetic blobs");
  cJSON_AddNumberToObject(o, "samples", 64);
  cJSON_AddNumberToObject(o, "features", 3);
  cJSON_AddStringToObject(in, "operator", "hessian");
  cJSON_AddStringToObject(in, "subset", "all");
  cJSON_AddNumberToObject(in, "ranks", 2);
  cJSON_AddNumberToObject(in, "seed", 42);
  o = cJSON_AddObjectToObject(in, "options");
  cJSON_AddStringToObject(o, "-hessa_model", "mlp:3-2-2");
  cJSON_AddStringToObject(o, "-hessa_note", "a|b");

  res = cJSON_AddObjectToObject(doc, "results");
  cJSON_AddNumberToObject(res, "loss", 0.693147180559945);
  cJSON_AddNumberToObject(res, "gradient_norm", 3e-9);
  x = cJSON_AddObjectToObject(res, "extremes");
  cJSON_AddStringToObject(x, "eps_type", "krylovschur");
  cJSON_AddNumberToObject(x, "tolerance", 1e-8);
  cJSON_AddNumberToObject(x, "products", 96);
  a = cJSON_AddArrayToObject(x, "largest");
  cJSON_AddItemToArray(a, Pair(12.125, 1.25e-9, 1));
  cJSON_AddItemToArray(a, Pair(7.5, 2.5e-9, 1));
  cJSON_AddItemToArray(a, Pair(4, 3.75e-9, 1));
  a = cJSON_AddArrayToObject(x, "smallest");
  cJSON_AddItemToArray(a, Pair(-2.5, 1.5e-9, 1));
  cJSON_AddItemToArray(a, Pair(-0.75, 4.5e-9, 1));
  cJSON_AddItemToArray(a, Pair(-0.1250000123, 2.25e-3, 0));
  x = cJSON_AddObjectToObject(res, "full_spectrum");
  cJSON_AddNumberToObject(x, "n", 12);
  cJSON_AddItemToObject(x, "values", NumberArray(full_values, 12));
  cJSON_AddNumberToObject(x, "asymmetry", 3.5e-16);
  cJSON_AddNumberToObject(x, "zero_tolerance", 1.5e-7);
  cJSON_AddNumberToObject(x, "negative", 3);
  cJSON_AddNumberToObject(x, "zero", 1);
  cJSON_AddNumberToObject(x, "positive", 8);
  cJSON_AddNumberToObject(x, "products", 12);
  for (int i = 0; i < 41; i++) {
    grid[i] = -4 + 0.425 * i;
    dens[i] = 0.25 * exp(-0.5 * pow((grid[i] + 1) / 0.8, 2)) + 0.6 * exp(-0.5 * pow((grid[i] - 2) / 1.2, 2)) + 0.1 * exp(-0.5 * pow((grid[i] - 12) / 0.5, 2));
  }
  x = cJSON_AddObjectToObject(res, "density");
  cJSON_AddNumberToObject(x, "probes", 2);
  cJSON_AddNumberToObject(x, "steps", 4);
  cJSON_AddNumberToObject(x, "sigma", 0.35);
  cJSON_AddItemToObject(x, "grid", NumberArray(grid, 41));
  cJSON_AddItemToObject(x, "density", NumberArray(dens, 41));
  cJSON_AddItemToObject(x, "nodes", a = cJSON_CreateArray());
  for (int p = 0; p < 2; p++) cJSON_AddItemToArray(a, NumberArray(nodes[p], 4));
  cJSON_AddItemToObject(x, "weights", a = cJSON_CreateArray());
  for (int p = 0; p < 2; p++) cJSON_AddItemToArray(a, NumberArray(w[p], 4));
  cJSON_AddNumberToObject(x, "negative_fraction", 0.275);
  cJSON_AddNumberToObject(x, "negative_fraction_se", 0.0375);
  cJSON_AddNumberToObject(x, "positive_fraction", 0.7);
  cJSON_AddNumberToObject(x, "positive_fraction_se", 0.045);
  cJSON_AddNumberToObject(x, "near_zero_fraction", 0.025);
  cJSON_AddNumberToObject(x, "near_zero_fraction_se", 0.0125);
  cJSON_AddNumberToObject(x, "products", 8);
  x = cJSON_AddObjectToObject(res, "trace");
  cJSON_AddStringToObject(x, "method", "hutch++");
  cJSON_AddNumberToObject(x, "samples", 30);
  cJSON_AddNumberToObject(x, "estimate", 26.875);
  cJSON_AddNumberToObject(x, "standard_error", 0.4375);
  x = cJSON_AddObjectToObject(res, "escape");
  cJSON_AddNumberToObject(x, "lambda_min", -2.5);
  cJSON_AddNumberToObject(x, "gradient_dot_direction", 1.25e-10);
  cJSON_AddBoolToObject(x, "descent_confirmed", 1);
  a = cJSON_AddArrayToObject(x, "probes");
  for (int i = 0; i < 5; i++) {
    double alpha = 0.05 * (i + 1), predicted = -1.25 * alpha * alpha;
    cJSON_AddItemToArray(a, p = cJSON_CreateObject());
    cJSON_AddNumberToObject(p, "alpha", alpha);
    cJSON_AddNumberToObject(p, "predicted_change", predicted);
    cJSON_AddNumberToObject(p, "change_plus", predicted + 0.5 * pow(alpha, 3));
    cJSON_AddNumberToObject(p, "change_minus", predicted - 0.5 * pow(alpha, 3));
  }
  a = cJSON_AddArrayToObject(res, "degenerate_probes");
  cJSON_AddItemToArray(a, o = cJSON_CreateObject());
  cJSON_AddNumberToObject(o, "eigenvalue", 1e-9);
  cJSON_AddStringToObject(o, "behaviour", "rises");
  cJSON_AddItemToObject(o, "probes", x = cJSON_CreateArray());
  for (int i = 0; i < 3; i++) {
    double alpha = 0.1 * (i + 1);
    cJSON_AddItemToArray(x, p = cJSON_CreateObject());
    cJSON_AddNumberToObject(p, "alpha", alpha);
    cJSON_AddNumberToObject(p, "change_plus", pow(alpha, 4));
    cJSON_AddNumberToObject(p, "change_minus", pow(alpha, 4));
  }
  x = cJSON_AddObjectToObject(res, "gradient_geometry");
  cJSON_AddNumberToObject(x, "curvature_along_gradient", 3.125);
  cJSON_AddNumberToObject(x, "best_step", 0.32);
  cJSON_AddNumberToObject(x, "predicted_decrease", 1.44e-18);
  cJSON_AddNumberToObject(x, "true_decrease", 1.4e-18);
  cJSON_AddNumberToObject(x, "stability_limit", 2 / 12.125);
  cJSON_AddNumberToObject(x, "top_k", 3);
  cJSON_AddNumberToObject(x, "top_k_gradient_share", 0.8125);
  cJSON_AddNullToObject(x, "condition_number");
  x = cJSON_AddObjectToObject(res, "newton");
  cJSON_AddStringToObject(x, "solver", "minres");
  cJSON_AddNumberToObject(x, "iterations", 11);
  cJSON_AddBoolToObject(x, "converged", 1);
  cJSON_AddNumberToObject(x, "relative_residual", 4.5e-9);
  cJSON_AddNumberToObject(x, "step_norm", 1.25e-9);
  cJSON_AddNumberToObject(x, "angle_to_negative_gradient_deg", 63.5);
  cJSON_AddNumberToObject(x, "loss_after_step", 0.693147180559945);
  a = cJSON_AddArrayToObject(x, "line");
  for (int i = 0; i <= 8; i++) {
    double t = -0.5 + 0.25 * i;
    cJSON_AddItemToArray(a, p = cJSON_CreateObject());
    cJSON_AddNumberToObject(p, "t", t);
    cJSON_AddNumberToObject(p, "loss", 0.6931 + 0.01 * (t - 1) * (t - 1));
  }
  o = cJSON_AddObjectToObject(x, "saddle_free");
  cJSON_AddNumberToObject(o, "subspace_dimension", 6);
  cJSON_AddNumberToObject(o, "step_norm", 0.5);
  cJSON_AddNumberToObject(o, "loss_after_step", 0.55);
  cJSON_AddNumberToObject(o, "angle_to_negative_gradient_deg", 71.25);

  cost = cJSON_AddObjectToObject(doc, "cost");
  cJSON_AddNumberToObject(cost, "products", 124);
  cJSON_AddNumberToObject(cost, "gradient_evaluations", 23);
  o = cJSON_AddObjectToObject(cost, "seconds");
  cJSON_AddNumberToObject(o, "extremes", 0.125);
  cJSON_AddNumberToObject(o, "density", 0.0625);
  cJSON_AddItemToObject(cost, "peak_memory_mb", NumberArray((double[]){41.5, 40.25}, 2));
  o = cJSON_AddObjectToObject(doc, "provenance");
  cJSON_AddStringToObject(o, "hessa_version", "0.1.0");
  cJSON_AddStringToObject(o, "commit", "abc1234");
  cJSON_AddStringToObject(o, "petsc", "3.18.5");
  cJSON_AddStringToObject(o, "slepc", "3.18.2");
  cJSON_AddStringToObject(o, "mpi", "Open MPI 4.1.4");
  cJSON_AddStringToObject(o, "date", "2026-11-22T10:00:00Z");
  cJSON_AddStringToObject(o, "hostname", "node1");
  return doc;
}

/* Not at a critical point, extremes not even computed: only the required parts. */
static cJSON *MinimalDocument(void)
{
  cJSON      *doc = FullDocument(), *results = cJSON_GetObjectItem(doc, "results"), *v = cJSON_GetObjectItem(doc, "verdict"), *counts;
  const char *optional[] = {"extremes", "full_spectrum", "density", "trace", "escape", "degenerate_probes", "gradient_geometry", "newton"};

  for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) cJSON_DeleteItemFromObject(results, optional[i]);
  cJSON_DeleteItemFromObject(v, "higher_order");
  cJSON_ReplaceItemInObject(v, "type", cJSON_CreateString("not_critical"));
  cJSON_ReplaceItemInObject(v, "basis", cJSON_CreateString("extremes"));
  cJSON_ReplaceItemInObject(v, "critical", cJSON_CreateFalse());
  cJSON_ReplaceItemInObject(v, "gradient_norm", cJSON_CreateNumber(0.0125));
  counts = cJSON_GetObjectItem(v, "counts");
  cJSON_ReplaceItemInObject(counts, "negative", cJSON_CreateNull());
  cJSON_ReplaceItemInObject(counts, "zero", cJSON_CreateNull());
  cJSON_ReplaceItemInObject(counts, "positive", cJSON_CreateNull());
  return doc;
}

/* The full document with an empty escape table and a one-point Newton line: those two
 * plots cannot be drawn and report.md must say so. */
static cJSON *SkipDocument(void)
{
  cJSON *doc = FullDocument(), *results = cJSON_GetObjectItem(doc, "results");
  cJSON *line = cJSON_GetObjectItem(cJSON_GetObjectItem(results, "newton"), "line");

  cJSON_ReplaceItemInObject(cJSON_GetObjectItem(results, "escape"), "probes", cJSON_CreateArray());
  while (cJSON_GetArraySize(line) > 1) cJSON_DeleteItemFromArray(line, 1);
  return doc;
}

static PetscErrorCode ReadText(const char path[], char **text)
{
  FILE *f = fopen(path, "rb");
  long  len;

  PetscFunctionBegin;
  CHECK(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  len = ftell(f);
  fseek(f, 0, SEEK_SET);
  PetscCall(PetscMalloc1(len + 1, text));
  CHECK(fread(*text, 1, (size_t)len, f) == (size_t)len, "cannot read %s", path);
  (*text)[len] = 0;
  fclose(f);
  PetscFunctionReturn(0);
}

/* Rank 0 empties the folder of an earlier test run; everybody waits. */
static PetscErrorCode CleanFolder(const char folder[])
{
  PetscMPIInt rank;
  DIR        *d;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (rank == 0 && (d = opendir(folder))) {
    struct dirent *e;
    char           path[PETSC_MAX_PATH_LEN];
    while ((e = readdir(d)))
      if (e->d_name[0] != '.' || strlen(e->d_name) > 2) {
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        remove(path);
      }
    closedir(d);
  }
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscFunctionReturn(0);
}

/* The folder holds exactly the files of `expected` (NULL-terminated) and no *.tmp. */
static PetscErrorCode CheckFolderHolds(const char folder[], const char *const expected[])
{
  DIR           *d = opendir(folder);
  struct dirent *e;
  int            count = 0, n_expected = 0;
  struct stat    sb;
  char           path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  CHECK(d, "folder %s missing", folder);
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    CHECK(!strstr(e->d_name, ".tmp"), "%s/%s: a temporary file remains", folder, e->d_name);
    count++;
  }
  closedir(d);
  for (; expected[n_expected]; n_expected++) {
    snprintf(path, sizeof path, "%s/%s", folder, expected[n_expected]);
    CHECK(stat(path, &sb) == 0 && sb.st_size > 0, "%s is missing or empty", path);
  }
  CHECK(count == n_expected, "%s holds %d files, expected %d", folder, count, n_expected);
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckPNG(const char folder[], const char name[])
{
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  unsigned char              head[8];
  char                       path[PETSC_MAX_PATH_LEN];
  struct stat                sb;
  FILE                      *f;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/%s", folder, name);
  CHECK(stat(path, &sb) == 0 && sb.st_size > 1024, "%s: missing or not larger than 1 KB", path);
  f = fopen(path, "rb");
  CHECK(f && fread(head, 1, 8, f) == 8 && !memcmp(head, signature, 8), "%s: not a PNG file", path);
  fclose(f);
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckJSON(const char folder[], const cJSON *doc)
{
  char   path[PETSC_MAX_PATH_LEN], *text;
  cJSON *back;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/report.json", folder);
  PetscCall(ReadText(path, &text));
  back = cJSON_Parse(text);
  CHECK(back, "%s does not parse", path);
  CHECK(cJSON_Compare(doc, back, 1), "%s differs from the document", path);
  cJSON_Delete(back);
  PetscCall(PetscFree(text));
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckMarkdown(const char folder[], const char *starts, const char *const contains[], const char *const absent[])
{
  char path[PETSC_MAX_PATH_LEN], *md;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/report.md", folder);
  PetscCall(ReadText(path, &md));
  CHECK(!strncmp(md, starts, strlen(starts)), "%s starts with \"%.80s\", expected \"%s\"", path, md, starts);
  for (int i = 0; contains && contains[i]; i++) CHECK(strstr(md, contains[i]), "%s does not contain \"%s\"", path, contains[i]);
  for (int i = 0; absent && absent[i]; i++) CHECK(!strstr(md, absent[i]), "%s contains \"%s\"", path, absent[i]);
  PetscCall(PetscFree(md));
  PetscFunctionReturn(0);
}

/* Every row of eigenvalues.csv against the document: largest, smallest, then the full spectrum. */
static PetscErrorCode CheckEigenvalueCSV(const char folder[], const cJSON *doc)
{
  const cJSON *results = cJSON_GetObjectItem(doc, "results"), *extremes = cJSON_GetObjectItem(results, "extremes");
  const char  *kinds[3] = {"largest", "smallest", "full"};
  char         path[PETSC_MAX_PATH_LEN], *text, *line, *save = NULL;
  int          rows = 0;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/eigenvalues.csv", folder);
  PetscCall(ReadText(path, &text));
  line = strtok_r(text, "\n", &save);
  CHECK(line && !strcmp(line, "kind,index,value,residual,converged"), "%s: wrong header", path);
  for (int k = 0; k < 3; k++) {
    const cJSON *list = k < 2 ? cJSON_GetObjectItem(extremes, kinds[k]) : cJSON_GetObjectItem(cJSON_GetObjectItem(results, "full_spectrum"), "values");
    for (int i = 0; i < cJSON_GetArraySize(list); i++) {
      const cJSON *item   = cJSON_GetArrayItem(list, i);
      double       expect = k < 2 ? cJSON_GetObjectItem(item, "value")->valuedouble : item->valuedouble, value, residual;
      char         kind[16], converged[8] = "";
      int          index, fields;

      line = strtok_r(NULL, "\n", &save);
      CHECK(line, "%s: only %d rows", path, rows);
      rows++;
      if (k < 2)
        fields = sscanf(line, "%15[a-z],%d,%lf,%lf,%7s", kind, &index, &value, &residual, converged);
      else
        fields = sscanf(line, "%15[a-z],%d,%lf,,", kind, &index, &value) + 2;
      CHECK(fields == 5 && !strcmp(kind, kinds[k]) && index == i + 1, "%s: bad row \"%s\"", path, line);
      CHECK(fabs(value - expect) <= 1e-12 * PetscMax(1.0, fabs(expect)), "%s: row \"%s\": expected %.17g", path, line, expect);
      if (k < 2) {
        CHECK(fabs(residual - cJSON_GetObjectItem(item, "residual")->valuedouble) <= 1e-12, "%s: row \"%s\": wrong residual", path, line);
        CHECK(!strcmp(converged, cJSON_IsTrue(cJSON_GetObjectItem(item, "converged")) ? "true" : "false"), "%s: row \"%s\": wrong flag", path, line);
      }
    }
  }
  CHECK(rows == 18 && !strtok_r(NULL, "\n", &save), "%s: %d rows, expected 18 and nothing more", path, rows);
  PetscCall(PetscFree(text));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscMPIInt       size;
  char              full[64], skip[64], minimal[64], logscale[64], noplots[64];
  cJSON            *doc_full = FullDocument(), *doc_skip = SkipDocument(), *doc_min = MinimalDocument();
  const char *const all_files[]    = {"report.json",
                                      "report.md",
                                      "eigenvalues.csv",
                                      "density.csv",
                                      "density_nodes.csv",
                                      "density.png",
                                      "density.svg",
                                      "eigenvalues.png",
                                      "eigenvalues.svg",
                                      "escape.png",
                                      "escape.svg",
                                      "newton.png",
                                      "newton.svg",
                                      "spectrum_histogram.png",
                                      "spectrum_histogram.svg",
                                      NULL};
  const char *const skip_files[]   = {"report.json", "report.md", "eigenvalues.csv", "density.csv", "density_nodes.csv", "density.png", "density.svg", "eigenvalues.png", "eigenvalues.svg", "spectrum_histogram.png", "spectrum_histogram.svg", NULL};
  const char *const noplot_files[] = {"report.json", "report.md", "eigenvalues.csv", "density.csv", "density_nodes.csv", NULL};
  const char *const noplot_md[]    = {"Plots: not drawn (-hessa_report_plots false)", NULL};
  const char *const min_files[]    = {"report.json", "report.md", "eigenvalues.csv", NULL};
  const char *const full_md[]      = {"The gradient vanishes and 3 of 12 eigenvalues are negative",
                                      "**Gradient norm** 3.000e-09 against the tolerance 1.000e-06: a critical point.",
                                      "zero band at least 1.500e-07 (100 x the largest residual",
                                      "lambda_min = -2.5, lambda_max = 12.125",
                                      "| smallest | 3 | -0.1250000123 | 2.250e-03 | **NO** |",
                                      "**1 eigenpair did not converge**",
                                      "| below -w | 0.275 | 0.037 |",
                                      "| 0.25 | -0.078125 | -0.0703125 | -0.0859375 | yes |",
                                      "descent confirmed: **yes**",
                                      "Eigenvalue 1.000e-09: along its eigenvector the loss **rises both ways**",
                                      "Condition number lambda_max / lambda_min: n/a",
                                      "hutch++ with 30 samples: trace = 26.875, standard error 0.44",
                                      "Saddle-free Newton",
                                      "[eigenvalues.csv](eigenvalues.csv)",
                                      "[density.png](density.png)",
                                      "[escape.png](escape.png)",
                                      "[newton.png](newton.png)",
                                      "| -hessa_note | a\\|b |",
                                      "Peak memory: 41.5 MB",
                                      "PETSc 3.18.5",
                                      NULL};
  const char *const skip_md[]      = {"- escape plot skipped: results.escape.probes must be", "- Newton plot skipped: results.newton.line must hold", "[density.png](density.png)", NULL};
  const char *const skip_absent[]  = {"[escape.png]", "[newton.png]", NULL};
  const char *const min_md[]       = {"extreme eigenvalues only (no counts)", "negative n/a, zero within error bounds n/a, positive n/a", NULL};
  const char *const min_absent[]   = {"## Extreme eigenvalues", "## Escape", "## Newton", ".png", "density.csv", NULL};

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  snprintf(full, sizeof full, "report_full_np%d", size);
  snprintf(skip, sizeof skip, "report_skip_np%d", size);
  snprintf(minimal, sizeof minimal, "report_min_np%d", size);
  snprintf(logscale, sizeof logscale, "report_log_np%d", size);
  snprintf(noplots, sizeof noplots, "report_noplot_np%d", size);

  PetscCall(CleanFolder(full));
  PetscCall(HessaReportCheckFolder(PETSC_COMM_WORLD, full));
  PetscCall(HessaReportWrite(PETSC_COMM_WORLD, doc_full, full));
  PetscCall(CheckFolderHolds(full, all_files));
  PetscCall(CheckJSON(full, doc_full));
  PetscCall(CheckMarkdown(full, "# Saddle point (index 3 of 12: 3 negative eigenvalues)\n\n", full_md, NULL));
  PetscCall(CheckEigenvalueCSV(full, doc_full));
  PetscCall(CheckPNG(full, "density.png"));
  PetscCall(CheckPNG(full, "eigenvalues.png"));
  PetscCall(CheckPNG(full, "escape.png"));
  PetscCall(CheckPNG(full, "newton.png"));

  PetscCall(CleanFolder(skip));
  PetscCall(HessaReportWrite(PETSC_COMM_WORLD, doc_skip, skip));
  PetscCall(CheckFolderHolds(skip, skip_files));
  PetscCall(CheckJSON(skip, doc_skip));
  PetscCall(CheckMarkdown(skip, "# Saddle point (index 3 of 12:", skip_md, skip_absent));

  /* options: a linear density plot (log is the default); no plots at all */
  PetscCall(CleanFolder(logscale));
  PetscCall(PetscOptionsSetValue(NULL, "-hessa_report_density_log", "false"));
  PetscCall(HessaReportWrite(PETSC_COMM_WORLD, doc_full, logscale));
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_report_density_log"));
  PetscCall(CheckFolderHolds(logscale, all_files));
  PetscCall(CheckPNG(logscale, "density.png"));
  PetscCall(CleanFolder(noplots));
  PetscCall(PetscOptionsSetValue(NULL, "-hessa_report_plots", "false"));
  PetscCall(HessaReportWrite(PETSC_COMM_WORLD, doc_full, noplots));
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_report_plots"));
  PetscCall(CheckFolderHolds(noplots, noplot_files));
  PetscCall(CheckMarkdown(noplots, "# Saddle point (index 3 of 12:", noplot_md, skip_absent));

  /* the minimal report replaces a full one in the same folder: no stale file survives */
  PetscCall(CleanFolder(minimal));
  PetscCall(HessaReportWrite(PETSC_COMM_WORLD, doc_full, minimal));
  PetscCall(HessaReportWrite(PETSC_COMM_WORLD, doc_min, minimal));
  PetscCall(CheckFolderHolds(minimal, min_files));
  PetscCall(CheckJSON(minimal, doc_min));
  PetscCall(CheckMarkdown(minimal, "# Not a critical point (gradient norm 1.250e-02 > tolerance 1.000e-06)\n\n", min_md, min_absent));

  /* a curve flat to round-off (the Newton line at a gradient-flat point: losses that differ
     in the 16th digit) once sent PLplot's tick loop spinning; it must be drawn at once */
  {
    char        flat[64];
    double      x[9], y[9], same[9];
    HessaStatus st = {0};
    char        note[256];
    PetscMPIInt rank;
    for (int i = 0; i < 9; i++) x[i] = i - 4, y[i] = 0.9528 + (i % 3) * 1e-16, same[i] = -3.5;
    HessaPlotSeries series[2] = {{x, y, 9, "flat to 1e-16", PETSC_TRUE, PETSC_TRUE}, {x, same, 9, NULL, PETSC_FALSE, PETSC_TRUE}};
    snprintf(flat, sizeof flat, "report_flat_np%d", size);
    PetscCall(CleanFolder(flat));
    PetscCall(HessaReportCheckFolder(PETSC_COMM_WORLD, flat));
    PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
    if (rank == 0) {
      HessaPlotXY(flat, "flat", "flat", "t", "loss", PETSC_FALSE, 1, series, note, sizeof note, &st);
      CHECK(!st.code && !note[0], "flat plot: %s %s", st.msg, note);
      HessaPlotXY(flat, "constant", "constant", "t", "loss", PETSC_FALSE, 1, series + 1, note, sizeof note, &st);
      CHECK(!st.code && !note[0], "constant plot: %s %s", st.msg, note);
    }
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD)); /* rank 0 drew them */
    PetscCall(CheckPNG(flat, "flat.png"));
    PetscCall(CheckPNG(flat, "constant.png"));
  }

  cJSON_Delete(doc_full);
  cJSON_Delete(doc_skip);
  cJSON_Delete(doc_min);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
