# Landscape scans: HessaScanRun against independent answers (checkpoint losses, closed forms
# on the quadratic, filter norms, grouping), then the real `hessa landscape` against PyTorch
# and on bad input, at 1, 2 and 3 ranks.
hessa_add_c_test(test_landscape_scan ${CMAKE_CURRENT_LIST_DIR}/test_landscape_scan.c TIMEOUT 240 LABELS landscape)
foreach(np 1 2 3)
  add_test(NAME landscape_cli_np${np}
           COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/landscape_cli.py ${MPIEXEC_EXECUTABLE} ${np} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(landscape_cli_np${np} PROPERTIES PROCESSORS ${np} TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "landscape;mpi;bad-input")
endforeach()
