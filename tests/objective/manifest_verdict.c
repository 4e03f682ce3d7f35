/* For tests/objective/manifest_schema.py: the verdict of HessaWeightsValidateManifest on
 * each model.json given, one line per file: "ok" or "bad<TAB>message". Not collective. */
#include <hessa/objective.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    FILE       *f = fopen(argv[i], "rb");
    char       *text;
    long        size;
    cJSON      *root;
    HessaStatus st = {0};
    if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) return 2;
    if (!(text = malloc((size_t)size + 1)) || fread(text, 1, (size_t)size, f) != (size_t)size) return 2;
    fclose(f);
    root = cJSON_ParseWithLength(text, (size_t)size);
    if (!root)
      printf("bad\tnot valid JSON\n");
    else if (HessaWeightsValidateManifest(root, argv[i], &st))
      printf("bad\t%s\n", st.msg);
    else
      printf("ok\n");
    cJSON_Delete(root);
    free(text);
  }
  return 0;
}
