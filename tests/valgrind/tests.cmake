# Memcheck runs of the core MPI tests and of a few hessa commands, one valgrind per rank
# (run_valgrind.sh): every rank must exit with the expected status, report no memcheck
# error and no definite leak. Suppressions: Debian's openmpi-valgrind.supp and
# hessa.supp (Open MPI / PMIx / libevent internals only). Label "valgrind": the
# sanitizer run of scripts/test.sh leaves them out. See docs/valgrind.md.
find_program(HESSA_VALGRIND valgrind)
if(NOT HESSA_VALGRIND)
  message(STATUS "valgrind not found: no valgrind tests (scripts/setup.sh installs it)")
  return()
endif()

# hessa_add_valgrind_test(NAME name NP np [STATUS s] [TIMEOUT t] COMMAND exe args...)
function(hessa_add_valgrind_test)
  cmake_parse_arguments(V "" "NAME;NP;STATUS;TIMEOUT" "COMMAND" ${ARGN})
  if(NOT V_STATUS)
    set(V_STATUS 0)
  endif()
  if(NOT V_TIMEOUT)
    set(V_TIMEOUT 300)
  endif()
  add_test(NAME valgrind_${V_NAME}_np${V_NP}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_valgrind.sh ${V_STATUS} ${V_NP} ${MPIEXEC_EXECUTABLE}
                   ${CMAKE_CURRENT_LIST_DIR}/hessa.supp -- ${V_COMMAND}
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(valgrind_${V_NAME}_np${V_NP} PROPERTIES PROCESSORS ${V_NP} TIMEOUT ${V_TIMEOUT}
                       ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;valgrind")
endfunction()

foreach(np 1 2)
  hessa_add_valgrind_test(NAME test_random NP ${np} COMMAND $<TARGET_FILE:test_random>)
  hessa_add_valgrind_test(NAME test_errors NP ${np} COMMAND $<TARGET_FILE:test_errors>)
endforeach()
# the core's atomic files, appends and text buffer
hessa_add_valgrind_test(NAME test_files NP 1 COMMAND $<TARGET_FILE:test_files>)
hessa_add_valgrind_test(NAME test_operator NP 2 TIMEOUT 900 COMMAND $<TARGET_FILE:test_operator>)
hessa_add_valgrind_test(NAME test_mlp_fd NP 1 COMMAND $<TARGET_FILE:test_mlp_fd>)
hessa_add_valgrind_test(NAME check_linear_toy NP 2
                        COMMAND $<TARGET_FILE:hessa-cli> check -hessa_model linear-toy -hessa_model_point 0.3,-0.7)
hessa_add_valgrind_test(NAME check_mlp NP 2
                        COMMAND $<TARGET_FILE:hessa-cli> check -hessa_data_limit 50 -hessa_mlp_hidden 4)
# An error path: a missing data file fails on every rank with status 1, and what was
# set up before the error is freed.
hessa_add_valgrind_test(NAME info_missing_npy NP 2 STATUS 1
                        COMMAND $<TARGET_FILE:hessa-cli> info -hessa_data_source npy
                                -hessa_data_features /nonexistent.npy -hessa_data_labels /nonexistent.npy)
# A study whose points fail at different depths of the pipeline (study_failing.sh): each
# failing point frees what it set up and the study goes on; 2 ranks = a collector and a worker.
add_test(NAME valgrind_study_failing_np2
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/study_failing.sh 2 ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_SOURCE_DIR}
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(valgrind_study_failing_np2 PROPERTIES PROCESSORS 2 TIMEOUT 600
                     ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;valgrind")
