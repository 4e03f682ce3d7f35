hessa_add_c_test(test_random ${CMAKE_CURRENT_LIST_DIR}/test_random.c)
hessa_add_c_test(test_errors ${CMAKE_CURRENT_LIST_DIR}/test_errors.c)
hessa_add_c_test(test_streams ${CMAKE_CURRENT_LIST_DIR}/test_streams.c RANKS 1)
# Every writer goes through the core's atomic files: a failing write (injected, or a full
# tmpfs) leaves no file under a final name, and one clear error on every rank.
foreach(case analyze train landscape study tmpfs)
  foreach(np 1 2)
    add_test(NAME write_failure_${case}_np${np}
             COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/write_failure.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} ${np} ${case})
    set_tests_properties(write_failure_${case}_np${np} PROPERTIES PROCESSORS ${np} TIMEOUT 300 SKIP_RETURN_CODE 77
                         ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;core")
  endforeach()
endforeach()
hessa_add_c_test(test_files ${CMAKE_CURRENT_LIST_DIR}/test_files.c RANKS 1 2)
