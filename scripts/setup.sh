#!/bin/bash
# Set up hessa on Debian 12: install the missing Debian packages, configure, build.
# Idempotent; works as root or through sudo. Usage: scripts/setup.sh [build-dir] [cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; shift || true

# Everything hessa, its tests and its benchmarks use, from Debian's archive.
PACKAGES=(
  build-essential cmake pkg-config git bc
  procps                                           # pgrep/ps: the stop, rank-failure and Slurm tests check no process is left
  openmpi-bin libopenmpi-dev                       # MPI
  petsc-dev slepc-dev                              # PETSc/SLEPc 3.18 (with ScaLAPACK, HDF5, YAML)
  libscalapack-openmpi-dev libopenblas-dev         # dense parallel eigensolvers, BLAS
  libelpa-dev                                      # ELPA two-stage eigensolver: the full spectrum (src/spectrum/full.c)
  libhdf5-openmpi-dev zlib1g-dev                   # readers
  libcjson-dev libyaml-dev                         # JSON reports/weights, YAML manifests
  python3-jsonschema                               # validates report.json against docs/report.schema.json in tests
  libplplot-dev plplot-driver-cairo                # plots (PNG/SVG)
  dataset-fashion-mnist                            # the embedded default data set
  python3-numpy python3-scipy python3-torch        # independent references in tests and benchmarks
  clang libclang-rt-14-dev                         # sanitizers and fuzzing
  clang-format                                     # the committed .clang-format, checked by scripts/check-format.sh in the test run
  protobuf-c-compiler libprotobuf-c-dev           # protoc-c generates the ONNX model parser at build time; its runtime library
  libonnx-dev                                      # onnx.proto, the schema the ONNX parser is generated from
  libonnx-testdata                                 # ONNX node conformance cases (tests/onnx)
  python3-onnx                                     # tests write small ONNX models with onnx.helper
  valgrind                                         # memcheck runs of the core MPI tests (tests/valgrind)
  slurmctld slurmd slurm-client munge              # a private Slurm cluster for the job-script tests (tests/slurm)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  for i in 1 2 3; do $SUDO apt-get update -q && break; sleep 5; done
  $SUDO apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
else
  echo "setup: all ${#PACKAGES[@]} Debian packages present"
fi

echo "setup: configuring and building in $BUILD"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHESSA_WERROR=ON "$@" >/dev/null
cmake --build "$BUILD" -j "$(nproc)" 2>&1 | grep -vE '^\[ *[0-9]+%\] (Building|Linking|Built)' || true
test -x "$BUILD/hessa" || { echo "setup: build failed"; exit 1; }
echo "setup: built $BUILD/hessa"
