# Spectrum layer: extremes, full spectrum, SLQ density and trace against closed forms
# (quadratic with a prescribed spectrum), the same answers at 1, 2 and 3 ranks.
hessa_add_c_test(test_spectrum_quadratic ${CMAKE_CURRENT_LIST_DIR}/test_spectrum_quadratic.c TIMEOUT 300)

# Every dense eigensolver of the full spectrum (ELPA, pdsyevd, pdsyevr, pdsyev; values and
# vectors) against prescribed spectra (n = 601 with a cluster, n = 5); the memory budget.
hessa_add_c_test(test_full_solvers ${CMAKE_CURRENT_LIST_DIR}/test_full_solvers.c TIMEOUT 120 ARGS -quiet)

# Bad input through the real `hessa spectrum` on 1 and 3 ranks: every case of bad_cases.txt
# must end all ranks with one clear message and a non-zero exit, never a hang.
set(HESSA_SPECTRUM_BAD_CASES ${CMAKE_CURRENT_LIST_DIR}/bad_cases.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${HESSA_SPECTRUM_BAD_CASES})
file(STRINGS ${HESSA_SPECTRUM_BAD_CASES} hessa_spectrum_bad_lines REGEX "^[A-Za-z0-9_]+ *\\|")
foreach(line ${hessa_spectrum_bad_lines})
  string(REGEX REPLACE "^([A-Za-z0-9_]+).*" "\\1" case "${line}")
  foreach(np 1 3)
    add_test(NAME spectrum_bad_${case}_np${np}
             COMMAND ${CMAKE_CURRENT_LIST_DIR}/bad_input.sh ${HESSA_SPECTRUM_BAD_CASES} ${case} ${np} ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli>)
    set_tests_properties(spectrum_bad_${case}_np${np} PROPERTIES PROCESSORS ${np} TIMEOUT 40 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "bad-input;mpi;spectrum")
  endforeach()
endforeach()

# MLP Hessian (blobs in 20 dimensions, 300 samples, 20-24-16-4 tanh, n = 972): SLEPc
# extremes agree with PyTorch + numpy eigvalsh to 1e-8 |H|, the full spectrum by ELPA and by each
# ScaLAPACK fallback (pdsyevd, pdsyevr, pdsyev) to 1e-10 |H| (four assemblies: 600 s limit).
hessa_add_c_test(test_spectrum_mlp ${CMAKE_CURRENT_LIST_DIR}/test_spectrum_mlp.c TIMEOUT 600
                 ARGS -script ${CMAKE_CURRENT_LIST_DIR}/torch_hessian.py -quiet
                      -hessa_data_source blobs -hessa_data_samples 300 -hessa_data_dim 20 -hessa_data_classes 4
                      -hessa_mlp_hidden 24,16 -hessa_mlp_activation tanh -hessa_model_seed 3)

# Smoke tests of `hessa spectrum` (exit status 0): every phase with CSV output on a
# quadratic, and the defaults on a 2-parameter objective (k and m shrink to fit n).
foreach(np 1 3) # one CSV prefix per rank count: the runs may overlap
  hessa_add_mpi_test(NAME spectrum_cli_quadratic_csv${np}
                     COMMAND $<TARGET_FILE:hessa-cli> spectrum -hessa_model quadratic -hessa_model_dim 300 -hessa_spectrum_extremes 3
                             -hessa_spectrum_full -hessa_spectrum_density -hessa_spectrum_trace -hessa_spectrum_csv spectrum_cli_np${np} -quiet
                     RANKS ${np} LABELS spectrum)
endforeach()
hessa_add_mpi_test(NAME spectrum_cli_small_n
                   COMMAND $<TARGET_FILE:hessa-cli> spectrum -hessa_model x2-y4 -hessa_model_point 0.5,0.3 -quiet
                   RANKS 1 2 LABELS spectrum)

# Every accepted -hessa_eps_type (krylovschur, arpack) against the full spectrum at both ends
# of two quadratics (indefinite; positive with a cluster at zero); every other type refused.
hessa_add_c_test(test_eps_types ${CMAKE_CURRENT_LIST_DIR}/test_eps_types.c TIMEOUT 120)

# Honest error bars: over many seeds, Hutchinson's trace and SLQ's negative fraction of the
# dense-eigenvector quadratic lie within 1 and 3 standard errors as often as they should.
hessa_add_c_test(test_error_bars ${CMAKE_CURRENT_LIST_DIR}/test_error_bars.c RANKS 1 3 TIMEOUT 120 ARGS -quiet)

# hessa analyze takes the exact full spectrum exactly when it fits the memory budget: a
# quadratic (n = 1000) 1 byte below and 1 byte above the need hessa computes: estimates
# below; above, basis full_spectrum, the prescribed eigenvalues and counts, ends equal to
# SLEPc's extremes. About 5 s.
add_test(NAME analyze_full_threshold_np2
         COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/analyze_full_threshold.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} 2)
set_tests_properties(analyze_full_threshold_np2 PROPERTIES PROCESSORS 2 TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;spectrum;analysis")
# The same rule on the embedded default (n = 12730) at the default budget: basis
# full_spectrum, counts 0 / 0 / 12730, ends equal to SLEPc's extremes. Label long: about
# 100 s on 2 ranks (98 s of it the full spectrum), so scripts/test.sh leaves it out
# (analyze_full_threshold_np2 crosses the same threshold); run it with `ctest -L long`.
add_test(NAME analyze_default_exact_np2
         COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/analyze_default_exact.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} 2)
set_tests_properties(analyze_default_exact_np2 PROPERTIES PROCESSORS 2 TIMEOUT 1200 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;spectrum;analysis;long")

# The progress lines' arithmetic on known inputs: the percentage rounded down (never 100
# before the end), the ETA from the rate measured after set-up (and after a resume's start).
hessa_add_c_test(test_progress ${CMAKE_CURRENT_LIST_DIR}/test_progress.c RANKS 1 TIMEOUT 30 LABELS spectrum)
