# Objective plugins (hessa/plugin.h): an example plugin built out of tree against the
# installed hessa, then analyze, train and study on it at 1, 2 and 3 ranks against numpy.
set(HESSA_PLUGIN_WORK ${CMAKE_CURRENT_BINARY_DIR}/plugin)
file(MAKE_DIRECTORY ${HESSA_PLUGIN_WORK})
add_test(NAME plugin_build
         COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/plugin_cases.py ${MPIEXEC_EXECUTABLE} ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${HESSA_PLUGIN_WORK} build)
set_tests_properties(plugin_build PROPERTIES FIXTURES_SETUP hessa_plugin TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "plugin")
foreach(np 1 2 3)
  add_test(NAME plugin_np${np}
           COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/plugin_cases.py ${MPIEXEC_EXECUTABLE} ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${HESSA_PLUGIN_WORK} ${np})
  set_tests_properties(plugin_np${np} PROPERTIES FIXTURES_REQUIRED hessa_plugin PROCESSORS ${np} TIMEOUT 300
                       ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;plugin")
endforeach()
