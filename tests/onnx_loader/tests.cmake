# The ONNX loader apart from the kernels: models written by make_models.py (onnx.helper)
# at test time into the build folder, a mock op table. The loader is MPI-unaware: 1 rank.
hessa_add_c_test(test_onnx_load ${CMAKE_CURRENT_LIST_DIR}/test_onnx_load.c RANKS 1 LABELS onnx
                 ARGS ${CMAKE_CURRENT_LIST_DIR}/make_models.py ${CMAKE_CURRENT_BINARY_DIR}/onnx_load_models)
# ONNX node conformance: every single-node case of Debian's libonnx-testdata whose op hessa
# supports, loaded with its inputs and run forward, against its output at float32 tolerance.
# The list of cases (ran / skipped with the reason) goes to onnx_node_cases.txt.
set(HESSA_ONNX_NODE_DIR /usr/include/onnx/backend/test/data/node)
if(EXISTS ${HESSA_ONNX_NODE_DIR})
  hessa_add_c_test(test_onnx_nodes ${CMAKE_CURRENT_LIST_DIR}/test_onnx_nodes.c RANKS 1 LABELS onnx
                   ARGS ${HESSA_ONNX_NODE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/onnx_node_cases.txt)
  target_include_directories(test_onnx_nodes PRIVATE ${HESSA_PROTO_DIR})
  target_link_libraries(test_onnx_nodes PRIVATE PkgConfig::PROTOBUFC)
  target_compile_options(test_onnx_nodes PRIVATE -Wno-format-truncation) # paths and reasons are cut, not overrun
  # Split at opset 18 (num_outputs, the last part smaller): the cases ONNX 1.13 added, which
  # Debian's testdata (ONNX 1.12) lacks, written by make_split18_cases.py (a fixture).
  add_test(NAME onnx_split18_cases COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/make_split18_cases.py ${CMAKE_CURRENT_BINARY_DIR}/split18_nodes)
  set_tests_properties(onnx_split18_cases PROPERTIES FIXTURES_SETUP onnx_split18_cases TIMEOUT 60 LABELS onnx)
  hessa_add_mpi_test(NAME test_onnx_nodes_split18 COMMAND $<TARGET_FILE:test_onnx_nodes> ${CMAKE_CURRENT_BINARY_DIR}/split18_nodes ${CMAKE_CURRENT_BINARY_DIR}/onnx_split18_cases.txt Split RANKS 1 LABELS onnx)
  set_tests_properties(test_onnx_nodes_split18_np1 PROPERTIES FIXTURES_REQUIRED onnx_split18_cases)
else()
  message(STATUS "${HESSA_ONNX_NODE_DIR} not found: no ONNX node conformance test (scripts/setup.sh installs libonnx-testdata)")
endif()
