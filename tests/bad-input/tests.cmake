# Bad-input tests: every case of cases.txt through the real `hessa info`, on 1 and 3
# ranks, by run_case.py (exit status, message, printed once, within 10 s). The case
# names come from run_case.py --list (the table's recipes hold ';' and '[', which
# CMake's list handling would mangle).
set(HESSA_BAD_INPUT_CASES ${CMAKE_CURRENT_LIST_DIR}/cases.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${HESSA_BAD_INPUT_CASES} ${CMAKE_CURRENT_LIST_DIR}/run_case.py)
execute_process(COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_case.py --list ${HESSA_BAD_INPUT_CASES}
                OUTPUT_VARIABLE hessa_bad_input_names RESULT_VARIABLE hessa_bad_input_result)
if(NOT hessa_bad_input_result EQUAL 0)
  message(FATAL_ERROR "tests/bad-input/cases.txt: run_case.py --list failed")
endif()
foreach(case ${hessa_bad_input_names})
  foreach(np 1 3)
    add_test(NAME bad_input_${case}_np${np}
             COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_case.py --cases ${HESSA_BAD_INPUT_CASES} --case ${case} --np ${np}
                     --mpiexec ${MPIEXEC_EXECUTABLE} --hessa $<TARGET_FILE:hessa-cli> --make-hdf5 $<TARGET_FILE:make_hdf5>
                     --workdir ${CMAKE_CURRENT_BINARY_DIR}/bad-input)
    # run_case.py enforces the 10 s limit itself; the ctest timeout is a backstop.
    # PROCESSORS 1 at 3 ranks too: a case is start-up and one collective failure, 0.6-0.8 s of
    # CPU over its 0.9 s alone (measured over 22 cases), so holding both cores left one idle;
    # side by side with another test, 22 cases took 23-29 s instead of 29-42 s (2 cores, loaded)
    set_tests_properties(bad_input_${case}_np${np} PROPERTIES PROCESSORS 1 TIMEOUT 30 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "bad-input;mpi")
  endforeach()
endforeach()
