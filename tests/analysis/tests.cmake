# Classification on hand-made spectra (pure function: one rank).
hessa_add_c_test(test_classify ${CMAKE_CURRENT_LIST_DIR}/test_classify.c RANKS 1)

# hessa analyze end to end against the worked examples of background.md (analyze_cases.py).
foreach(case toy_saddle toy_valley x2_plus_y4 x2_minus_y4 quadratic_pd quadratic_nd quadratic_index
             teacher_tanh teacher_relu random_mlp bad_conflict bad_output)
  foreach(np 1 3)
    add_test(NAME analyze_${case}_np${np}
             COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/analyze_cases.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} ${np} ${case})
    set_tests_properties(analyze_${case}_np${np} PROPERTIES PROCESSORS ${np} TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;analysis")
  endforeach()
endforeach()
add_test(NAME analyze_ranks
         COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/analyze_cases.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} 1 ranks)
set_tests_properties(analyze_ranks PROPERTIES PROCESSORS 3 TIMEOUT 600 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;analysis")

# Newton at and away from a critical point, the exact and the Hutch++ trace, a refused
# eigensolver (solver_cases.py), on quadratics with closed-form answers.
foreach(case newton_critical newton_noncritical newton_unconverged trace_exact trace_hutchpp eps_refused)
  foreach(np 1 3)
    add_test(NAME analyze_solver_${case}_np${np}
             COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/solver_cases.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} ${np} ${case})
    set_tests_properties(analyze_solver_${case}_np${np} PROPERTIES PROCESSORS ${np} TIMEOUT 120 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;analysis")
  endforeach()
endforeach()
# Known answers beyond background.md (known_answers.py): deep linear networks at critical
# points of known index (a plugin, deep_linear.c), quadratics with small eigenvalues near the
# tolerance at either end, a saddle whose only negative eigenvalue is 1e-7 of the largest,
# spiked spectra; each on the full-spectrum basis and on the extremes (+ SLQ) basis, forced
# by -hessa_analyze_full true / false.
add_library(hessa_deep_linear MODULE ${CMAKE_CURRENT_LIST_DIR}/deep_linear.c)
target_include_directories(hessa_deep_linear PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(hessa_deep_linear PRIVATE m)
foreach(case linear_min linear_saddle linear_wide tiny_negative near_tol_min near_tol_saddle near_tol_max spiked)
  foreach(np 1 2 3)
    add_test(NAME known_${case}_np${np}
             COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/known_answers.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> $<TARGET_FILE:hessa_deep_linear> ${CMAKE_CURRENT_BINARY_DIR} ${np} ${case})
    set_tests_properties(known_${case}_np${np} PROPERTIES PROCESSORS ${np} TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;analysis")
  endforeach()
endforeach()
# report.md and report.json of an SLQ-based analysis show every fraction with one value.
foreach(np 1 2 3)
  add_test(NAME report_fractions_np${np}
           COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/report_fractions.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} ${np})
  set_tests_properties(report_fractions_np${np} PROPERTIES PROCESSORS ${np} TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;analysis")
endforeach()
