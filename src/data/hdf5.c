/* HDF5 reader: rows [first, first+count) of one data set, converted by HDF5 to double.
 *
 * With more than one rank the file is opened with the MPI-IO driver and the rows
 * are read with one collective hyperslab read, so all ranks of comm must call the
 * reader. Every local check that could stop a rank early is agreed on
 * (HessaStatusAgree) before the collective calls, so no rank enters one alone.
 * HDF5's own error printing is switched off; its innermost message is quoted in ours. */
#include "data_impl.h"
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static herr_t KeepInnermost(unsigned n, const H5E_error2_t *e, void *ctx)
{
  char *text = ctx;
  if (!text[0] && e->desc && e->desc[0]) snprintf(text, 256, "%s", e->desc);
  return 0;
}

/* The most specific message on HDF5's error stack (call right after the failure). */
static void HDF5Why(char text[256])
{
  text[0] = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, KeepInnermost, text);
  if (!text[0]) snprintf(text, 256, "no detail");
}

/* Not collective: the file exists, is not empty and carries the HDF5 signature (at
 * offset 0, 512, 1024, ... when there is a user block). */
static void CheckFile(const char *path, HessaStatus *st)
{
  static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  struct stat                sb;
  FILE                      *f;
  int                        found = 0;

  /* a regular file only: a FIFO or a device could block the read forever */
  if (!(f = HessaOpenRegularFile(path, "file", "an HDF5 file", st))) return;
  if (fstat(fileno(f), &sb) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot open: %s", path, strerror(errno));
    fclose(f);
    return;
  }
  for (uint64_t off = 0; !found && off + 8 <= (uint64_t)sb.st_size; off = off ? 2 * off : 512) {
    unsigned char buf[8];
    found = fseeko(f, (off_t)off, SEEK_SET) == 0 && fread(buf, 1, 8, f) == 8 && !memcmp(buf, signature, 8);
  }
  fclose(f);
  if (sb.st_size == 0)
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': empty file (0 bytes), expected an HDF5 file", path);
  else if (!found)
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': not an HDF5 file: no HDF5 signature (89 48 44 46 0d 0a 1a 0a) found in its %lld bytes", path, (long long)sb.st_size);
}

typedef struct {
  char   list[256];
  size_t used;
} NameList;

static herr_t AddName(hid_t group, const char *name, const H5L_info_t *info, void *ctx)
{
  NameList *names = ctx;
  if (names->used < sizeof names->list) names->used += (size_t)snprintf(names->list + names->used, sizeof names->list - names->used, "%s%s", names->used ? ", " : "", name);
  return 0;
}

/* Fill out's shape and dtype from the data set; returns 0 on success. */
static int DescribeDataSet(const char *path, const char *dataset, hid_t dset, HessaArray *out, HessaStatus *st)
{
  hid_t       type = H5Dget_type(dset), space = H5Dget_space(dset), dcpl = H5Dget_create_plist(dset);
  H5T_class_t cls = H5Tget_class(type);
  HessaDType  t   = {0, (int)H5Tget_size(type), 0};
  hsize_t     dims[8];
  int         ndim     = H5Sget_simple_extent_ndims(space);
  uint64_t    elements = 1, bytes = 0, shape[8];
  char        shape_str[160];
  int         ok = 0;

  if (cls == H5T_FLOAT)
    t.kind = 'f';
  else if (cls == H5T_INTEGER)
    t.kind = H5Tget_sign(type) == H5T_SGN_NONE ? 'u' : 'i';
  if (!t.kind || (t.kind == 'f' && t.size != 4 && t.size != 8) || t.size > 8) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': data set '%s' has an unsupported type (class %d, %d bytes); hessa reads integer and float32/float64 data sets", path, dataset, (int)cls, t.size);
    goto done;
  }
  if (ndim < 1 || ndim > 4) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': data set '%s' has %d dimensions; hessa reads 1 to 4", path, dataset, ndim);
    goto done;
  }
  H5Sget_simple_extent_dims(space, dims, NULL);
  for (int d = 0; d < ndim; d++) {
    shape[d] = (uint64_t)dims[d];
    if (!HessaSizeMul(elements, shape[d], &elements)) elements = UINT64_MAX;
  }
  HessaShapeString(ndim, shape, shape_str, sizeof shape_str);
  if (elements == UINT64_MAX || !HessaSizeMul(elements, (uint64_t)t.size, &bytes)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': data set '%s' claims shape %s of %s, more than 2^62 bytes", path, dataset, shape_str, HessaDTypeName(&t));
    goto done;
  }
  /* A contiguous data set must have all its bytes in the file, inside the file; a compact
   * one in its header (HDF5 1.10 reads past its buffers when these claims are false). */
  if (H5Pget_layout(dcpl) == H5D_CONTIGUOUS && bytes > 0) {
    haddr_t offset = H5Dget_offset(dset);
    hsize_t size   = 0;
    hid_t   file   = H5Iget_file_id(dset);
    H5Fget_filesize(file, &size);
    H5Fclose(file);
    if (offset == HADDR_UNDEF || (uint64_t)offset > (uint64_t)size || bytes > (uint64_t)size - (uint64_t)offset) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': data set '%s' has shape %s of %s (%llu bytes of data) but the file (%llu bytes) does not hold them: truncated or corrupt", path, dataset, shape_str, HessaDTypeName(&t), (unsigned long long)bytes,
                     (unsigned long long)size);
      goto done;
    }
  }
  if ((H5Pget_layout(dcpl) == H5D_CONTIGUOUS || H5Pget_layout(dcpl) == H5D_COMPACT) && (uint64_t)H5Dget_storage_size(dset) < bytes) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': data set '%s' has shape %s of %s (%llu bytes of data) but stores %llu bytes", path, dataset, shape_str, HessaDTypeName(&t), (unsigned long long)bytes, (unsigned long long)H5Dget_storage_size(dset));
    goto done;
  }
  /* A chunked data set without filters stores every byte; with filters (deflate) the
   * data can be at most about 1032 times what is stored: a claim beyond that is a
   * corrupt header, not data to allocate for. */
  if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
    uint64_t stored  = (uint64_t)H5Dget_storage_size(dset), bound;
    int      filters = H5Pget_nfilters(dcpl);
    if (!HessaSizeMul(stored, filters > 0 ? 1100 : 1, &bound) || bytes > bound) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': data set '%s' has shape %s of %s (%llu bytes of data) but stores %llu bytes%s: corrupt or unwritten", path, dataset, shape_str, HessaDTypeName(&t), (unsigned long long)bytes,
                     (unsigned long long)stored, filters > 0 ? " (compressed data expand at most about 1000 times)" : "");
      goto done;
    }
  }
  if ((out->row_length = HessaRowLength(ndim, shape, t.size)) < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': data set '%s' claims shape %s of %s, a row of more than 2^62 bytes", path, dataset, shape_str, HessaDTypeName(&t));
    goto done;
  }
  out->ndim = ndim;
  for (int d = 0; d < ndim; d++) out->shape[d] = (int64_t)shape[d];
  out->rows       = (int64_t)shape[0];
  out->is_integer = t.kind != 'f';
  snprintf(out->dtype, sizeof out->dtype, "%s", HessaDTypeName(&t));
  ok = 1;
done:
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Tclose(type);
  return ok ? 0 : -1;
}

/* HessaReadHDF5 - collective on comm (when comm has more than one rank). Reads rows
 * [first, first+count) of data set `dataset` (count < 0: to the end; count == 0:
 * nothing, but the rank still takes part) into out, converted to double. On a
 * fault fills st (the same message on every rank for faults found before the
 * read) and returns with nothing allocated. */
void HessaReadHDF5(MPI_Comm comm, const char *path, const char *dataset, int64_t first, int64_t count, HessaArray *out, HessaStatus *st)
{
  PetscMPIInt size;
  hid_t       fapl, file = -1, dset = -1, filespace = -1, memspace = -1, dxpl = -1;
  char        why[256];
  double      dummy;

  memset(out, 0, sizeof *out);
  MPI_Comm_size(comm, &size);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  CheckFile(path, st);
  if (size > 1) HessaStatusAgree(comm, st);
  if (st->code) return;

  fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (size > 1) H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  if (file < 0) {
    HDF5Why(why);
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot open as HDF5 (HDF5: %s)", path, why);
  }
  H5Pclose(fapl);
  if (size > 1) HessaStatusAgree(comm, st);
  if (st->code) goto done;

  if (H5Lexists(file, dataset, H5P_DEFAULT) <= 0 || (dset = H5Dopen2(file, dataset, H5P_DEFAULT)) < 0) {
    NameList names = {{0}, 0};
    H5Literate(file, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, AddName, &names);
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': no data set '%s' (the file's top level has: %s)", path, dataset, names.used ? names.list : "nothing");
  } else if (DescribeDataSet(path, dataset, dset, out, st) == 0) {
    HessaArraySetRange(path, out, first, count, st);
  }
  if (!st->code && out->count > 0) {
    uint64_t n_values = (uint64_t)out->count * (uint64_t)out->row_length, bytes;
    if (!HessaSizeMul(n_values, sizeof(double), &bytes) || !(out->values = malloc(bytes)))
      HessaStatusSet(st, PETSC_ERR_MEM, "file '%s': cannot allocate %llu bytes for rows [%lld, %lld) of data set '%s'", path, (unsigned long long)n_values * sizeof(double), (long long)out->first, (long long)(out->first + out->count), dataset);
  }
  if (size > 1) HessaStatusAgree(comm, st);
  if (st->code || (size == 1 && out->count == 0)) goto done;

  /* One hyperslab per rank: rows [first, first+count), all columns; an empty shard
   * selects nothing but still joins the collective read. */
  filespace = H5Dget_space(dset);
  if (out->count > 0) {
    hsize_t start[4] = {0, 0, 0, 0}, block[4];
    for (int d = 0; d < out->ndim; d++) block[d] = (hsize_t)out->shape[d];
    start[0] = (hsize_t)out->first;
    block[0] = (hsize_t)out->count;
    H5Sselect_hyperslab(filespace, H5S_SELECT_SET, start, NULL, block, NULL);
    memspace = H5Screate_simple(out->ndim, block, NULL);
  } else {
    hsize_t one = 1;
    H5Sselect_none(filespace);
    memspace = H5Screate_simple(1, &one, NULL);
    H5Sselect_none(memspace);
  }
  dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (size > 1) H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  if (H5Dread(dset, H5T_NATIVE_DOUBLE, memspace, filespace, dxpl, out->values ? out->values : &dummy) < 0) {
    HDF5Why(why);
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': reading rows [%lld, %lld) of data set '%s' failed (HDF5: %s)", path, (long long)out->first, (long long)(out->first + out->count), dataset, why);
  }
done:
  if (dxpl >= 0) H5Pclose(dxpl);
  if (memspace >= 0) H5Sclose(memspace);
  if (filespace >= 0) H5Sclose(filespace);
  if (dset >= 0) H5Dclose(dset);
  if (file >= 0) H5Fclose(file);
  if (st->code)
    HessaArrayFree(out);
  else
    HessaArrayCheckFinite(path, out, st);
}
