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
