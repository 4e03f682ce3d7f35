/* Closest spelling among known names, for "did you mean" hints. */
#include <hessa/core.h>
#include <string.h>

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions), capped
 * at 64 characters: names longer than that are compared by their first 64. */
static int EditDistance(const char *a, const char *b)
{
  int la = (int)strnlen(a, 64), lb = (int)strnlen(b, 64);
  int d[65][65];

  for (int i = 0; i <= la; i++) d[i][0] = i;
  for (int j = 0; j <= lb; j++) d[0][j] = j;
  for (int i = 1; i <= la; i++)
    for (int j = 1; j <= lb; j++) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1, best = d[i - 1][j - 1] + cost;
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best) best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb];
}

/* HessaClosestName - not collective. See core.h. */
const char *HessaClosestName(const char *name, const char *const known[])
{
  const char *best      = NULL;
  int         best_dist = 1 << 30, limit = (int)strlen(name) / 3;

  if (limit < 2) limit = 2;
  for (int i = 0; known[i]; i++) {
    int dist = EditDistance(name, known[i]);
    if (dist < best_dist) {
      best_dist = dist;
      best      = known[i];
    }
  }
  return best_dist <= limit ? best : NULL;
}
