# The command line: -help prints and exits 0 without computing or writing (within 2 s);
# every YAML options file of jobs/ passes hessa's option validation.
add_test(NAME cli_help COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/help.py $<TARGET_FILE:hessa-cli>)
set_tests_properties(cli_help PROPERTIES TIMEOUT 120 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS cli)
add_test(NAME cli_job_options COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/job_options.py $<TARGET_FILE:hessa-cli> ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
set_tests_properties(cli_job_options PROPERTIES TIMEOUT 120 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS cli)
# report.md and stdout free of the text glitches of issue 16: the embedded default at 2 ranks
# (about 15 s on a quiet 2-core machine), the linear toy's saddle and the monkey saddle.
add_test(NAME cli_report_text COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/report_text.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli>)
set_tests_properties(cli_report_text PROPERTIES PROCESSORS 2 TIMEOUT 900 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "cli;mpi")
# hessa spectrum writes analyze's report set; eigenvalues.csv has one format for both commands.
add_test(NAME cli_spectrum_report COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/spectrum_report.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli>)
set_tests_properties(cli_spectrum_report PROPERTIES PROCESSORS 2 TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "cli;mpi")
