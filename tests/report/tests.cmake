# Report layer: files written by rank 0 only, atomically, with the right contents; the
# JSON Schema accepts the reports (analyze's and spectrum's) and rejects broken ones; folder
# errors on every rank.
hessa_add_c_test(test_report ${CMAKE_CURRENT_LIST_DIR}/test_report.c RANKS 1 2 3)
hessa_add_c_test(test_report_folder ${CMAKE_CURRENT_LIST_DIR}/test_report_folder.c RANKS 1 3)
# The schema test reads the reports test_report_np1 wrote and those of `hessa spectrum`
# (complete, Hutch++ only, stopped) and of a stopped `hessa analyze` (spectrum_reports.sh,
# 2 ranks, about 10 s): fixtures,
# so -R report_schema runs them first.
set_tests_properties(test_report_np1 PROPERTIES FIXTURES_SETUP report_files)
add_test(NAME report_spectrum_files
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/spectrum_reports.sh ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(report_spectrum_files PROPERTIES FIXTURES_SETUP report_files PROCESSORS 2 TIMEOUT 120 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "report;mpi")
add_test(NAME report_schema
         COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/validate_report.py ${CMAKE_SOURCE_DIR}/docs/report.schema.json
                 ${CMAKE_CURRENT_BINARY_DIR}/report_full_np1/report.json ${CMAKE_CURRENT_BINARY_DIR}/report_skip_np1/report.json
                 ${CMAKE_CURRENT_BINARY_DIR}/report_min_np1/report.json ${CMAKE_CURRENT_BINARY_DIR}/spectrum_complete/report.json
                 ${CMAKE_CURRENT_BINARY_DIR}/spectrum_hutchpp/report.json ${CMAKE_CURRENT_BINARY_DIR}/spectrum_partial/report.json
                 ${CMAKE_CURRENT_BINARY_DIR}/analyze_partial/report.json)
set_tests_properties(report_schema PROPERTIES FIXTURES_REQUIRED report_files TIMEOUT 60 LABELS report)
# Every kind of plot: data inside the axes, no legend over data, positions as the data say
# (the plotting style's geometry record, HESSA_PLOT_GEOMETRY). Plots are drawn by one rank.
hessa_add_c_test(test_plots ${CMAKE_CURRENT_LIST_DIR}/test_plots.c RANKS 1 LABELS report)
# The same geometry sidecars through tools/check_plot_geometry.py (what a user runs on any
# report folder): data inside the axes, legends clear, integer axes labelled 1, 2, 3.
set_tests_properties(test_plots_np1 PROPERTIES FIXTURES_SETUP plot_files)
add_test(NAME plots_geometry_tool
         COMMAND ${HESSA_PYTHON} ${CMAKE_SOURCE_DIR}/tools/check_plot_geometry.py ${CMAKE_CURRENT_BINARY_DIR}/plots_check
                 ${CMAKE_CURRENT_BINARY_DIR}/plots_check_minimum ${CMAKE_CURRENT_BINARY_DIR}/plots_check_saddle)
set_tests_properties(plots_geometry_tool PROPERTIES FIXTURES_REQUIRED plot_files TIMEOUT 60 LABELS report)
