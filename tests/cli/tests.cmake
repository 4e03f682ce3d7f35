# The command line: -help prints and exits 0 without computing or writing (within 2 s);
# every YAML options file of jobs/ passes hessa's option validation.
add_test(NAME cli_help COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/help.py $<TARGET_FILE:hessa-cli>)
set_tests_properties(cli_help PROPERTIES TIMEOUT 120 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS cli)
add_test(NAME cli_job_options COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/job_options.py $<TARGET_FILE:hessa-cli> ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
set_tests_properties(cli_job_options PROPERTIES TIMEOUT 120 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS cli)
